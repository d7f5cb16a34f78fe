"""How amounts, rates, tax numbers and dates are written for people (pure functions)."""

import datetime as dt
from decimal import Decimal

MONTHS = {
    "id": (
        "Januari", "Februari", "Maret", "April", "Mei", "Juni",
        "Juli", "Agustus", "September", "Oktober", "November", "Desember",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip


def rupiah(amount: int | None) -> str:
    """Whole Rupiah with dots between thousands: "Rp 152.125.000"."""
    amount = amount or 0
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp {abs(amount):,}".replace(",", ".")


def percent(rate: Decimal | None) -> str:
    """A rate as a percentage without trailing zeros: 0.4 -> "40%", 0.125 -> "12,5%"."""
    value = (Decimal(rate or 0) * 100).normalize()
    text = f"{value:f}"
    return text.replace(".", ",") + "%"


def npwp(digits: str) -> str:
    """A 15-digit NPWP as 00.000.000.0-000.000; a 16-digit (NIK-based) one as it is."""
    if len(digits) != 15 or not digits.isdigit():
        return digits
    d = digits
    return f"{d[:2]}.{d[2:5]}.{d[5:8]}.{d[8]}-{d[9:12]}.{d[12:]}"


def date_id(day: dt.date, language: str = "id") -> str:
    """A date with its month in words: "2 Desember 2026" ("2 December 2026" in English)."""
    months = MONTHS.get(language, MONTHS["id"])
    return f"{day.day} {months[day.month - 1]} {day.year}"
