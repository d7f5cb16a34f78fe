"""Pure rules of the refund computation (DOMAIN.md): plain values in, plain values out, no ORM."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal

KECIL, MENENGAH, BESAR = "kecil", "menengah", "besar"
DOMESTIC, IMPORTED = "domestic", "imported"
SCALES = (KECIL, MENENGAH, BESAR)
ORIGINS = (DOMESTIC, IMPORTED)
# The (scale, origin) pairs a programme sets a rate for; besar has none (not an IKM).
RATED_PAIRS = ((KECIL, DOMESTIC), (KECIL, IMPORTED), (MENENGAH, DOMESTIC), (MENENGAH, IMPORTED))

# Only payment through a bank counts; "cash" is the only other method.
BANK_PAYMENT_METHODS = frozenset({"bank_transfer", "debit_card", "credit_card", "giro"})

# Item exclusion codes, in the order DOMAIN.md lists them (findings are reported in this order).
PURCHASE_OUTSIDE_WINDOW = "purchase_outside_window"
NOT_NEW = "not_new"
NOT_INSTALLED = "not_installed"
PAYMENT_NOT_VIA_BANK = "payment_not_via_bank"
DUPLICATE_INVOICE = "duplicate_invoice"
DUPLICATE_SERIAL = "duplicate_serial"
EXCLUSION_CODES = (
    PURCHASE_OUTSIDE_WINDOW,
    NOT_NEW,
    NOT_INSTALLED,
    PAYMENT_NOT_VIA_BANK,
    DUPLICATE_INVOICE,
    DUPLICATE_SERIAL,
)
CLAIM_CODES = (DUPLICATE_INVOICE, DUPLICATE_SERIAL)

# Application findings that forbid approval, in the order DOMAIN.md lists them.
COMPANY_NOT_IKM = "company_not_ikm"
KBLI_NOT_MANUFACTURING = "kbli_not_manufacturing"
PARTICIPATION_LIMIT_REACHED = "participation_limit_reached"
NO_ELIGIBLE_ITEMS = "no_eligible_items"
BELOW_MINIMUM = "below_minimum"
BLOCKING_ORDER = (
    COMPANY_NOT_IKM,
    KBLI_NOT_MANUFACTURING,
    PARTICIPATION_LIMIT_REACHED,
    NO_ELIGIBLE_ITEMS,
    BELOW_MINIMUM,
)
BLOCKING_CODES = frozenset(BLOCKING_ORDER)

# Permenperin 64/2016: the scale thresholds (investment excludes land and buildings).
SMALL_MAX_WORKERS = 19
SMALL_INVESTMENT_BELOW = 1_000_000_000
MEDIUM_MAX_INVESTMENT = 15_000_000_000

# KBLI divisions 10-33 are manufacturing (industri pengolahan).
MANUFACTURING_KBLI_FIRST, MANUFACTURING_KBLI_LAST = 10000, 33999
_KBLI_RE = re.compile(r"[0-9]{5}")
_NON_DIGIT_RE = re.compile(r"[^0-9]")

_RATE_PLACES = Decimal("0.0001")


def company_scale(workers: int, investment_value: int) -> str:
    """Return kecil, menengah or besar for a company, per Permenperin 64/2016."""
    if workers < 0 or investment_value < 0:
        raise ValueError("workers and investment_value must be non-negative")
    if workers <= SMALL_MAX_WORKERS:
        # The regulation puts every company of up to 19 workers in kecil or menengah,
        # however large its investment: besar needs both thresholds crossed.
        return KECIL if investment_value < SMALL_INVESTMENT_BELOW else MENENGAH
    return MENENGAH if investment_value <= MEDIUM_MAX_INVESTMENT else BESAR


def is_manufacturing_kbli(kbli: str) -> bool:
    """Tell whether a KBLI code is a 5-digit manufacturing code (10000-33999)."""
    # [0-9] rather than \d: other scripts' digits are not KBLI codes.
    if not isinstance(kbli, str) or not _KBLI_RE.fullmatch(kbli):
        return False
    return MANUFACTURING_KBLI_FIRST <= int(kbli) <= MANUFACTURING_KBLI_LAST


def normalize_reference(text: str) -> str:
    """Fold an invoice or serial number so case, spaces and punctuation do not count."""
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def digits_only(text: str) -> str:
    """Keep only the ASCII digits of a text (NPWP, NIB)."""
    return _NON_DIGIT_RE.sub("", text)


def invoice_key(supplier_npwp: str, invoice_number: str) -> str:
    """Return the key under which an item claims its invoice ("" claims nothing)."""
    npwp, number = digits_only(supplier_npwp), normalize_reference(invoice_number)
    # A reference that folds to nothing ("-", "/") identifies no invoice, so it must not
    # make unrelated items of one supplier collide; like an empty serial, it never conflicts.
    if not npwp or not number:
        return ""
    return f"{npwp}|{number}"


def serial_key(serial_number: str) -> str:
    """Return the key under which an item claims its machine serial ("" claims nothing)."""
    return normalize_reference(serial_number)


def rate_text(rate: Decimal) -> str:
    """Format a rate with four decimal places, e.g. "0.4000"."""
    quantized = rate.quantize(_RATE_PLACES)
    # Never round silently: an auditor re-computes the discount from this text.
    return f"{quantized:f}" if quantized == rate else f"{rate:f}"


@dataclass(frozen=True)
class ProgrammeTerms:
    """The settings of one programme that the computation uses."""

    purchase_from: date
    purchase_to: date
    install_by: date
    # (scale, origin) -> rate; a dict is not hashable, so it is left out of the hash.
    rates: Mapping[tuple[str, str], Decimal] = field(hash=False)
    min_refund: int
    max_refund_per_company: int
    max_participations: int | None

    def __post_init__(self) -> None:
        """Copy the rates so later edits of the caller's mapping cannot change the terms."""
        rates = dict(self.rates)
        for pair, rate in rates.items():
            if not isinstance(rate, Decimal):
                # A float rate would make the discount inexact.
                raise TypeError(f"rate for {pair} must be a Decimal, not {type(rate).__name__}")
        object.__setattr__(self, "rates", rates)


@dataclass(frozen=True)
class CompanyFacts:
    """The company data the computation uses (the application's snapshot once submitted)."""

    workers: int
    investment_value: int
    kbli: str
    earlier_participations: int  # disbursed applications of the company in earlier programmes


@dataclass(frozen=True)
class ItemFacts:
    """One machine item as the computation sees it."""

    id: int
    price: int
    origin: str
    invoice_date: date
    is_new: bool
    installed_on: date | None
    payment_method: str
    lost_claims: frozenset[str] = frozenset()  # from resolve_claims


@dataclass(frozen=True)
class Claim:
    """An item's claim on its invoice and its serial number."""

    item_id: int
    application_id: int
    submitted_at: datetime | None
    invoice_key: str
    serial_key: str


def _claim_priority(claim: Claim) -> tuple[bool, datetime | None, int, int]:
    """Order claims: earliest submission first, drafts last, then lower application and item id."""
    # (True, None) sorts after every (False, datetime); two drafts compare None == None and
    # fall through to the ids, so None is never ordered against a datetime.
    return (claim.submitted_at is None, claim.submitted_at, claim.application_id, claim.item_id)


def claim_winners(claims: Iterable[Claim]) -> dict[tuple[str, str], Claim]:
    """Return {(code, key): the claim that keeps it} for every invoice or serial claimed twice."""
    groups: dict[tuple[str, str], list[Claim]] = {}
    for claim in claims:
        if claim.invoice_key:
            groups.setdefault((DUPLICATE_INVOICE, claim.invoice_key), []).append(claim)
        if claim.serial_key:
            groups.setdefault((DUPLICATE_SERIAL, claim.serial_key), []).append(claim)
    # One pass over each group with min(): linear overall, whatever the number of items.
    return {key: min(group, key=_claim_priority) for key, group in groups.items() if len(group) > 1}


def resolve_claims(claims: Iterable[Claim]) -> dict[int, frozenset[str]]:
    """Return {item_id: codes lost} for the items that lose an invoice or serial claim."""
    claims = list(claims)
    winners = claim_winners(claims)
    lost: dict[int, set[str]] = {}
    for claim in claims:
        for code, key in (
            (DUPLICATE_INVOICE, claim.invoice_key),
            (DUPLICATE_SERIAL, claim.serial_key),
        ):
            winner = winners.get((code, key)) if key else None
            if winner is not None and winner.item_id != claim.item_id:
                lost.setdefault(claim.item_id, set()).add(code)
    return {item_id: frozenset(codes) for item_id, codes in lost.items()}


def item_exclusions(item: ItemFacts, terms: ProgrammeTerms) -> list[str]:
    """Return the exclusion codes of an item, in DOMAIN.md order (empty when it counts)."""
    unknown = item.lost_claims.difference(CLAIM_CODES)
    if unknown:
        raise ValueError(f"unknown lost claim codes: {sorted(unknown)}")
    codes = []
    if not terms.purchase_from <= item.invoice_date <= terms.purchase_to:
        codes.append(PURCHASE_OUTSIDE_WINDOW)
    if not item.is_new:
        codes.append(NOT_NEW)
    if item.installed_on is None or item.installed_on > terms.install_by:
        codes.append(NOT_INSTALLED)
    if item.payment_method not in BANK_PAYMENT_METHODS:
        codes.append(PAYMENT_NOT_VIA_BANK)
    codes.extend(code for code in CLAIM_CODES if code in item.lost_claims)
    return codes


def item_rate(scale: str, origin: str, terms: ProgrammeTerms) -> Decimal:
    """Return the programme's rate for a (scale, origin) pair; besar has rate 0."""
    if scale not in SCALES:
        raise ValueError(f"unknown scale: {scale!r}")
    if origin not in ORIGINS:
        raise ValueError(f"unknown origin: {origin!r}")
    if scale == BESAR:
        return Decimal("0")
    try:
        return terms.rates[(scale, origin)]
    except KeyError:
        raise ValueError(f"the programme has no rate for ({scale}, {origin})") from None


def item_discount(price: int, rate: Decimal) -> int:
    """Return floor(price x rate) computed exactly."""
    if not isinstance(rate, Decimal):
        raise TypeError(f"rate must be a Decimal, not {type(rate).__name__}")
    # Integer arithmetic on the rate's exact fraction: no float, no Decimal context rounding.
    numerator, denominator = rate.as_integer_ratio()
    return price * numerator // denominator


@dataclass(frozen=True)
class ItemResult:
    """The computed outcome for one item."""

    id: int
    rate: Decimal
    discount: int
    exclusions: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    """A finding on an application (item=None) or on one of its items."""

    code: str
    item: int | None = None
    # Values to render the text with; left out of the hash since a dict is not hashable.
    params: Mapping[str, object] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        """Copy params so later edits of the caller's mapping cannot change the finding."""
        object.__setattr__(self, "params", dict(self.params))


@dataclass(frozen=True)
class Computation:
    """The outcome of the computation for one application, with its breakdown."""

    scale: str
    eligible_total: int
    computed_discount: int
    cap_applied: bool
    items: tuple[ItemResult, ...]
    findings: tuple[Finding, ...]
    blocking: tuple[str, ...]
    breakdown: dict = field(hash=False)


def _iso(value: date | None) -> str | None:
    """Return a date as an ISO string (None stays None)."""
    return None if value is None else value.isoformat()


def _exclusion_params(code: str, item: ItemFacts, terms: ProgrammeTerms) -> dict[str, object]:
    """Return the values a page needs to explain an item exclusion."""
    if code == PURCHASE_OUTSIDE_WINDOW:
        return {
            "invoice_date": _iso(item.invoice_date),
            "purchase_from": _iso(terms.purchase_from),
            "purchase_to": _iso(terms.purchase_to),
        }
    if code == NOT_INSTALLED:
        return {"installed_on": _iso(item.installed_on), "install_by": _iso(terms.install_by)}
    if code == PAYMENT_NOT_VIA_BANK:
        return {"payment_method": item.payment_method}
    return {}


def _rates_breakdown(terms: ProgrammeTerms) -> list[dict[str, str]]:
    """List the programme's rates in a fixed order for the breakdown."""
    pairs = [pair for pair in RATED_PAIRS if pair in terms.rates]
    pairs += sorted(pair for pair in terms.rates if pair not in RATED_PAIRS)
    return [
        {"scale": scale, "origin": origin, "rate": rate_text(terms.rates[(scale, origin)])}
        for scale, origin in pairs
    ]


def compute(
    terms: ProgrammeTerms, company: CompanyFacts, items: Iterable[ItemFacts]
) -> Computation:
    """Compute an application's item discounts, refund, findings and breakdown."""
    # Sorting by id makes the result independent of the order the caller loads items in.
    ordered = sorted(items, key=lambda item: item.id)
    ids = [item.id for item in ordered]
    if len(set(ids)) != len(ids):
        raise ValueError("item ids must be unique")

    scale = company_scale(company.workers, company.investment_value)
    results: list[ItemResult] = []
    item_findings: list[Finding] = []
    item_rows: list[dict[str, object]] = []
    for item in ordered:
        exclusions = tuple(item_exclusions(item, terms))
        # An excluded item still shows the rate it would get, so the officer sees what a fix
        # would bring; its discount is 0 whatever the rate.
        rate = item_rate(scale, item.origin, terms)
        discount = 0 if exclusions else item_discount(item.price, rate)
        results.append(ItemResult(item.id, rate, discount, exclusions))
        item_findings.extend(
            Finding(code, item=item.id, params=_exclusion_params(code, item, terms))
            for code in exclusions
        )
        item_rows.append(
            {
                "id": item.id,
                "price": item.price,
                "origin": item.origin,
                "rate": rate_text(rate),
                "discount": discount,
                "exclusions": list(exclusions),
                # The facts behind the exclusions, so an auditor can check those too.
                "invoice_date": _iso(item.invoice_date),
                "is_new": item.is_new,
                "installed_on": _iso(item.installed_on),
                "payment_method": item.payment_method,
            }
        )

    eligible_total = sum(result.discount for result in results)
    computed_discount = min(eligible_total, terms.max_refund_per_company)
    cap_applied = eligible_total > terms.max_refund_per_company

    blocking_params: dict[str, dict[str, object]] = {}
    if scale == BESAR:
        blocking_params[COMPANY_NOT_IKM] = {
            "scale": scale,
            "workers": company.workers,
            "investment_value": company.investment_value,
        }
    if not is_manufacturing_kbli(company.kbli):
        blocking_params[KBLI_NOT_MANUFACTURING] = {"kbli": company.kbli}
    if (
        terms.max_participations is not None
        and company.earlier_participations >= terms.max_participations
    ):
        blocking_params[PARTICIPATION_LIMIT_REACHED] = {
            "earlier_participations": company.earlier_participations,
            "max_participations": terms.max_participations,
        }
    if not any(result.discount > 0 for result in results):
        blocking_params[NO_ELIGIBLE_ITEMS] = {}
    if computed_discount < terms.min_refund:
        blocking_params[BELOW_MINIMUM] = {
            "min_refund": terms.min_refund,
            "computed_discount": computed_discount,
        }
    blocking = tuple(code for code in BLOCKING_ORDER if code in blocking_params)
    findings = tuple(item_findings) + tuple(
        Finding(code, params=blocking_params[code]) for code in blocking
    )

    breakdown = {
        "programme": {
            "purchase_from": _iso(terms.purchase_from),
            "purchase_to": _iso(terms.purchase_to),
            "install_by": _iso(terms.install_by),
            "rates": _rates_breakdown(terms),
            "min_refund": terms.min_refund,
            "max_refund_per_company": terms.max_refund_per_company,
            "max_participations": terms.max_participations,
        },
        "company": {
            "workers": company.workers,
            "investment_value": company.investment_value,
            "kbli": company.kbli,
            "scale": scale,
            "earlier_participations": company.earlier_participations,
        },
        "items": item_rows,
        "eligible_total": eligible_total,
        "max_refund_per_company": terms.max_refund_per_company,
        "cap_applied": cap_applied,
        "computed_discount": computed_discount,
        "min_refund": terms.min_refund,
        "blocking": list(blocking),
    }
    return Computation(
        scale=scale,
        eligible_total=eligible_total,
        computed_discount=computed_discount,
        cap_applied=cap_applied,
        items=tuple(results),
        findings=findings,
        blocking=blocking,
        breakdown=breakdown,
    )


def company_facts_in_force(
    *, editable: bool, snapshot: Mapping[str, object] | None, live: Mapping[str, object]
) -> Mapping[str, object]:
    """The company data the rules and the payout use: the submission's copy once it is frozen.

    DOMAIN.md: at each submission the company's data is copied onto the application; while
    the application is editable (draft, revision requested) the company's current data counts.
    """
    if snapshot is not None and not editable:
        return snapshot
    return live


def approval_refusal(
    *, computed: bool, finding_codes: Iterable[str], amount: int, available: int
) -> str | None:
    """Why an approval cannot reserve `amount` now, in the order approve checks; None if it can.

    stale_computation: the results are being recomputed after a change; not_eligible: a
    blocking finding holds; budget_exhausted: the budget has less than `amount` available.
    """
    if not computed:
        return "stale_computation"
    if BLOCKING_CODES.intersection(finding_codes):
        return "not_eligible"
    if amount > available:
        return "budget_exhausted"
    return None


@dataclass(frozen=True)
class MachineFacts:
    """One machine as a would-be applicant describes it: no invoice or serial to claim."""

    price: int
    origin: str
    invoice_date: date
    is_new: bool
    installed_on: date | None
    payment_method: str


def self_check(
    terms: ProgrammeTerms,
    *,
    workers: int,
    investment_value: int,
    kbli: str,
    machines: Iterable[MachineFacts],
) -> Computation:
    """The engine's computation for a company and machines described in plain values.

    Nothing names the company or its invoices, so neither the participation limit nor
    duplicate claims can be checked; the machines are numbered 1, 2, ... in the given order.
    """
    unchecked = replace(terms, max_participations=None)
    company = CompanyFacts(
        workers=workers, investment_value=investment_value, kbli=kbli, earlier_participations=0
    )
    items = [
        ItemFacts(
            id=number,
            price=machine.price,
            origin=machine.origin,
            invoice_date=machine.invoice_date,
            is_new=machine.is_new,
            installed_on=machine.installed_on,
            payment_method=machine.payment_method,
        )
        for number, machine in enumerate(machines, start=1)
    ]
    return compute(unchecked, company, items)


def submission_window_open(
    *, first_submission: bool, today: date, opens: date, closes: date
) -> bool:
    """DOMAIN.md: a first submission only inside the application window (dates inclusive).

    A resubmission after a revision request is not bound to the window.
    """
    return not first_submission or opens <= today <= closes


# --- Days a case has waited (officers' workbench) ---------------------------------------

SLA_WITHIN, SLA_DUE, SLA_LATE = "within", "due", "late"


def days_waiting(since: date | None, today: date) -> int:
    """Whole calendar days (Asia/Jakarta) since the case entered its state; 0 on the day."""
    if since is None:
        return 0
    return max((today - since).days, 0)


def service_level(days: int, sla_days: int) -> str:
    """Against CASE_SLA_DAYS: within it, due (its last quarter, at least its last day) or late."""
    if days > sla_days:
        return SLA_LATE
    if days >= sla_days - max(sla_days // 4, 1):
        return SLA_DUE
    return SLA_WITHIN
