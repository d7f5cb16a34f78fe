"""Indonesian formats for pages (PAGES.md "Conventions"): pure functions, one place.

Money is a whole number of Rupiah (int), rates are Decimal: no float ever reaches a page.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from subsidy.engine.rules import digits_only

JAKARTA = ZoneInfo("Asia/Jakarta")

_MONTHS = {
    "id": (
        "Januari",
        "Februari",
        "Maret",
        "April",
        "Mei",
        "Juni",
        "Juli",
        "Agustus",
        "September",
        "Oktober",
        "November",
        "Desember",
    ),
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
}


def _language(language: str | None) -> str:
    """The two formats there are: English, and Indonesian for everything else."""
    return "en" if (language or "").lower().startswith("en") else "id"


def group_thousands(value: int) -> str:
    """Whole number with a dot between thousands, as Indonesians write it: 152.125.000."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"expected a whole number, not {type(value).__name__}")
    text = f"{abs(value):,}".replace(",", ".")
    return f"-{text}" if value < 0 else text


def rupiah(value: int | None) -> str:
    """Rupiah amount: "Rp 152.125.000" (a negative amount "-Rp 5.000"; none, "")."""
    if value is None:
        return ""
    text = group_thousands(value)
    return f"-Rp {text[1:]}" if value < 0 else f"Rp {text}"


def percent(rate: Decimal) -> str:
    """A rate (0.4000) as a percentage: "40%", "12,5%" (comma for decimals, no trailing 0)."""
    if not isinstance(rate, Decimal):
        raise TypeError(f"rate must be a Decimal, not {type(rate).__name__}")
    value = (rate * 100).normalize()
    # normalize() writes 40 as 4E+1: format as a plain number.
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.replace(".", ",") + "%"


def npwp(value: str) -> str:
    """NPWP with its usual punctuation: 15 digits 00.000.000.0-000.000; 16 digits 0000 0000 ..."""
    digits = digits_only(value or "")
    if len(digits) == 15:
        return (
            f"{digits[0:2]}.{digits[2:5]}.{digits[5:8]}.{digits[8]}-{digits[9:12]}.{digits[12:15]}"
        )
    if len(digits) == 16:
        # The 16-digit NPWP (the NIK since 2024) is written in four groups of four.
        return " ".join(digits[i : i + 4] for i in range(0, 16, 4))
    return value or ""


# A fixed number of dots: the mask says nothing about the number's length.
ACCOUNT_MASK = "\u2022" * 6


def masked_account_number(value: str | None) -> str:
    """A bank account number shown by its last four digits only: "••••••1234"."""
    digits = digits_only(value or "")
    if not digits:
        return ""
    return ACCOUNT_MASK + (digits[-4:] if len(digits) > 4 else "")


def long_date(value: dt.date | None, language: str | None = "id") -> str:
    """A date in words: "2 Desember 2026" ("2 December 2026" in English)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = local_datetime(value).date()
    month = _MONTHS[_language(language)][value.month - 1]
    return f"{value.day} {month} {value.year}"


def local_datetime(value: dt.datetime) -> dt.datetime:
    """A moment in Asia/Jakarta time (a naive value is taken to be Jakarta time already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=JAKARTA)
    return value.astimezone(JAKARTA)


def long_datetime(value: dt.datetime | None, language: str | None = "id") -> str:
    """A moment in Jakarta time: "2 Desember 2026 14.05 WIB" ("2 December 2026 14:05 WIB")."""
    if value is None:
        return ""
    local = local_datetime(value)
    separator = ":" if _language(language) == "en" else "."
    return f"{long_date(local.date(), language)} {local:%H}{separator}{local:%M} WIB"


# A spreadsheet reads a text cell starting with one of these as a formula (OWASP "CSV
# injection"): every CSV the system writes puts a quote before it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet would run as a formula, prefixed with ' so it stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
