"""Demo data for local use: the 2026 preset programme of DOMAIN.md."""

import datetime as dt
from decimal import Decimal

from django.db import transaction

from subsidy.models import Programme, ProgrammeRate, ReferenceCounter

PRESET_2026 = {
    "year": 2026,
    "name": "Restrukturisasi Mesin dan/atau Peralatan IKM 2026",
    "application_opens": dt.date(2026, 4, 1),
    "application_closes": dt.date(2026, 9, 30),
    "purchase_from": dt.date(2025, 8, 1),
    "purchase_to": dt.date(2026, 8, 31),
    "install_by": dt.date(2026, 9, 15),
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


@transaction.atomic
def ensure_preset_programme(**overrides: object) -> Programme:
    """The 2026 preset (created once; an existing programme of that year is kept as it is)."""
    fields = {**PRESET_2026, **overrides}
    programme, created = Programme.objects.get_or_create(year=fields.pop("year"), defaults=fields)
    if created:
        ProgrammeRate.objects.bulk_create(
            ProgrammeRate(programme=programme, scale=s, origin=o, rate=r)
            for (s, o), r in PRESET_RATES.items()
        )
    ReferenceCounter.objects.get_or_create(programme=programme)
    return programme
