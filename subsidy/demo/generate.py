"""Made-up but plausible companies, suppliers and machines for the demo data."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from random import Random

from django.db.models import Max

from subsidy import regions
from subsidy.engine import rules
from subsidy.models import Application, Company, MachineItem, Programme

S = Application.Status


# A new company's NIB never goes below this, so demo NIBs look like OSS ones ("9120...").
NIB_FLOOR = 9_120_000_000_001


NIB_CEILING = 9_999_999_999_999


MAX_ITEMS_PER_APPLICATION = 99  # the serial and invoice schemes keep two digits for it


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


@dataclass(frozen=True)
class _Supplier:
    name: str
    npwp: str
    invoice_format: str


def random_digits(rng: Random, count: int) -> str:
    return "".join(rng.choices("0123456789", k=count))


def supplier_pool() -> tuple[_Supplier, ...]:
    """A fixed pool of machine suppliers, the same in every run (invoices stay unique)."""
    rng = Random(2026)
    return tuple(
        _Supplier(
            name=f"{rng.choice(('PT', 'CV'))} {word} {rng.choice(NAME_SECOND)}",
            npwp="0" + str(rng.randint(1, 9)) + random_digits(rng, 13),
            invoice_format=rng.choice(INVOICE_FORMATS),
        )
        for word in SUPPLIER_WORDS
        for _ in range(4)
    )


def weighted_provinces() -> tuple[list[regions.Province], list[int]]:
    """Provinces with their regencies; Java weighs more, as most IKM units are there."""
    provinces = [p for p in regions.provinces().values() if p.regencies]
    return provinces, [
        5 if p.code in {"31", "32", "33", "34", "35", "36"} else 1 for p in provinces
    ]


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


def make_company(
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
        npwp = regency_code.replace(".", "") + random_digits(rng, 12)
    else:
        npwp = "0" + str(rng.randint(1, 9)) + random_digits(rng, 13)
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
        bank_account_number=str(rng.randint(1, 9)) + random_digits(rng, account_length - 1),
        bank_account_name=name.upper(),
    )
    return company, machines


def _random_day(rng: Random, first: dt.date, last: dt.date) -> dt.date:
    if last < first:
        return last
    return first + dt.timedelta(days=rng.randint(0, (last - first).days))


def _price(rng: Random, at_least: int = 0) -> int:
    low, high = rng.choices(PRICE_BANDS, PRICE_BAND_WEIGHTS)[0]
    if high <= at_least:
        low, high = at_least, at_least * 4
    return rng.randrange(max(low, at_least) // 1000, high // 1000 + 1) * 1000


def make_items(
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
                    f"010.{rng.randint(0, 9):03d}-{invoice_date.year % 100:02d}."
                    f"{random_digits(rng, 8)}"
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


def first_nib(count: int) -> int:
    """The first NIB of this run: after every NIB stored, so reruns never collide."""
    top = Company.objects.filter(nib__regex=r"^[0-9]{13}$").aggregate(top=Max("nib"))["top"]
    first = max(NIB_FLOOR, int(top) + 1 if top else 0)
    if first + count - 1 > NIB_CEILING:
        raise ValueError("no room left for new 13-digit demo NIBs")
    return first
