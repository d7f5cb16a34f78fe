"""Tests of the pure refund rules (subsidy/rules.py): no database, no Django."""

import json
import math
import random
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subsidy.engine import rules
from subsidy.engine.rules import (
    BANK_PAYMENT_METHODS,
    BELOW_MINIMUM,
    BESAR,
    BLOCKING_CODES,
    COMPANY_NOT_IKM,
    DOMESTIC,
    DUPLICATE_INVOICE,
    DUPLICATE_SERIAL,
    IMPORTED,
    KBLI_NOT_MANUFACTURING,
    KECIL,
    MENENGAH,
    NO_ELIGIBLE_ITEMS,
    NOT_INSTALLED,
    NOT_NEW,
    PARTICIPATION_LIMIT_REACHED,
    PAYMENT_NOT_VIA_BANK,
    PURCHASE_OUTSIDE_WINDOW,
    Claim,
    CompanyFacts,
    Finding,
    ItemFacts,
    ProgrammeTerms,
    company_scale,
    compute,
    digits_only,
    invoice_key,
    is_manufacturing_kbli,
    item_discount,
    item_exclusions,
    item_rate,
    normalize_reference,
    rate_text,
    resolve_claims,
    serial_key,
)

PURCHASE_FROM = date(2025, 8, 1)
PURCHASE_TO = date(2026, 8, 31)
INSTALL_BY = date(2026, 9, 15)
DAY = timedelta(days=1)
T0 = datetime(2026, 4, 10, 9, 0, tzinfo=UTC)

RATES = {
    (KECIL, DOMESTIC): Decimal("0.40"),
    (KECIL, IMPORTED): Decimal("0.25"),
    (MENENGAH, DOMESTIC): Decimal("0.35"),
    (MENENGAH, IMPORTED): Decimal("0.2"),
}


def make_terms(**changes: object) -> ProgrammeTerms:
    """Return the 2026 demo preset, with some settings changed."""
    values = {
        "purchase_from": PURCHASE_FROM,
        "purchase_to": PURCHASE_TO,
        "install_by": INSTALL_BY,
        "rates": RATES,
        "min_refund": 5_000_000,
        "max_refund_per_company": 300_000_000,
        "max_participations": 3,
    }
    values.update(changes)
    return ProgrammeTerms(**values)


def make_company(**changes: object) -> CompanyFacts:
    """Return a small manufacturing company with no earlier participation."""
    values = {"workers": 10, "investment_value": 500_000_000, "kbli": "25110"}
    values["earlier_participations"] = 0
    values.update(changes)
    return CompanyFacts(**values)


def make_item(**changes: object) -> ItemFacts:
    """Return an eligible domestic item of Rp100 million, with some facts changed."""
    values = {
        "id": 1,
        "price": 100_000_000,
        "origin": DOMESTIC,
        "invoice_date": date(2026, 1, 15),
        "is_new": True,
        "installed_on": date(2026, 2, 1),
        "payment_method": "bank_transfer",
    }
    values.update(changes)
    return ItemFacts(**values)


def make_claim(item_id: int, application_id: int, submitted_at: datetime | None, **keys: str):
    """Return a claim on an invoice and a serial (by default both shared: "INV-1", "SN-1")."""
    return Claim(
        item_id=item_id,
        application_id=application_id,
        submitted_at=submitted_at,
        invoice_key=keys.get("invoice", invoice_key("01.234.567.8-901.000", "INV-1")),
        serial_key=keys.get("serial", serial_key("SN-1")),
    )


# --- Company scale ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("workers", "investment_value", "expected"),
    [
        pytest.param(0, 0, KECIL, id="no-workers-no-investment"),
        pytest.param(19, 999_999_999, KECIL, id="19w-just-below-1bn"),
        pytest.param(19, 1_000_000_000, MENENGAH, id="19w-1bn"),
        pytest.param(19, 15_000_000_000, MENENGAH, id="19w-15bn"),
        pytest.param(19, 15_000_000_001, MENENGAH, id="19w-above-15bn"),
        pytest.param(20, 999_999_999, MENENGAH, id="20w-just-below-1bn"),
        pytest.param(20, 1_000_000_000, MENENGAH, id="20w-1bn"),
        pytest.param(20, 15_000_000_000, MENENGAH, id="20w-15bn"),
        pytest.param(20, 15_000_000_001, BESAR, id="20w-above-15bn"),
        pytest.param(5000, 15_000_000_000, MENENGAH, id="many-workers-15bn"),
    ],
)
def test_company_scale_follows_permenperin_64_2016(workers, investment_value, expected):
    assert company_scale(workers, investment_value) == expected


@pytest.mark.parametrize(
    ("workers", "investment_value"),
    [pytest.param(-1, 0, id="negative-workers"), pytest.param(0, -1, id="negative-investment")],
)
def test_company_scale_refuses_negative_values(workers, investment_value):
    with pytest.raises(ValueError, match="non-negative"):
        company_scale(workers, investment_value)


# --- KBLI ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kbli", "expected"),
    [
        pytest.param("09999", False, id="mining-09999"),
        pytest.param("10000", True, id="first-manufacturing-10000"),
        pytest.param("25110", True, id="metal-25110"),
        pytest.param("33999", True, id="last-manufacturing-33999"),
        pytest.param("34000", False, id="first-after-34000"),
        pytest.param("1234", False, id="four-digits"),
        pytest.param("123456", False, id="six-digits"),
        pytest.param("", False, id="empty"),
        pytest.param("1A000", False, id="letter"),
        pytest.param(" 10000", False, id="leading-space"),
        pytest.param("1000\u0661", False, id="arabic-indic-digit"),
    ],
)
def test_is_manufacturing_kbli(kbli, expected):
    assert is_manufacturing_kbli(kbli) is expected


# --- Reference normalisation --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        pytest.param("INV/001", "inv 001", id="invoice-slash-vs-space"),
        pytest.param("XK-77", "xk 77", id="serial-dash-vs-space"),
        pytest.param("  Inv.001 ", "INV001", id="dots-and-padding"),
        pytest.param("STRASSE-1", "straße 1", id="casefold"),
    ],
)
def test_normalize_reference_ignores_case_spaces_and_punctuation(left, right):
    assert normalize_reference(left) == normalize_reference(right)


def test_normalize_reference_keeps_distinct_numbers_apart():
    assert normalize_reference("INV/001") != normalize_reference("INV/0010")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("01.234.567.8-901.000", "012345678901000", id="old-npwp"),
        pytest.param("3201 0123 4567 8901", "3201012345678901", id="nik-npwp"),
        pytest.param("", "", id="empty"),
    ],
)
def test_digits_only(text, expected):
    assert digits_only(text) == expected


def test_invoice_key_compares_npwp_by_digits_and_invoice_normalised():
    assert invoice_key("01.234.567.8-901.000", "INV/001") == "012345678901000|inv001"
    assert invoice_key("012345678901000", "inv 001") == "012345678901000|inv001"


def test_invoice_key_differs_by_supplier():
    assert invoice_key("012345678901000", "INV/001") != invoice_key("012345678901001", "INV/001")


@pytest.mark.parametrize(
    ("npwp", "number"),
    [
        pytest.param("012345678901000", "-/-", id="invoice-number-only-punctuation"),
        pytest.param("--", "INV/001", id="npwp-without-digits"),
    ],
)
def test_invoice_key_is_empty_when_a_part_folds_to_nothing(npwp, number):
    assert invoice_key(npwp, number) == ""


def test_serial_key_is_normalised_reference():
    assert serial_key("XK-77") == serial_key("xk 77") == "xk77"


# --- Item exclusions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("invoice_date", "excluded"),
    [
        pytest.param(PURCHASE_FROM - DAY, True, id="day-before-purchase-from"),
        pytest.param(PURCHASE_FROM, False, id="on-purchase-from"),
        pytest.param(PURCHASE_TO, False, id="on-purchase-to"),
        pytest.param(PURCHASE_TO + DAY, True, id="day-after-purchase-to"),
    ],
)
def test_invoice_date_window_is_inclusive(invoice_date, excluded):
    codes = item_exclusions(make_item(invoice_date=invoice_date), make_terms())
    assert (PURCHASE_OUTSIDE_WINDOW in codes) is excluded


@pytest.mark.parametrize(
    ("installed_on", "excluded"),
    [
        pytest.param(INSTALL_BY - DAY, False, id="day-before-install-by"),
        pytest.param(INSTALL_BY, False, id="on-install-by"),
        pytest.param(INSTALL_BY + DAY, True, id="day-after-install-by"),
        pytest.param(None, True, id="not-installed"),
    ],
)
def test_installation_deadline_is_inclusive(installed_on, excluded):
    codes = item_exclusions(make_item(installed_on=installed_on), make_terms())
    assert (NOT_INSTALLED in codes) is excluded


@pytest.mark.parametrize(
    ("payment_method", "excluded"),
    [
        pytest.param("bank_transfer", False, id="bank_transfer"),
        pytest.param("debit_card", False, id="debit_card"),
        pytest.param("credit_card", False, id="credit_card"),
        pytest.param("giro", False, id="giro"),
        pytest.param("cash", True, id="cash"),
    ],
)
def test_only_bank_payments_count(payment_method, excluded):
    codes = item_exclusions(make_item(payment_method=payment_method), make_terms())
    assert (PAYMENT_NOT_VIA_BANK in codes) is excluded


def test_bank_payment_methods_are_the_four_of_the_domain():
    assert {"bank_transfer", "debit_card", "credit_card", "giro"} == BANK_PAYMENT_METHODS


def test_used_machine_is_excluded():
    assert item_exclusions(make_item(is_new=False), make_terms()) == [NOT_NEW]


def test_eligible_item_has_no_exclusion():
    assert item_exclusions(make_item(), make_terms()) == []


def test_exclusions_come_in_domain_order():
    item = make_item(
        invoice_date=PURCHASE_TO + DAY,
        is_new=False,
        installed_on=None,
        payment_method="cash",
        lost_claims=frozenset({DUPLICATE_SERIAL, DUPLICATE_INVOICE}),
    )
    assert item_exclusions(item, make_terms()) == [
        PURCHASE_OUTSIDE_WINDOW,
        NOT_NEW,
        NOT_INSTALLED,
        PAYMENT_NOT_VIA_BANK,
        DUPLICATE_INVOICE,
        DUPLICATE_SERIAL,
    ]


@pytest.mark.parametrize(
    ("lost", "expected"),
    [
        pytest.param({DUPLICATE_INVOICE}, [DUPLICATE_INVOICE], id="invoice"),
        pytest.param({DUPLICATE_SERIAL}, [DUPLICATE_SERIAL], id="serial"),
    ],
)
def test_lost_claims_exclude_the_item(lost, expected):
    assert item_exclusions(make_item(lost_claims=frozenset(lost)), make_terms()) == expected


def test_unknown_lost_claim_code_is_refused():
    with pytest.raises(ValueError, match="unknown lost claim"):
        item_exclusions(make_item(lost_claims=frozenset({"typo"})), make_terms())


# --- Rates and discounts ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scale", "origin", "expected"),
    [
        pytest.param(KECIL, DOMESTIC, Decimal("0.40"), id="kecil-domestic"),
        pytest.param(KECIL, IMPORTED, Decimal("0.25"), id="kecil-imported"),
        pytest.param(MENENGAH, DOMESTIC, Decimal("0.35"), id="menengah-domestic"),
        pytest.param(MENENGAH, IMPORTED, Decimal("0.2"), id="menengah-imported"),
        pytest.param(BESAR, DOMESTIC, Decimal("0"), id="besar-domestic"),
        pytest.param(BESAR, IMPORTED, Decimal("0"), id="besar-imported"),
    ],
)
def test_item_rate_is_the_programme_setting(scale, origin, expected):
    assert item_rate(scale, origin, make_terms()) == expected


@pytest.mark.parametrize(
    ("scale", "origin"),
    [pytest.param("mikro", DOMESTIC, id="unknown-scale"), pytest.param(KECIL, "x", id="origin")],
)
def test_item_rate_refuses_unknown_values(scale, origin):
    with pytest.raises(ValueError, match="unknown"):
        item_rate(scale, origin, make_terms())


def test_item_rate_names_a_missing_programme_rate():
    terms = make_terms(rates={(KECIL, DOMESTIC): Decimal("0.4")})
    with pytest.raises(ValueError, match="no rate for"):
        item_rate(MENENGAH, IMPORTED, terms)


@pytest.mark.parametrize(
    ("price", "rate", "expected"),
    [
        pytest.param(1_000_001, "0.25", 250_000, id="1000001-at-25pct-floors"),
        pytest.param(1_000_003, "0.4", 400_001, id="1000003-at-40pct-floors"),
        pytest.param(100_000_000, "0.4000", 40_000_000, id="exact-40pct"),
        pytest.param(3, "0.3333", 0, id="tiny-price"),
        pytest.param(7, "0.1429", 1, id="four-places"),
        pytest.param(10**13, "0.4", 4 * 10**12, id="max-price"),
        pytest.param(10**13 - 1, "0.0001", 999_999_999, id="max-price-smallest-rate"),
        pytest.param(100, "0.29", 29, id="float-would-give-28"),
        pytest.param(100, "0.57", 57, id="float-would-give-56"),
        pytest.param(999, "1", 999, id="full-rate"),
        pytest.param(999, "0", 0, id="zero-rate"),
    ],
)
def test_item_discount_floors_exactly(price, rate, expected):
    assert item_discount(price, Decimal(rate)) == expected


def test_item_discount_refuses_float_rate():
    with pytest.raises(TypeError):
        item_discount(100, 0.25)


def test_programme_terms_refuse_float_rate():
    with pytest.raises(TypeError, match="Decimal"):
        make_terms(rates={(KECIL, DOMESTIC): 0.4})


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        pytest.param(Decimal("0.4"), "0.4000", id="one-place"),
        pytest.param(Decimal("0.25"), "0.2500", id="two-places"),
        pytest.param(Decimal("0.1429"), "0.1429", id="four-places"),
        pytest.param(Decimal("0"), "0.0000", id="zero"),
        pytest.param(Decimal("1"), "1.0000", id="one"),
        pytest.param(Decimal("0.123456"), "0.123456", id="never-rounds"),
    ],
)
def test_rate_text(rate, expected):
    assert rate_text(rate) == expected


# --- Claims -------------------------------------------------------------------------------------


def test_earlier_submitted_application_keeps_the_invoice():
    claims = [
        make_claim(item_id=1, application_id=10, submitted_at=T0 + DAY, serial=""),
        make_claim(item_id=2, application_id=20, submitted_at=T0, serial=""),
    ]
    assert resolve_claims(claims) == {1: frozenset({DUPLICATE_INVOICE})}


def test_draft_loses_to_submitted_application_whatever_its_id():
    claims = [
        make_claim(item_id=1, application_id=1, submitted_at=None),
        make_claim(item_id=2, application_id=2, submitted_at=T0 + timedelta(days=365)),
    ]
    assert resolve_claims(claims) == {1: frozenset({DUPLICATE_INVOICE, DUPLICATE_SERIAL})}


def test_same_submission_time_lower_application_id_keeps():
    claims = [
        make_claim(item_id=1, application_id=8, submitted_at=T0),
        make_claim(item_id=2, application_id=7, submitted_at=T0),
    ]
    assert resolve_claims(claims) == {1: frozenset({DUPLICATE_INVOICE, DUPLICATE_SERIAL})}


def test_two_drafts_lower_application_id_keeps():
    claims = [
        make_claim(item_id=1, application_id=8, submitted_at=None),
        make_claim(item_id=2, application_id=7, submitted_at=None),
    ]
    assert resolve_claims(claims) == {1: frozenset({DUPLICATE_INVOICE, DUPLICATE_SERIAL})}


def test_earlier_programme_application_keeps_the_machine():
    earlier_year = make_claim(
        item_id=900, application_id=300, submitted_at=T0 - timedelta(days=365)
    )
    this_year = make_claim(item_id=5, application_id=301, submitted_at=T0)
    assert resolve_claims([this_year, earlier_year]) == {
        5: frozenset({DUPLICATE_INVOICE, DUPLICATE_SERIAL})
    }


def test_inside_one_application_lower_item_id_keeps():
    claims = [
        make_claim(item_id=4, application_id=1, submitted_at=T0),
        make_claim(item_id=3, application_id=1, submitted_at=T0),
    ]
    assert resolve_claims(claims) == {4: frozenset({DUPLICATE_INVOICE, DUPLICATE_SERIAL})}


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param(
            invoice_key("01.234.567.8-901.000", "INV/001"),
            invoice_key("012345678901000", "inv 001"),
            id="npwp-punctuation-and-invoice-case",
        ),
        pytest.param(
            invoice_key("012345678901000", "INV-001"),
            invoice_key("012345678901000", "inv001"),
            id="invoice-dash",
        ),
    ],
)
def test_invoice_claims_compare_normalised(first, second):
    claims = [
        make_claim(1, 1, T0, invoice=first, serial=serial_key("A")),
        make_claim(2, 2, T0 + DAY, invoice=second, serial=serial_key("B")),
    ]
    assert resolve_claims(claims) == {2: frozenset({DUPLICATE_INVOICE})}


def test_serial_claims_compare_normalised():
    claims = [
        make_claim(1, 1, T0, invoice=invoice_key("1", "A"), serial=serial_key("XK-77")),
        make_claim(2, 2, T0 + DAY, invoice=invoice_key("1", "B"), serial=serial_key("xk 77")),
    ]
    assert resolve_claims(claims) == {2: frozenset({DUPLICATE_SERIAL})}


def test_same_invoice_number_of_other_supplier_is_no_duplicate():
    claims = [
        make_claim(1, 1, T0, invoice=invoice_key("012345678901000", "INV/1"), serial=""),
        make_claim(2, 2, T0, invoice=invoice_key("012345678901001", "INV/1"), serial=""),
    ]
    assert resolve_claims(claims) == {}


def test_empty_keys_never_conflict():
    claims = [
        make_claim(1, 1, T0, invoice="", serial=serial_key("")),
        make_claim(2, 2, T0, invoice="", serial=serial_key("--")),
        make_claim(3, 3, None, invoice=invoice_key("1", "/"), serial=serial_key(" ")),
    ]
    assert resolve_claims(claims) == {}


def test_three_claimants_only_the_first_keeps():
    claims = [
        make_claim(1, 3, None),
        make_claim(2, 2, T0 + DAY),
        make_claim(3, 1, T0 + DAY),
    ]
    both = frozenset({DUPLICATE_INVOICE, DUPLICATE_SERIAL})
    assert resolve_claims(claims) == {1: both, 2: both}


def test_an_item_can_keep_its_invoice_and_lose_its_serial():
    claims = [
        make_claim(1, 1, T0, invoice=invoice_key("1", "A"), serial=serial_key("S")),
        make_claim(2, 2, T0 - DAY, invoice=invoice_key("1", "B"), serial=serial_key("S")),
        make_claim(3, 3, T0 + DAY, invoice=invoice_key("1", "A"), serial=serial_key("T")),
    ]
    assert resolve_claims(claims) == {
        1: frozenset({DUPLICATE_SERIAL}),
        3: frozenset({DUPLICATE_INVOICE}),
    }


def test_lone_claims_lose_nothing():
    assert resolve_claims([make_claim(1, 1, T0)]) == {}
    assert resolve_claims([]) == {}


def test_resolve_claims_handles_a_large_programme_quickly():
    # 100,000 items in pairs sharing an invoice: a quadratic algorithm would not finish.
    claims = [
        make_claim(n, n // 2, T0 + timedelta(seconds=n), invoice=f"1|inv{n // 2}", serial=f"s{n}")
        for n in range(100_000)
    ]
    lost = resolve_claims(claims)
    assert len(lost) == 50_000
    assert all(item_id % 2 == 1 for item_id in lost)


# --- The application computation ----------------------------------------------------------------


def test_compute_sums_item_discounts():
    items = [
        make_item(id=1, price=100_000_000, origin=DOMESTIC),
        make_item(id=2, price=1_000_001, origin=IMPORTED),
    ]
    result = compute(make_terms(), make_company(), items)
    assert result.scale == KECIL
    assert [(i.id, i.rate, i.discount) for i in result.items] == [
        (1, Decimal("0.40"), 40_000_000),
        (2, Decimal("0.25"), 250_000),
    ]
    assert result.eligible_total == 40_250_000
    assert result.computed_discount == 40_250_000
    assert result.cap_applied is False
    assert result.blocking == ()
    assert result.findings == ()


def test_medium_company_gets_medium_rates():
    company = make_company(workers=20, investment_value=15_000_000_000)
    result = compute(make_terms(), company, [make_item(price=100_000_000, origin=IMPORTED)])
    assert result.scale == MENENGAH
    assert result.items[0].rate == Decimal("0.2")
    assert result.eligible_total == 20_000_000


@pytest.mark.parametrize(
    ("prices", "eligible_total", "computed_discount", "cap_applied"),
    [
        pytest.param([750_000_000], 300_000_000, 300_000_000, False, id="exactly-at-cap"),
        pytest.param([750_000_003], 300_000_001, 300_000_000, True, id="one-above-cap"),
        pytest.param([500_000_000, 500_000_000], 400_000_000, 300_000_000, True, id="two-items"),
        pytest.param([749_999_998], 299_999_999, 299_999_999, False, id="below-cap"),
    ],
)
def test_refund_is_capped_per_company(prices, eligible_total, computed_discount, cap_applied):
    items = [make_item(id=n, price=price) for n, price in enumerate(prices, start=1)]
    result = compute(make_terms(), make_company(), items)
    assert result.eligible_total == eligible_total
    assert result.computed_discount == computed_discount
    assert result.cap_applied is cap_applied


@pytest.mark.parametrize(
    ("price", "blocked"),
    [
        pytest.param(12_499_998, True, id="refund-min-minus-1"),
        pytest.param(12_500_000, False, id="refund-exactly-min"),
    ],
)
def test_below_minimum_blocks(price, blocked):
    result = compute(make_terms(), make_company(), [make_item(price=price)])
    assert result.computed_discount == (4_999_999 if blocked else 5_000_000)
    assert (BELOW_MINIMUM in result.blocking) is blocked


def test_below_minimum_finding_carries_the_amounts():
    result = compute(make_terms(), make_company(), [make_item(price=3_000_000)])
    assert (
        Finding(BELOW_MINIMUM, params={"min_refund": 5_000_000, "computed_discount": 1_200_000})
        in result.findings
    )


def test_no_items_at_all_is_no_eligible_items():
    result = compute(make_terms(), make_company(), [])
    assert result.blocking == (NO_ELIGIBLE_ITEMS, BELOW_MINIMUM)
    assert result.eligible_total == result.computed_discount == 0
    assert result.items == ()


def test_only_excluded_items_is_no_eligible_items():
    items = [make_item(id=1, payment_method="cash"), make_item(id=2, is_new=False)]
    result = compute(make_terms(), make_company(), items)
    assert [i.discount for i in result.items] == [0, 0]
    assert NO_ELIGIBLE_ITEMS in result.blocking
    assert result.findings[:2] == (
        Finding(PAYMENT_NOT_VIA_BANK, item=1, params={"payment_method": "cash"}),
        Finding(NOT_NEW, item=2),
    )


def test_one_eligible_item_is_enough():
    items = [make_item(id=1, payment_method="cash"), make_item(id=2)]
    result = compute(make_terms(), make_company(), items)
    assert NO_ELIGIBLE_ITEMS not in result.blocking
    assert result.eligible_total == 40_000_000


def test_excluded_item_shows_its_rate_and_no_discount():
    result = compute(make_terms(), make_company(), [make_item(installed_on=None)])
    (item,) = result.items
    assert (item.rate, item.discount, item.exclusions) == (Decimal("0.40"), 0, (NOT_INSTALLED,))
    assert result.findings[0] == Finding(
        NOT_INSTALLED, item=1, params={"installed_on": None, "install_by": "2026-09-15"}
    )


def test_item_that_lost_its_invoice_claim_gets_no_discount():
    item = make_item(lost_claims=frozenset({DUPLICATE_INVOICE}))
    result = compute(make_terms(), make_company(), [item])
    assert result.items[0].discount == 0
    assert result.items[0].exclusions == (DUPLICATE_INVOICE,)
    assert Finding(DUPLICATE_INVOICE, item=1) in result.findings


@pytest.mark.parametrize(
    ("earlier", "limit", "blocked"),
    [
        pytest.param(2, 3, False, id="below-limit"),
        pytest.param(3, 3, True, id="at-limit"),
        pytest.param(4, 3, True, id="above-limit"),
        pytest.param(0, 0, True, id="zero-limit"),
        pytest.param(99, None, False, id="no-limit"),
    ],
)
def test_participation_limit(earlier, limit, blocked):
    result = compute(
        make_terms(max_participations=limit),
        make_company(earlier_participations=earlier),
        [make_item()],
    )
    assert (PARTICIPATION_LIMIT_REACHED in result.blocking) is blocked


@pytest.mark.parametrize(
    ("kbli", "blocked"),
    [
        pytest.param("09999", True, id="09999"),
        pytest.param("10000", False, id="10000"),
        pytest.param("33999", False, id="33999"),
        pytest.param("34000", True, id="34000"),
        pytest.param("1234", True, id="short"),
        pytest.param("", True, id="empty"),
    ],
)
def test_kbli_outside_manufacturing_blocks(kbli, blocked):
    result = compute(make_terms(), make_company(kbli=kbli), [make_item()])
    assert (KBLI_NOT_MANUFACTURING in result.blocking) is blocked


def test_large_company_gets_rate_zero_and_is_not_ikm():
    company = make_company(workers=20, investment_value=15_000_000_001)
    result = compute(make_terms(), company, [make_item(id=1), make_item(id=2, origin=IMPORTED)])
    assert result.scale == BESAR
    assert [(i.rate, i.discount, i.exclusions) for i in result.items] == [
        (Decimal("0"), 0, ()),
        (Decimal("0"), 0, ()),
    ]
    assert result.blocking == (COMPANY_NOT_IKM, NO_ELIGIBLE_ITEMS, BELOW_MINIMUM)
    assert result.findings[0] == Finding(
        COMPANY_NOT_IKM,
        params={"scale": BESAR, "workers": 20, "investment_value": 15_000_000_001},
    )


def test_every_blocking_finding_at_once_in_domain_order():
    company = make_company(
        workers=50, investment_value=20_000_000_000, kbli="46100", earlier_participations=3
    )
    result = compute(make_terms(), company, [])
    assert result.blocking == (
        COMPANY_NOT_IKM,
        KBLI_NOT_MANUFACTURING,
        PARTICIPATION_LIMIT_REACHED,
        NO_ELIGIBLE_ITEMS,
        BELOW_MINIMUM,
    )
    assert set(result.blocking) == BLOCKING_CODES
    assert all(f.item is None for f in result.findings)


def test_item_findings_come_before_application_findings():
    items = [make_item(id=2, is_new=False), make_item(id=1, payment_method="cash")]
    result = compute(make_terms(), make_company(), items)
    assert [(f.code, f.item) for f in result.findings] == [
        (PAYMENT_NOT_VIA_BANK, 1),
        (NOT_NEW, 2),
        (NO_ELIGIBLE_ITEMS, None),
        (BELOW_MINIMUM, None),
    ]


def test_compute_refuses_duplicate_item_ids():
    with pytest.raises(ValueError, match="unique"):
        compute(make_terms(), make_company(), [make_item(id=1), make_item(id=1)])


def test_findings_are_hashable_and_compare_params():
    assert hash(Finding(NOT_NEW, item=1)) == hash(Finding(NOT_NEW, item=1))
    assert Finding(BELOW_MINIMUM, params={"a": 1}) != Finding(BELOW_MINIMUM, params={"a": 2})


def test_programme_terms_copy_their_rates():
    rates = dict(RATES)
    terms = make_terms(rates=rates)
    rates[(KECIL, DOMESTIC)] = Decimal("0.9")
    assert terms.rates[(KECIL, DOMESTIC)] == Decimal("0.40")


# --- The breakdown ------------------------------------------------------------------------------


def test_breakdown_holds_the_settings_used():
    result = compute(make_terms(), make_company(earlier_participations=1), [make_item()])
    breakdown = json.loads(json.dumps(result.breakdown))
    assert breakdown["programme"] == {
        "purchase_from": "2025-08-01",
        "purchase_to": "2026-08-31",
        "install_by": "2026-09-15",
        "rates": [
            {"scale": KECIL, "origin": DOMESTIC, "rate": "0.4000"},
            {"scale": KECIL, "origin": IMPORTED, "rate": "0.2500"},
            {"scale": MENENGAH, "origin": DOMESTIC, "rate": "0.3500"},
            {"scale": MENENGAH, "origin": IMPORTED, "rate": "0.2000"},
        ],
        "min_refund": 5_000_000,
        "max_refund_per_company": 300_000_000,
        "max_participations": 3,
    }
    assert breakdown["company"] == {
        "workers": 10,
        "investment_value": 500_000_000,
        "kbli": "25110",
        "scale": KECIL,
        "earlier_participations": 1,
    }
    assert breakdown["items"] == [
        {
            "id": 1,
            "price": 100_000_000,
            "origin": DOMESTIC,
            "rate": "0.4000",
            "discount": 40_000_000,
            "exclusions": [],
            "invoice_date": "2026-01-15",
            "is_new": True,
            "installed_on": "2026-02-01",
            "payment_method": "bank_transfer",
        }
    ]
    assert (breakdown["eligible_total"], breakdown["computed_discount"]) == (40_000_000,) * 2
    assert breakdown["cap_applied"] is False
    assert breakdown["blocking"] == []


def audit(breakdown: dict) -> None:
    """Re-compute a breakdown by hand, as an auditor would, from its own numbers only."""
    total = 0
    for row in breakdown["items"]:
        expected = 0 if row["exclusions"] else item_discount(row["price"], Decimal(row["rate"]))
        assert row["discount"] == expected
        total += row["discount"]
    assert breakdown["eligible_total"] == total
    cap = breakdown["max_refund_per_company"]
    assert breakdown["computed_discount"] == min(total, cap)
    assert breakdown["cap_applied"] is (total > cap)
    assert (BELOW_MINIMUM in breakdown["blocking"]) is (
        breakdown["computed_discount"] < breakdown["min_refund"]
    )


def test_breakdown_is_recomputable_by_hand():
    items = [
        make_item(id=1, price=1_000_001, origin=IMPORTED),
        make_item(id=2, price=999_999_999, origin=DOMESTIC),
        make_item(id=3, price=12_345_678, payment_method="cash"),
        make_item(id=4, price=777_777_777, origin=IMPORTED),
    ]
    result = compute(make_terms(), make_company(), items)
    assert result.cap_applied is True
    audit(json.loads(json.dumps(result.breakdown)))


# --- Properties ---------------------------------------------------------------------------------

rate_values = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal("1"), places=4)
terms_strategy = st.builds(
    make_terms,
    rates=st.fixed_dictionaries({pair: rate_values for pair in rules.RATED_PAIRS}),
    min_refund=st.integers(0, 10**9),
    max_refund_per_company=st.integers(0, 10**10),
    max_participations=st.none() | st.integers(0, 5),
)
company_strategy = st.builds(
    CompanyFacts,
    workers=st.sampled_from([0, 19, 20, 500]),
    investment_value=st.sampled_from([0, 999_999_999, 10**9, 15 * 10**9, 15 * 10**9 + 1]),
    kbli=st.sampled_from(["10000", "25110", "46100", ""]),
    earlier_participations=st.integers(0, 6),
)
item_facts_strategy = st.fixed_dictionaries(
    {
        "price": st.integers(1, 10**13),
        "origin": st.sampled_from([DOMESTIC, IMPORTED]),
        "invoice_date": st.dates(PURCHASE_FROM - 3 * DAY, PURCHASE_TO + 3 * DAY),
        "is_new": st.booleans(),
        "installed_on": st.none() | st.dates(INSTALL_BY - 3 * DAY, INSTALL_BY + 3 * DAY),
        "payment_method": st.sampled_from(sorted(BANK_PAYMENT_METHODS | {"cash"})),
        "lost_claims": st.frozensets(st.sampled_from([DUPLICATE_INVOICE, DUPLICATE_SERIAL])),
    }
)
items_strategy = st.lists(item_facts_strategy, max_size=8).map(
    lambda rows: [ItemFacts(id=n, **row) for n, row in enumerate(rows, start=1)]
)


@settings(max_examples=200)
@given(price=st.integers(1, 10**13), rate=rate_values)
def test_item_discount_is_the_exact_floor(price, rate):
    exact = Fraction(price) * Fraction(rate)
    assert item_discount(price, rate) == math.floor(exact)


@settings(max_examples=200)
@given(terms=terms_strategy, company=company_strategy, items=items_strategy)
def test_no_item_discount_exceeds_the_highest_rate(terms, company, items):
    highest = max(terms.rates.values())
    result = compute(terms, company, items)
    prices = {item.id: item.price for item in items}
    for item in result.items:
        assert 0 <= item.discount <= item_discount(prices[item.id], highest)


@settings(max_examples=200)
@given(terms=terms_strategy, company=company_strategy, items=items_strategy)
def test_computed_discount_within_cap_and_eligible_total(terms, company, items):
    result = compute(terms, company, items)
    assert result.computed_discount <= terms.max_refund_per_company
    assert result.computed_discount <= result.eligible_total
    assert result.eligible_total == sum(item.discount for item in result.items)
    audit(json.loads(json.dumps(result.breakdown)))


@settings(max_examples=200)
@given(
    terms=terms_strategy,
    company=company_strategy,
    items=items_strategy,
    shuffler=st.randoms(use_true_random=False),
)
def test_result_does_not_depend_on_item_order(terms, company, items, shuffler):
    shuffled = list(items)
    shuffler.shuffle(shuffled)
    assert compute(terms, company, shuffled) == compute(terms, company, items)


@settings(max_examples=200)
@given(
    terms=terms_strategy,
    company=company_strategy,
    items=items_strategy.filter(bool),
    data=st.data(),
)
def test_raising_a_price_never_lowers_the_refund(terms, company, items, data):
    index = data.draw(st.integers(0, len(items) - 1))
    increase = data.draw(st.integers(1, 10**12))
    raised = list(items)
    raised[index] = replace(items[index], price=items[index].price + increase)
    before, after = compute(terms, company, items), compute(terms, company, raised)
    assert after.eligible_total >= before.eligible_total
    assert after.computed_discount >= before.computed_discount


claims_strategy = st.lists(
    st.tuples(
        st.integers(1, 4),  # application id
        st.sampled_from([None, T0, T0 + DAY, T0 + 2 * DAY]),
        st.sampled_from(["", "1|a", "1|b", "2|a"]),
        st.sampled_from(["", "x", "y"]),
    ),
    max_size=12,
).map(
    lambda rows: [
        Claim(item_id=n, application_id=app, submitted_at=at, invoice_key=inv, serial_key=ser)
        for n, (app, at, inv, ser) in enumerate(rows, start=1)
    ]
)


@settings(max_examples=200)
@given(claims=claims_strategy)
def test_each_claimed_key_has_exactly_one_winner(claims):
    lost = resolve_claims(claims)
    for attribute, code in (("invoice_key", DUPLICATE_INVOICE), ("serial_key", DUPLICATE_SERIAL)):
        keys = {getattr(c, attribute) for c in claims} - {""}
        for key in keys:
            claimants = [c for c in claims if getattr(c, attribute) == key]
            winners = [c for c in claimants if code not in lost.get(c.item_id, frozenset())]
            assert len(winners) == 1
            first = min(
                claimants,
                key=lambda c: (
                    c.submitted_at is None,
                    c.submitted_at or T0,
                    c.application_id,
                    c.item_id,
                ),
            )
            assert winners[0] == first
    assert all(codes for codes in lost.values())


@settings(max_examples=200)
@given(claims=claims_strategy, seed=st.integers(0, 2**32))
def test_claim_resolution_does_not_depend_on_input_order(claims, seed):
    shuffled = list(claims)
    random.Random(seed).shuffle(shuffled)
    assert resolve_claims(shuffled) == resolve_claims(claims)


def _self_check_terms() -> rules.ProgrammeTerms:
    return rules.ProgrammeTerms(
        purchase_from=date(2025, 8, 1),
        purchase_to=date(2026, 8, 31),
        install_by=date(2026, 9, 15),
        rates={
            ("kecil", "domestic"): Decimal("0.4000"),
            ("kecil", "imported"): Decimal("0.2500"),
            ("menengah", "domestic"): Decimal("0.4000"),
            ("menengah", "imported"): Decimal("0.2500"),
        },
        min_refund=5_000_000,
        max_refund_per_company=300_000_000,
        max_participations=0,
    )


def _machine(**changes) -> rules.MachineFacts:
    facts = {
        "price": 100_000_000,
        "origin": "domestic",
        "invoice_date": date(2026, 1, 10),
        "is_new": True,
        "installed_on": date(2026, 2, 1),
        "payment_method": "bank_transfer",
    }
    return rules.MachineFacts(**{**facts, **changes})


def test_self_check_numbers_machines_in_order_and_excludes_cash():
    result = rules.self_check(
        _self_check_terms(),
        workers=10,
        investment_value=500_000_000,
        kbli="25120",
        machines=[_machine(), _machine(payment_method="cash")],
    )
    assert result.scale == "kecil"
    assert [(i.id, i.discount, i.exclusions) for i in result.items] == [
        (1, 40_000_000, ()),
        (2, 0, ("payment_not_via_bank",)),
    ]
    assert result.computed_discount == 40_000_000


def test_self_check_never_reports_the_participation_limit():
    result = rules.self_check(
        _self_check_terms(),
        workers=10,
        investment_value=500_000_000,
        kbli="25120",
        machines=[_machine()],
    )
    assert rules.PARTICIPATION_LIMIT_REACHED not in result.blocking
