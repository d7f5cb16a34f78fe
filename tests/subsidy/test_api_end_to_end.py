"""One application from registration to disbursement, through the API only."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import APPROVER, FINANCE, VERIFIER
from accounts.second_factor import has_second_factor
from tests.factories import ProgrammeFactory, UserFactory
from tests.utils import PDF_BYTES, totp_code


def _token_client(username: str, password: str) -> APIClient:
    client = APIClient()
    credentials = {"username": username, "password": password}
    user = get_user_model().objects.get(username=username)
    if has_second_factor(user):  # staff: the authenticator app's code too
        credentials["otp"] = totp_code(user)
    response = client.post("/api/v1/auth/token/", credentials, format="json")
    assert response.status_code == 200, response.content
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def _history_actions(client: APIClient, application_id: int) -> list[str]:
    response = client.get(f"/api/v1/applications/{application_id}/history/")
    assert response.status_code == 200
    return [entry["action"] for entry in response.json()]


@pytest.mark.django_db(transaction=True)
def test_application_from_registration_to_disbursement_through_the_api():
    programme = ProgrammeFactory(
        budget=1_000_000_000, required_documents=["nib", "invoice", "payment_proof"]
    )
    for name, role in (("vera", VERIFIER), ("andi", APPROVER), ("fina", FINANCE)):
        UserFactory(username=name, roles=[role])
    today = timezone.localdate()

    anon = APIClient()
    response = anon.post(
        "/api/v1/auth/register/",
        {"username": "sari", "email": "sari@ikm.test", "password": "Batik-Solo-2026"},
        format="json",
    )
    assert response.status_code == 201, response.content
    # The link mailed to the address verifies it; only then is there a token.
    link = re.search(r"/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    assert Client().post(link).status_code == 302
    owner = _token_client("sari", "Batik-Solo-2026")
    assert owner.get("/api/v1/me/").json()["roles"] == ["applicant"]

    response = owner.post(
        "/api/v1/companies/",
        {
            "name": "CV Batik Sari",
            "nib": "1234567890123",
            "npwp": "01.234.567.8-901.000",
            "kbli": "13134",
            "workers": 15,
            "investment_value": 800_000_000,
            "province": "33",
            "regency": "33.10",
            "address": "Jl. Merapi 5, Klaten",
            "bank_name": "BRI",
            "bank_account_number": "002101000123",
            "bank_account_name": "CV Batik Sari",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    company = response.json()
    assert company["scale"] == "kecil"
    assert company["npwp"] == "012345678901000"
    assert company["regency_name"] == "Kabupaten Klaten"

    response = owner.post(
        "/api/v1/applications/",
        {"programme": programme.pk, "company": company["id"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    application_id = response.json()["id"]
    assert response.json()["reference"] is None

    for serial, price, origin in (
        ("XK-77", 150_000_001, "domestic"),
        ("LM-9", 80_000_000, "imported"),
    ):
        response = owner.post(
            f"/api/v1/applications/{application_id}/items/",
            {
                "description": "Mesin cap batik",
                "brand": "Sinar",
                "model": "C-2",
                "serial_number": serial,
                "origin": origin,
                "supplier_name": "PT Mesin Jaya",
                "supplier_npwp": "02.345.678.9-012.000",
                "invoice_number": f"INV/{serial}",
                "tax_invoice_number": f"010.000-26.{serial}",
                "invoice_date": (today - dt.timedelta(days=40)).isoformat(),
                "price": price,
                "vat": price * 11 // 100,
                "payment_method": "bank_transfer",
                "is_new": True,
                "installed_on": (today - dt.timedelta(days=10)).isoformat(),
            },
            format="json",
        )
        assert response.status_code == 201, response.content

    for kind in ("nib", "invoice", "payment_proof"):
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile(f"{kind}.pdf", PDF_BYTES, content_type="application/pdf")
        response = owner.post(
            f"/api/v1/applications/{application_id}/documents/",
            {"kind": kind, "file": upload},
            format="multipart",
        )
        assert response.status_code == 201, response.content

    # floor(150,000,001 x 0.40) + floor(80,000,000 x 0.25) = 60,000,000 + 20,000,000
    response = owner.get(f"/api/v1/applications/{application_id}/")
    assert response.json()["computed_discount"] == 80_000_000
    assert response.json()["computed_at"] is not None

    response = owner.post(
        f"/api/v1/applications/{application_id}/transitions/", {"action": "submit"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted"
    assert response.json()["reference"] == f"RMP-{programme.year}-000001"

    verifier = _token_client("vera", "Pw-for-tests-1")
    approver = _token_client("andi", "Pw-for-tests-1")
    finance = _token_client("fina", "Pw-for-tests-1")
    steps = [
        (verifier, {"action": "start_review"}, "under_review"),
        (verifier, {"action": "pass_review"}, "field_verification"),
        (
            verifier,
            {
                "action": "recommend",
                "checklist": {
                    "machines_present": True,
                    "machines_new": True,
                    "machines_installed": True,
                    "not_transferred": True,
                },
            },
            "recommended",
        ),
        (approver, {"action": "approve"}, "approved"),
    ]
    for client, payload, expected in steps:
        response = client.post(
            f"/api/v1/applications/{application_id}/transitions/", payload, format="json"
        )
        assert response.status_code == 200, response.content
        assert response.json()["status"] == expected

    assert response.json()["approved_amount"] == 80_000_000
    budget = approver.get(f"/api/v1/programmes/{programme.pk}/budget/").json()
    assert budget == {
        "budget": 1_000_000_000,
        "committed": 80_000_000,
        "disbursed": 0,
        "available": 920_000_000,
    }
    letter = owner.get(f"/api/v1/applications/{application_id}/letter/")
    assert letter.status_code == 200
    assert letter["Content-Type"] == "application/pdf"

    response = finance.post(
        f"/api/v1/applications/{application_id}/transitions/",
        {
            "action": "disburse",
            "transfer_reference": "BRI-TRF-0001",
            "transferred_on": today.isoformat(),
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "disbursed"
    assert body["disbursed_amount"] == 80_000_000
    assert body["payout_account_number"] == "002101000123"
    budget = finance.get(f"/api/v1/programmes/{programme.pk}/budget/").json()
    assert budget["committed"] == 0
    assert budget["disbursed"] == 80_000_000
    assert budget["available"] == 920_000_000

    actions = _history_actions(owner, application_id)
    transitions = [a for a in actions if a not in {"create", "upload", "update", "notice"}]
    assert transitions == [
        "submit",
        "start_review",
        "pass_review",
        "recommend",
        "approve",
        "disburse",
    ]
    assert actions.count("upload") == 3
    assert actions.count("notice") == 3  # submitted, approved, disbursed

    kinds = [n["kind"] for n in owner.get("/api/v1/notifications/").json()["results"]]
    assert kinds == ["disbursed", "approved", "submitted"]
