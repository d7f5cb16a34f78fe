"""Bulk demo data: companies, applicants, applications in every state, machine items.

This is the bulk path of STYLE.md: the values are generated valid by construction and
stored with bulk_create in batches, with no save() per row, no audit entry and no task.
Everything is drawn from one random.Random(seed), so a seed reproduces the same data
(NIBs, serials and references continue after what the database already holds).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from random import Random

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F, Max
from django.utils import timezone

from accounts.roles import APPLICANT, VERIFIER, role_group

from . import computation, regions, rules
from .demo import ensure_preset_programme
from .models import Application, Company, MachineItem, Programme, ReferenceCounter
from .services import programme_spent
from .workflow import CHECKLIST_ITEMS

User = get_user_model()
S = Application.Status

BATCH = 5000
# A new company's NIB never goes below this, so demo NIBs look like OSS ones ("9120...").
NIB_FLOOR = 9_120_000_000_001
NIB_CEILING = 9_999_999_999_999
MAX_ITEMS_PER_APPLICATION = 99  # the serial and invoice schemes keep two digits for it

# A realistic spread over the workflow: most cases are in progress, a few ended.
STATUS_WEIGHTS: Mapping[str, int] = {
    S.DRAFT: 10,
    S.SUBMITTED: 14,
    S.UNDER_REVIEW: 16,
    S.REVISION_REQUESTED: 7,
    S.FIELD_VERIFICATION: 10,
    S.RECOMMENDED: 12,
    S.APPROVED: 8,
    S.DISBURSED: 10,
    S.REJECTED: 7,
    S.WITHDRAWN: 6,
}
# Final states are reached only through the computation: such an application is stored in an
# open state first (the state it was in before), computed, and then moved.
_PROVISIONAL = {
    S.APPROVED: (S.RECOMMENDED,),
    S.DISBURSED: (S.RECOMMENDED,),
    S.REJECTED: (S.UNDER_REVIEW, S.FIELD_VERIFICATION, S.RECOMMENDED),
    S.WITHDRAWN: (S.SUBMITTED, S.UNDER_REVIEW, S.REVISION_REQUESTED),
}
_CHECKED_ON_SITE = (S.RECOMMENDED, S.APPROVED, S.DISBURSED)
_WITH_CASE_OFFICER = frozenset(
    {S.UNDER_REVIEW, S.REVISION_REQUESTED, S.FIELD_VERIFICATION, *_CHECKED_ON_SITE, S.REJECTED}
)

# (KBLI, word used in company names, machines of that trade).
SECTORS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("10710", "Roti", ("Oven roti deck 3 tingkat", "Mesin mixer adonan spiral",
                       "Mesin pembagi adonan", "Mesin pengemas roti otomatis")),
    ("10750", "Pangan", ("Mesin pengemas vakum", "Mesin sealer kontinu", "Oven pengering",
                         "Mesin penggiling bumbu")),
    ("11040", "Tirta", ("Mesin pengisi botol otomatis", "Mesin filter air RO",
                        "Mesin capping botol")),
    ("13121", "Tekstil", ("Alat tenun mesin", "Mesin hani (warping)", "Mesin pemintal benang")),
    ("14111", "Konveksi", ("Mesin jahit industri high speed", "Mesin obras 4 benang",
                           "Mesin potong kain", "Mesin bordir komputer 6 kepala")),
    ("15201", "Kulit", ("Mesin press sol sepatu", "Mesin jahit kulit post bed",
                        "Mesin seset kulit")),
    ("16101", "Kayu", ("Mesin gergaji bandsaw", "Mesin planer kayu", "Mesin serut kayu 4 sisi")),
    ("22220", "Plastik", ("Mesin injection molding plastik", "Mesin extruder plastik",
                          "Mesin pemotong kantong plastik")),
    ("23931", "Keramik", ("Tungku pembakaran keramik", "Mesin putar keramik",
                          "Mesin press keramik")),
    ("25120", "Logam", ("Mesin CNC bubut", "Mesin las MIG", "Mesin tekuk plat (press brake)",
                        "Mesin potong plasma CNC")),
    ("28210", "Teknik", ("Mesin CNC milling", "Mesin bubut konvensional", "Mesin bor radial")),
    ("31001", "Mebel", ("Mesin CNC router kayu", "Mesin edge banding",
                        "Mesin amplas kayu wide belt")),
)  # fmt: skip
# Trading and catering codes: applicants that are not industry, for kbli_not_manufacturing.
NON_MANUFACTURING_KBLI = ("46100", "56101")

LEGAL_FORMS = ("CV", "CV", "PT", "PT", "UD")
NAME_FIRST = (
    "Maju", "Sinar", "Karya", "Sumber", "Berkah", "Cahaya", "Mitra", "Putra", "Surya",
    "Bintang", "Harapan", "Tunas", "Mulia", "Sentosa", "Lestari", "Anugerah", "Gemilang",
)  # fmt: skip
NAME_SECOND = (
    "Jaya", "Abadi", "Makmur", "Mandiri", "Utama", "Sejati", "Bersama", "Perkasa", "Agung",
    "Sejahtera", "Baru", "Prima",
)  # fmt: skip
NAME_SUFFIX = ("", "", "", "Nusantara", "Indonesia", "Sakti", "Raya")
PERSON_FIRST = (
    "Budi", "Siti", "Agus", "Dewi", "Joko", "Sri", "Rina", "Andi", "Wahyu", "Fitri", "Hendra",
    "Yuni", "Eko", "Nur", "Rudi", "Ayu", "Bambang", "Ratna", "Dedi", "Wulan",
)  # fmt: skip
PERSON_LAST = (
    "Santoso", "Wijaya", "Saputra", "Rahayu", "Hidayat", "Kusuma", "Pratama", "Nugroho",
    "Setiawan", "Susanto", "Hartono", "Purnomo", "Siregar", "Harahap", "Lubis",
)  # fmt: skip
STREETS = (
    "Raya Solo", "Merdeka", "Sudirman", "Diponegoro", "Gatot Subroto", "Ahmad Yani", "Industri",
    "Pahlawan", "Veteran", "Kartini", "Imam Bonjol", "Gajah Mada", "Pemuda", "Kenanga",
)  # fmt: skip
# Bank name and the length of its account numbers.
BANKS = (
    ("BRI", 15), ("BNI", 10), ("Mandiri", 13), ("BCA", 10), ("BSI", 10), ("Bank Jateng", 13),
    ("Bank BJB", 13), ("Bank Jatim", 10), ("CIMB Niaga", 13),
)  # fmt: skip
DOMESTIC_BRANDS = ("Karya Mesin", "Teknika", "Mesindo Jaya", "Wira Teknik", "Nusa Tekno")
IMPORTED_BRANDS = ("Juki", "Brother", "Haitian", "Mazak", "Jack", "Tajima", "Weinig", "Yamato")
SUPPLIER_WORDS = ("Sentra Mesin", "Teknika", "Global Mesin", "Mitra Alat", "Prima Teknik",
                  "Indo Mesin", "Sarana Industri", "Duta Perkakas")  # fmt: skip
# How each supplier writes its invoice numbers; {seq} keeps the number unique.
INVOICE_FORMATS = ("INV/{y}/{m}/{seq}", "{seq}/FKT/{y}", "SO-{y}{m}-{seq}", "INV.{seq}")
# Bank payment methods and their share; "cash" is drawn separately as an anomaly.
BANK_METHODS = ("bank_transfer", "debit_card", "credit_card", "giro")
BANK_METHOD_WEIGHTS = (70, 8, 7, 15)
# Price bands in Rupiah (mostly modest machines, a few expensive lines), drawn in whole
# thousands so every amount is an integer.
PRICE_BANDS = ((5_000_000, 25_000_000), (25_000_000, 100_000_000),
               (100_000_000, 300_000_000), (300_000_000, 900_000_000))  # fmt: skip
PRICE_BAND_WEIGHTS = (35, 35, 20, 10)
# Probability of each item anomaly (exclusion finding) for an ordinary application; a
# rejected one has four times as many and one destined for approval none.
ANOMALY = {"outside_window": 0.03, "not_new": 0.02, "not_installed": 0.04, "cash": 0.03}


@dataclass
class SeedReport:
    """What one seeding run stored, and how long each step took."""

    programme_id: int
    companies: int = 0
    applications: int = 0
    items: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    spent: int = 0  # committed + disbursed of the programme after the run
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Supplier:
    name: str
    npwp: str
    invoice_format: str


@dataclass
class _Plan:
    """One application to create: its final state and the submission facts."""

    status: str
    stored_status: str
    submitted_at: dt.datetime | None = None
    status_changed_at: dt.datetime | None = None
    profile: str = "ordinary"  # "clean" (to be approved), "ordinary" or "doubtful" (rejected)


def _digits(rng: Random, count: int) -> str:
    return "".join(rng.choices("0123456789", k=count))


def _suppliers() -> tuple[_Supplier, ...]:
    """A fixed pool of machine suppliers, the same in every run (invoices stay unique)."""
    rng = Random(2026)
    return tuple(
        _Supplier(
            name=f"{rng.choice(('PT', 'CV'))} {word} {rng.choice(NAME_SECOND)}",
            npwp="0" + str(rng.randint(1, 9)) + _digits(rng, 13),
            invoice_format=rng.choice(INVOICE_FORMATS),
        )
        for word in SUPPLIER_WORDS
        for _ in range(4)
    )


def _province_weights() -> tuple[list[regions.Province], list[int]]:
    """Provinces with their regencies; Java weighs more, as most IKM units are there."""
    provinces = [p for p in regions.provinces().values() if p.regencies]
    return provinces, [
        5 if p.code in {"31", "32", "33", "34", "35", "36"} else 1 for p in provinces
    ]


def _plan(
    rng: Random,
    count: int,
    weights: Mapping[str, int],
    *,
    opens: dt.datetime,
    closes: dt.datetime,
    now: dt.datetime,
) -> list[_Plan]:
    """Final states (each weighted state at least once when count allows) in submission order."""
    states = [s for s, w in weights.items() if w > 0]
    if not states:
        raise ValueError("at least one status needs a positive weight")
    chosen = states[:count] if count >= len(states) else []
    chosen += rng.choices(states, [weights[s] for s in states], k=count - len(chosen))
    rng.shuffle(chosen)

    profiles = {S.APPROVED: "clean", S.DISBURSED: "clean", S.REJECTED: "doubtful"}
    plans = []
    for status in chosen:
        stored = rng.choice(_PROVISIONAL.get(status, (status,)))
        # A case may be withdrawn before it was ever submitted.
        if status == S.WITHDRAWN and rng.random() < 0.4:
            stored = S.DRAFT
        plans.append(_Plan(status, stored, profile=profiles.get(status, "ordinary")))

    # Submission times are drawn, sorted and handed out in creation order, so reference
    # numbers, ids and submission times all ascend together as they would in real life.
    submitted = [p for p in plans if p.stored_status != S.DRAFT]
    span = max((closes - opens).total_seconds(), 0)
    times = sorted(opens + dt.timedelta(seconds=rng.uniform(0, span)) for _ in submitted)
    for plan, at in zip(submitted, times, strict=True):
        plan.submitted_at = at
        # Review, approval and payment go on after the application window closes.
        later = 0 if plan.status == S.SUBMITTED else rng.random()
        plan.status_changed_at = at + (now - at) * later
    return plans


def _scale_facts(rng: Random, profile: str) -> tuple[int, int]:
    """Workers and investment value (Rupiah) for a kecil, menengah or, rarely, besar company."""
    besar_share = {"clean": 0.0, "ordinary": 0.03, "doubtful": 0.15}[profile]
    draw = rng.random()
    if draw < besar_share:
        return rng.randint(20, 120), rng.randrange(15_001_000, 60_000_000) * 1000
    if draw < besar_share + (1 - besar_share) * 0.55:
        return rng.randint(3, 19), rng.randrange(50_000, 1_000_000) * 1000
    if rng.random() < 0.2:  # few workers but heavy equipment: still menengah
        return rng.randint(5, 19), rng.randrange(1_000_000, 5_000_000) * 1000
    return rng.randint(20, 120), rng.randrange(1_000_000, 15_000_001) * 1000


def _company(
    rng: Random,
    nib: str,
    profile: str,
    provinces: Sequence[regions.Province],
    province_weights: Sequence[int],
) -> tuple[Company, tuple[str, ...]]:
    """A company with valid data; returns it with the machines its trade buys."""
    kbli, word, machines = rng.choice(SECTORS)
    non_industry_share = {"clean": 0.0, "ordinary": 0.03, "doubtful": 0.15}[profile]
    if rng.random() < non_industry_share:
        kbli = rng.choice(NON_MANUFACTURING_KBLI)
    workers, investment = _scale_facts(rng, profile)
    province = rng.choices(provinces, province_weights)[0]
    regency_code, regency_name = rng.choice(province.regencies)
    name = " ".join(
        part
        for part in (
            rng.choice(LEGAL_FORMS),
            rng.choice(NAME_FIRST),
            rng.choice(NAME_SECOND),
            word,
            rng.choice(NAME_SUFFIX),
        )
        if part
    )
    if rng.random() < 0.3:  # NIK-based NPWP: 16 digits opening with the regency code
        npwp = regency_code.replace(".", "") + _digits(rng, 12)
    else:
        npwp = "0" + str(rng.randint(1, 9)) + _digits(rng, 13)
    bank, account_length = rng.choice(BANKS)
    company = Company(
        name=name,
        nib=nib,
        npwp=npwp,
        kbli=kbli,
        workers=workers,
        investment_value=investment,
        province=province.code,
        regency=regency_code,
        address=(
            f"Jl. {rng.choice(STREETS)} No. {rng.randint(1, 250)}, "
            f"RT {rng.randint(1, 12):02d}/RW {rng.randint(1, 9):02d}, {regency_name}"
        ),
        bank_name=bank,
        bank_account_number=str(rng.randint(1, 9)) + _digits(rng, account_length - 1),
        bank_account_name=name.upper(),
    )
    return company, machines


def _snapshot(company: Company) -> dict:
    """Company.snapshot() without the per-row method call overhead; same keys and values."""
    return {
        "name": company.name,
        "nib": company.nib or "",
        "npwp": company.npwp,
        "kbli": company.kbli,
        "workers": company.workers,
        "investment_value": company.investment_value,
        "province": company.province,
        "regency": company.regency,
        "address": company.address,
        "bank_name": company.bank_name,
        "bank_account_number": company.bank_account_number,
        "bank_account_name": company.bank_account_name,
    }


def _random_day(rng: Random, first: dt.date, last: dt.date) -> dt.date:
    if last < first:
        return last
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _price(rng: Random, at_least: int = 0) -> int:
    low, high = rng.choices(PRICE_BANDS, PRICE_BAND_WEIGHTS)[0]
    if high <= at_least:
        low, high = at_least, at_least * 4
    return rng.randrange(max(low, at_least) // 1000, high // 1000 + 1) * 1000


def _items(
    rng: Random,
    *,
    application: Application,
    nib: str,
    count: int,
    machines: Sequence[str],
    profile: str,
    programme: Programme,
    suppliers: Sequence[_Supplier],
    today: dt.date,
) -> list[MachineItem]:
    """The machines of one application; serials and invoices are unique by the NIB counter."""
    factor = {"clean": 0.0, "ordinary": 1.0, "doubtful": 4.0}[profile]
    odds = {name: share * factor for name, share in ANOMALY.items()}
    last_purchase = min(programme.purchase_to, today)
    last_install = min(programme.install_by, today)
    items = []
    for k in range(count):
        unique = f"{nib[-9:]}{k:02d}"  # NIBs never repeat, so neither does this
        origin = rules.DOMESTIC if rng.random() < 0.4 else rules.IMPORTED
        brand = rng.choice(DOMESTIC_BRANDS if origin == rules.DOMESTIC else IMPORTED_BRANDS)
        code = "".join(word[0] for word in brand.split()).upper() + brand[1].upper()
        if rng.random() < odds["outside_window"]:
            invoice_date = programme.purchase_from - dt.timedelta(days=rng.randint(5, 200))
        else:
            invoice_date = _random_day(rng, programme.purchase_from, last_purchase)
        if rng.random() < odds["not_installed"]:
            late = programme.install_by + dt.timedelta(days=rng.randint(1, 30))
            installed_on = late if late <= today and rng.random() < 0.5 else None
        else:
            installed_on = min(invoice_date + dt.timedelta(days=rng.randint(3, 40)), last_install)
            installed_on = max(installed_on, invoice_date)
        if rng.random() < odds["cash"]:
            payment_method = "cash"
        else:
            payment_method = rng.choices(BANK_METHODS, BANK_METHOD_WEIGHTS)[0]
        supplier = rng.choice(suppliers)
        invoice_number = supplier.invoice_format.format(
            y=invoice_date.year, m=f"{invoice_date.month:02d}", seq=unique
        )
        serial_number = f"{code}{invoice_date:%y%m}-{unique}"
        # A clean case clears the minimum refund with its first machine alone.
        price = _price(rng, at_least=25_000_000 if profile == "clean" and k == 0 else 0)
        items.append(
            MachineItem(
                application=application,
                description=rng.choice(machines),
                brand=brand,
                model=f"{code}-{rng.randint(100, 9999)}",
                serial_number=serial_number,
                origin=origin,
                supplier_name=supplier.name,
                supplier_npwp=supplier.npwp,
                invoice_number=invoice_number,
                tax_invoice_number=(
                    f"010.{rng.randint(0, 9):03d}-{invoice_date.year % 100:02d}.{_digits(rng, 8)}"
                ),
                invoice_date=invoice_date,
                price=price,
                vat=price * 11 // 100,  # PPN 11%
                payment_method=payment_method,
                is_new=rng.random() >= odds["not_new"],
                installed_on=installed_on,
                # bulk_create skips MachineItem.save(), which would set these two.
                invoice_key=rules.invoice_key(supplier.npwp, invoice_number),
                serial_key=rules.serial_key(serial_number),
            )
        )
    return items


def _first_nib(count: int) -> int:
    """The first NIB of this run: after every NIB stored, so reruns never collide."""
    top = Company.objects.filter(nib__regex=r"^[0-9]{13}$").aggregate(top=Max("nib"))["top"]
    first = max(NIB_FLOOR, int(top) + 1 if top else 0)
    if first + count - 1 > NIB_CEILING:
        raise ValueError("no room left for new 13-digit demo NIBs")
    return first


def _chunks(values: Sequence[int], size: int = 1000) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _ensure_programme(year: int) -> Programme:
    if Programme.objects.filter(year=year).exists():
        return ensure_preset_programme(year=year)
    return ensure_preset_programme(
        year=year, name=f"Restrukturisasi Mesin dan/atau Peralatan IKM {year}"
    )


def seed_demo(
    *,
    applications: int,
    seed: int = 0,
    programme_year: int = 2026,
    items_per_application: int = 3,
    compute: bool = True,
    status_weights: Mapping[str, int] | None = None,
    batch_size: int = BATCH,
    progress: Callable[[str], object] | None = None,
) -> SeedReport:
    """Create `applications` demo companies, applicants and applications of a programme."""
    if applications < 0:
        raise ValueError("applications must not be negative")
    if not 1 <= items_per_application <= MAX_ITEMS_PER_APPLICATION:
        raise ValueError(f"items per application must be 1..{MAX_ITEMS_PER_APPLICATION}")
    weights = dict(STATUS_WEIGHTS if status_weights is None else status_weights)
    unknown = set(weights) - set(S.values)
    if unknown:
        raise ValueError(f"unknown statuses: {sorted(unknown)}")
    say = progress or (lambda message: None)
    started = time.perf_counter()
    rng = Random(seed)
    programme = _ensure_programme(programme_year)
    report = SeedReport(programme_id=programme.pk)

    now = timezone.now()
    today = timezone.localdate()
    opens = timezone.make_aware(dt.datetime.combine(programme.application_opens, dt.time(8)))
    closes = timezone.make_aware(dt.datetime.combine(programme.application_closes, dt.time(17)))
    plans = _plan(
        rng, applications, weights, opens=min(opens, now), closes=min(closes, now), now=now
    )

    provinces, province_weights = _province_weights()
    suppliers = _suppliers()
    applicant_group = role_group(APPLICANT)
    officers = list(
        User.objects.filter(groups__name=VERIFIER, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # A stream of its own: whether verifiers exist must not change the rest of the data.
    officer_rng = Random(seed)
    # One unusable hash for all: these accounts have no password, and hashing per row
    # would only cost time.
    no_password = make_password(None)
    checklist = dict.fromkeys(CHECKLIST_ITEMS, True)
    UserGroup = User.groups.through
    Membership = Company.members.through

    final_status: dict[int, str] = {}
    with transaction.atomic():
        # Approvals lock the programme row and submissions the counter: taking both orders
        # this run with them, so references stay gap-free and the budget is never overrun.
        Programme.objects.select_for_update().get(pk=programme.pk)
        ReferenceCounter.objects.get_or_create(programme=programme)
        counter = ReferenceCounter.objects.select_for_update().get(programme=programme)
        next_nib = _first_nib(applications)
        first_app_id = None

        for start in range(0, applications, batch_size):
            batch = plans[start : start + batch_size]
            nibs = [f"{next_nib + start + i:013d}" for i in range(len(batch))]
            built = [
                _company(rng, nib, plan.profile, provinces, province_weights)
                for nib, plan in zip(nibs, batch, strict=True)
            ]
            companies = [company for company, _ in built]
            users = [
                User(
                    username=f"ikm{nib}",
                    email=f"ikm{nib}@example.com",
                    first_name=rng.choice(PERSON_FIRST),
                    last_name=rng.choice(PERSON_LAST),
                    password=no_password,
                )
                for nib in nibs
            ]
            User.objects.bulk_create(users, batch_size=batch_size)
            UserGroup.objects.bulk_create(
                [UserGroup(user_id=u.pk, group_id=applicant_group.pk) for u in users],
                batch_size=batch_size,
            )
            Company.objects.bulk_create(companies, batch_size=batch_size)
            Membership.objects.bulk_create(
                [
                    Membership(company_id=c.pk, user_id=u.pk)
                    for c, u in zip(companies, users, strict=True)
                ],
                batch_size=batch_size,
            )

            apps = []
            for plan, company, user in zip(batch, companies, users, strict=True):
                app = Application(
                    programme=programme,
                    company=company,
                    status=plan.stored_status,
                    created_by=user,
                )
                if plan.submitted_at is not None:
                    counter.last_number += 1
                    app.reference = f"RMP-{programme.year}-{counter.last_number:06d}"
                    app.submitted_at = plan.submitted_at
                    app.status_changed_at = plan.status_changed_at
                    app.company_snapshot = _snapshot(company)
                    if officers and plan.status in _WITH_CASE_OFFICER:
                        app.case_officer_id = officer_rng.choice(officers)
                    if plan.status in _CHECKED_ON_SITE or plan.stored_status == S.RECOMMENDED:
                        app.checklist = checklist
                    if plan.status == S.DISBURSED:
                        app.transferred_on = timezone.localdate(plan.status_changed_at)
                        app.transfer_reference = f"SP2D/{programme.year}/{_digits(rng, 8)}"
                apps.append(app)
            Application.objects.bulk_create(apps, batch_size=batch_size)
            if first_app_id is None and apps:
                first_app_id = apps[0].pk
            for app, plan in zip(apps, batch, strict=True):
                if plan.status != app.status:
                    final_status[app.pk] = plan.status

            items = []
            for app, plan, (_, machines), nib in zip(apps, batch, built, nibs, strict=True):
                items += _items(
                    rng,
                    application=app,
                    nib=nib,
                    count=items_per_application,
                    machines=machines,
                    profile=plan.profile,
                    programme=programme,
                    suppliers=suppliers,
                    today=today,
                )
            MachineItem.objects.bulk_create(items, batch_size=batch_size)
            report.companies += len(companies)
            report.applications += len(apps)
            report.items += len(items)
            say(
                f"  {report.applications}/{applications} applications, {report.items} items "
                f"({time.perf_counter() - started:.1f} s)"
            )
        counter.save(update_fields=["last_number"])
        report.seconds["insert"] = time.perf_counter() - started

        if first_app_id is not None:
            # auto_now_add stamped every row with this moment; a case was created before it
            # was submitted and last touched when its state last changed.
            Application.objects.filter(
                programme=programme, pk__gte=first_app_id, submitted_at__isnull=False
            ).update(
                created_at=ExpressionWrapper(
                    F("submitted_at") - dt.timedelta(days=2), output_field=DateTimeField()
                ),
                updated_at=F("status_changed_at"),
            )

        step = time.perf_counter()
        _finish(programme, final_status, say)
        report.seconds["finish"] = time.perf_counter() - step

    if compute:
        step = time.perf_counter()
        say("  computing the open applications (recompute_programme) ...")
        computation.recompute_programme(programme.pk)
        report.seconds["compute"] = time.perf_counter() - step

    if first_app_id is not None:
        report.by_status = dict(
            Counter(
                Application.objects.filter(programme=programme, pk__gte=first_app_id)
                .values_list("status", flat=True)
                .order_by()
            )
        )
    report.spent = programme_spent(programme.pk)
    report.seconds["total"] = time.perf_counter() - started
    return report


def _finish(programme: Programme, final_status: Mapping[int, str], say: Callable) -> None:
    """Compute the cases bound for a final state, then move them there within the budget."""
    ids = sorted(final_status)
    if not ids:
        return
    say(f"  computing {len(ids)} applications bound for approved/disbursed/rejected/withdrawn")
    computation.compute_applications(ids)

    to_pay = [pk for pk in ids if final_status[pk] in (S.APPROVED, S.DISBURSED)]
    results = {}
    for chunk in _chunks(to_pay):
        results.update(
            (pk, (amount, at, findings))
            for pk, amount, at, findings in Application.objects.filter(pk__in=chunk).values_list(
                "pk", "computed_discount", "computed_at", "findings"
            )
        )
    # The same checks as application_approve, in submission (= id) order: first come,
    # first served until the budget is spent; the rest stay recommended.
    available = programme.budget - programme_spent(programme.pk)
    moved: dict[str, list[int]] = {S.APPROVED: [], S.DISBURSED: [], S.RECOMMENDED: []}
    for pk in to_pay:
        amount, computed_at, findings = results[pk]
        blocked = any(f["code"] in rules.BLOCKING_CODES for f in findings)
        if computed_at is None or blocked or amount <= 0 or amount > available:
            moved[S.RECOMMENDED].append(pk)
            continue
        available -= amount
        moved[final_status[pk]].append(pk)
    for pk in ids:
        if final_status[pk] in (S.REJECTED, S.WITHDRAWN):
            moved.setdefault(final_status[pk], []).append(pk)

    amount = F("computed_discount")
    changes = {
        S.APPROVED: {"status": S.APPROVED, "approved_amount": amount},
        S.DISBURSED: {"status": S.DISBURSED, "approved_amount": amount, "disbursed_amount": amount},
        S.RECOMMENDED: {"transfer_reference": "", "transferred_on": None},
        S.REJECTED: {"status": S.REJECTED},
        S.WITHDRAWN: {"status": S.WITHDRAWN},
    }
    for status, pks in moved.items():
        for chunk in _chunks(pks):
            Application.objects.filter(pk__in=chunk).update(**changes[status])
    if moved[S.RECOMMENDED]:
        say(f"  {len(moved[S.RECOMMENDED])} stay recommended (budget spent or not eligible)")
