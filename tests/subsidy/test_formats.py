"""How amounts, rates, tax numbers and dates are written for people."""

import datetime as dt
from decimal import Decimal

import pytest

from subsidy import formats


@pytest.mark.parametrize(
    ("amount", "text"),
    [(152_125_000, "Rp 152.125.000"), (0, "Rp 0"), (999, "Rp 999"), (-5_000, "-Rp 5.000")],
)
def test_rupiah_has_dots_between_thousands(amount, text):
    assert formats.rupiah(amount) == text


@pytest.mark.parametrize(
    ("rate", "text"),
    [("0.4000", "40%"), ("0.2500", "25%"), ("0.1250", "12,5%"), ("1", "100%"), ("0.0001", "0,01%")],
)
def test_percent_drops_trailing_zeros(rate, text):
    assert formats.percent(Decimal(rate)) == text


def test_npwp_of_15_digits_is_punctuated_and_16_digits_stay_as_they_are():
    assert formats.npwp("012345678901000") == "01.234.567.8-901.000"
    assert formats.npwp("3310012345678901") == "3310012345678901"


def test_date_names_the_month_in_the_language():
    day = dt.date(2026, 12, 2)
    assert formats.date_id(day) == "2 Desember 2026"
    assert formats.date_id(day, "en") == "2 December 2026"
    assert formats.date_id(dt.date(2027, 8, 17), "id") == "17 Agustus 2027"
