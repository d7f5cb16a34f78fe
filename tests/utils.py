"""Helpers shared by tests: API clients, uploads, complete applications."""

import contextlib
import io
import time
from collections.abc import Iterator

from allauth.account.internal.flows.login import record_authentication
from allauth.account.models import EmailAddress
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from allauth.mfa.utils import decrypt
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import HttpRequest
from PIL import Image, TiffImagePlugin
from rest_framework.test import APIClient

from accounts.services import api_token_create
from subsidy.services import applications as application_services
from subsidy.services import documents as document_services

# A minimal valid PDF: the upload check reads the content, not the name.
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def totp_code(user, *, offset: int = 0) -> str:
    """The code the user's authenticator app shows now (``offset`` steps of 30 s away),
    computed with allauth's own TOTP functions."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    secret = decrypt(authenticator.data["secret"])
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD + offset
    return format_hotp_value(hotp_value(secret, counter))


def recovery_codes(user) -> list[str]:
    """The user's unused recovery codes, as allauth's page shows them."""
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.RECOVERY_CODES)
    return authenticator.wrap().get_unused_codes()


def pass_second_factor(client, user) -> None:
    """Mark the client's session as having passed the user's second factor, with allauth's own
    record of it (what its log-in stage writes after a valid code)."""
    authenticator = Authenticator.objects.filter(
        user=user, type__in=[Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN]
    ).first()
    request = HttpRequest()
    request.session = client.session
    record_authentication(request, user, "mfa", id=authenticator.pk, type=authenticator.type)
    request.session.save()


def verify_email(user) -> None:
    """The user's address counts as confirmed, as the log-in form requires."""
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )


def api_token_for(user) -> str:
    """A fresh API token's secret for ``user`` (as POST /api/v1/auth/token/ gives it)."""
    return api_token_create(user=user).secret


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def pdf_upload(name: str = "faktur.pdf", content: bytes = PDF_BYTES):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/pdf")


_item_counter = iter(range(1, 10**9))


def item_data(**overrides) -> dict:
    """A valid, eligible machine item with a unique invoice and serial number."""
    import datetime as dt

    from django.utils import timezone

    n = next(_item_counter)
    today = timezone.localdate()
    data = {
        "description": "Mesin CNC bubut",
        "brand": "Krisbow",
        "model": "KW-1000",
        "serial_number": f"SN-{n:06d}",
        "origin": "domestic",
        "supplier_name": "PT Sumber Mesin",
        "supplier_npwp": "01.234.567.8-901.000",
        "invoice_number": f"INV/{n:05d}",
        "tax_invoice_number": f"010.000-26.{n:08d}",
        "invoice_date": today - dt.timedelta(days=60),
        "price": 100_000_000,
        "vat": 11_000_000,
        "payment_method": "bank_transfer",
        "is_new": True,
        "installed_on": today - dt.timedelta(days=30),
    }
    data.update(overrides)
    return data


def complete_application(application, by, *, items: int = 1, **item_overrides):
    """Items and every required document, ready for submission."""
    for _ in range(items):
        application_services.item_create(
            application=application, by=by, **item_data(**item_overrides)
        )
    for kind in application.programme.required_documents:
        document_services.document_upload(
            application=application, by=by, kind=kind, file=pdf_upload()
        )
    application.refresh_from_db()
    return application


def jpeg(*, gps: bool = True, taken: str | None = "2026:03:05 10:15:30", fmt: str = "JPEG"):
    """A small photo made here with Pillow, carrying EXIF time and GPS when asked."""
    rational = TiffImagePlugin.IFDRational
    exif = Image.Exif()
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken  # DateTimeOriginal
    if gps:
        # 6° 10' 30.15" S, 106° 49' 12.34" E: Jakarta.
        block = exif.get_ifd(0x8825)
        block[1] = "S"
        block[2] = (rational(6, 1), rational(10, 1), rational(3015, 100))
        block[3] = "E"
        block[4] = (rational(106, 1), rational(49, 1), rational(1234, 100))
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "green").save(buffer, fmt, exif=exif)
    suffix = "jpg" if fmt == "JPEG" else "png"
    return SimpleUploadedFile(f"foto.{suffix}", buffer.getvalue(), content_type="image/jpeg")


@contextlib.contextmanager
def audit_trigger_off() -> Iterator[None]:
    """Act as a database superuser who switches triggers off (PostgreSQL) to edit the audit
    trail: what the HMAC chain and the anchors must still catch."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = origin")
