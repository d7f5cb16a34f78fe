"""Demo data for local use: the preset programme of DOMAIN.md, its windows around today.

The settings are the 2026 demo preset of DOMAIN.md; only the dates move, so the demo is
usable on whatever day it is loaded: the current year's programme has its application
window open today, its purchase window covering the demo invoices and install_by after them.
"""

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from subsidy.models import Programme, ProgrammeRate, ReferenceCounter

PRESET_SETTINGS = {
    "budget": 10_000_000_000,
    "min_refund": 5_000_000,
    "max_refund_per_company": 300_000_000,
    "max_participations": 3,
    "required_documents": [
        "nib",
        "npwp",
        "invoice",
        "tax_invoice",
        "payment_proof",
        "installation_photo",
    ],
}
PRESET_RATES = {
    ("kecil", "domestic"): Decimal("0.4000"),
    ("kecil", "imported"): Decimal("0.2500"),
    ("menengah", "domestic"): Decimal("0.4000"),
    ("menengah", "imported"): Decimal("0.2500"),
}


def _same_day_in(year: int, day: dt.date) -> dt.date:
    """The day of the year `day` falls on, in `year` (29 February becomes the 28th)."""
    try:
        return day.replace(year=year)
    except ValueError:
        return day.replace(year=year, day=28)


def preset_fields(year: int, today: dt.date) -> dict:
    """The preset programme of `year`, its windows placed as if `today` fell in that year.

    For the current year: applications opened about two months ago and close in about four;
    purchases count from 1 August of the year before (as in the regulation) until a month
    before applications close, installations until two weeks before they close.
    """
    anchor = _same_day_in(year, today)
    closes = anchor + dt.timedelta(days=122)
    return {
        "year": year,
        "name": f"Restrukturisasi Mesin dan/atau Peralatan IKM {year}",
        "application_opens": anchor - dt.timedelta(days=61),
        "application_closes": closes,
        "purchase_from": dt.date(year - 1, 8, 1),
        "purchase_to": closes - dt.timedelta(days=30),
        "install_by": closes - dt.timedelta(days=15),
        **PRESET_SETTINGS,
        "required_documents": list(PRESET_SETTINGS["required_documents"]),
    }


@transaction.atomic
def ensure_preset_programme(*, year: int | None = None, today: dt.date | None = None) -> Programme:
    """The preset programme of `year` (default: this year), created once.

    A programme of that year that already exists is kept as it is, so loading the demo again
    never duplicates it; loading it in a later year adds that year's programme.
    """
    today = today or timezone.localdate()
    fields = preset_fields(year or today.year, today)
    programme, created = Programme.objects.get_or_create(year=fields.pop("year"), defaults=fields)
    if created:
        ProgrammeRate.objects.bulk_create(
            ProgrammeRate(programme=programme, scale=s, origin=o, rate=r)
            for (s, o), r in PRESET_RATES.items()
        )
    ReferenceCounter.objects.get_or_create(programme=programme)
    return programme
