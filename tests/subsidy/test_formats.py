import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from subsidy import formats


def test_rupiah_groups_thousands_with_dots():
    assert formats.rupiah(152_125_000) == "Rp 152.125.000"


def test_rupiah_of_small_and_negative_amounts():
    assert formats.rupiah(0) == "Rp 0"
    assert formats.rupiah(999) == "Rp 999"
    assert formats.rupiah(-5_000) == "-Rp 5.000"


def test_rupiah_refuses_a_float():
    with pytest.raises(TypeError):
        formats.rupiah(1.5)


def test_percent_of_a_whole_rate():
    assert formats.percent(Decimal("0.4000")) == "40%"
    assert formats.percent(Decimal("1")) == "100%"


def test_percent_of_a_fractional_rate_uses_a_decimal_comma():
    assert formats.percent(Decimal("0.1250")) == "12,5%"
    assert formats.percent(Decimal("0.0005")) == "0,05%"


def test_percent_refuses_a_float():
    with pytest.raises(TypeError):
        formats.percent(0.4)


def test_npwp_of_15_digits():
    assert formats.npwp("012345678901234") == "01.234.567.8-901.234"


def test_npwp_keeps_only_digits_before_grouping():
    assert formats.npwp("01.234.567.8-901.234") == "01.234.567.8-901.234"


def test_npwp_of_16_digits_in_groups_of_four():
    assert formats.npwp("3201234567890123") == "3201 2345 6789 0123"


def test_npwp_of_another_length_is_left_as_typed():
    assert formats.npwp("123") == "123"
    assert formats.npwp("") == ""


def test_long_date_in_indonesian_and_english():
    day = dt.date(2026, 12, 2)
    assert formats.long_date(day, "id") == "2 Desember 2026"
    assert formats.long_date(day, "en") == "2 December 2026"
    assert formats.long_date(None, "id") == ""


def test_long_datetime_is_in_jakarta_time():
    moment = dt.datetime(2026, 12, 1, 20, 30, tzinfo=dt.UTC)  # 03:30 next day in Jakarta
    assert formats.long_datetime(moment, "id") == "2 Desember 2026 03.30 WIB"
    assert formats.long_datetime(moment, "en") == "2 December 2026 03:30 WIB"


def test_long_date_of_a_datetime_takes_the_jakarta_day():
    moment = dt.datetime(2026, 12, 1, 20, 30, tzinfo=dt.UTC)
    assert formats.long_date(moment, "id") == "2 Desember 2026"


def _render(text: str, **context: object) -> str:
    return Template("{% load formats %}" + text).render(Context(context))


def test_template_filters_call_the_formats():
    html = _render(
        "{{ amount|rupiah }} {{ rate|percent }} {{ number|npwp }}",
        amount=152_125_000,
        rate=Decimal("0.4000"),
        number="012345678901234",
    )
    assert html == "Rp 152.125.000 40% 01.234.567.8-901.234"


def test_date_filter_follows_the_active_language():
    day = dt.date(2026, 12, 2)
    with translation.override("en"):
        assert _render("{{ day|long_date }}", day=day) == "2 December 2026"
    with translation.override("id"):
        assert _render("{{ day|long_date }}", day=day) == "2 Desember 2026"


def test_percent_filter_reads_the_api_rate_text():
    assert _render("{{ rate|percent }}", rate="0.2500") == "25%"
