"""No NPWP, NIB, bank account number or password reaches a log line: a full applicant and
officer journey runs with every logger at DEBUG (SQL aside: its parameters are the data
itself, and django.db.backends stays off), and every record is scanned."""

import datetime as dt
import logging
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.roles import APPROVER, AUDITOR, FINANCE, VERIFIER
from accounts.second_factor import has_second_factor
from tests.factories import ProgrammeFactory, UserFactory
from tests.utils import PDF_BYTES, totp_code

PASSWORD = "Rendang-Padang-7749!"
NPWP = "31.415.926.5-358.979"
NIB = "2718281828459"
ACCOUNT = "0045-1234-5678-901"
STAFF_PASSWORD = "Gudeg-Jogja-5521!"
# Each secret as typed and as stored (digits only).
SECRETS = {
    "password": [PASSWORD, STAFF_PASSWORD],
    "NPWP": [NPWP, "314159265358979"],
    "NIB": [NIB],
    "bank account": [ACCOUNT, "004512345678901"],
}


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        # factory_boy's own DEBUG lines describe the test's set-up, not the application.
        if not record.name.startswith("factory"):
            self.records.append(record)

    def texts(self) -> list[str]:
        """Each record as any handler could write it: message, traceback, extra fields."""
        return [f"{self.format(record)} {record.__dict__!r}" for record in self.records]


@pytest.fixture
def captured(settings):
    """Every logger at DEBUG into one handler, as a deployment with LOG_LEVEL=DEBUG; the loggers
    the settings pin (settings.LOGGING["loggers"], SQL among them) keep their level."""
    handler = Capture()
    pinned = settings.LOGGING.get("loggers", {})
    assert "django.db.backends" in pinned
    root = logging.getLogger()
    loggers = [root] + [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(pinned.get(logger.name, {}).get("level", logging.DEBUG))
        logger.disabled = False
    for name, config in pinned.items():
        assert logging.getLevelName(config["level"]) >= logging.INFO, name
        logging.getLogger(name).setLevel(config["level"])
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        for logger, level, disabled in saved:
            logger.setLevel(level)
            logger.disabled = disabled


def _token(client: APIClient, username: str, password: str) -> APIClient:
    """A client holding the user's API token (staff send their authenticator's code too)."""
    user = get_user_model().objects.get(username=username)
    body = {"username": username, "password": password}
    if has_second_factor(user):
        body["otp"] = totp_code(user)
    response = client.post("/api/v1/auth/token/", body, format="json")
    assert response.status_code == 200, response.content
    authorised = APIClient()
    authorised.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return authorised


def _journey(client) -> None:
    """Register, describe the company, apply, submit; review, recommend, approve, pay."""
    programme = ProgrammeFactory(budget=1_000_000_000, required_documents=["invoice"])
    staff = {}
    roles = (("vera", VERIFIER), ("andi", APPROVER), ("fina", FINANCE), ("odit", AUDITOR))
    for name, role in roles:
        staff[name] = UserFactory(username=name, roles=[role])
        staff[name].set_password(STAFF_PASSWORD)
        staff[name].save()
    today = timezone.localdate()
    anon = APIClient()

    # Mistakes first: a wrong password and a malformed company (400s that django.request logs).
    assert (
        anon.post(
            "/api/v1/auth/register/",
            {"username": "sari", "email": "sari@ikm.test", "password": PASSWORD},
            format="json",
        ).status_code
        == 201
    )
    wrong = anon.post(
        "/api/v1/auth/token/", {"username": "sari", "password": PASSWORD + "x"}, format="json"
    )
    assert wrong.status_code in (400, 401)
    # The address is verified through the link mailed to it (no token before).
    link = re.search(r"/accounts/confirm-email/\S+/", mail.outbox[-1].body).group(0)
    assert Client().post(link).status_code == 302
    owner = _token(anon, "sari", PASSWORD)
    company_data = {
        "name": "CV Rendang Sari",
        "nib": NIB,
        "npwp": NPWP,
        "kbli": "10792",
        "workers": 12,
        "investment_value": 600_000_000,
        "province": "33",
        "regency": "33.10",
        "address": "Jl. Merapi 5, Klaten",
        "bank_name": "BRI",
        "bank_account_number": ACCOUNT,
        "bank_account_name": "CV Rendang Sari",
    }
    bad = owner.post("/api/v1/companies/", {**company_data, "npwp": NPWP + "99"}, format="json")
    assert bad.status_code == 400
    response = owner.post("/api/v1/companies/", company_data, format="json")
    assert response.status_code == 201, response.content
    company_id = response.json()["id"]
    duplicate = owner.post("/api/v1/companies/", company_data, format="json")
    assert duplicate.status_code in (400, 409)

    response = owner.post(
        "/api/v1/applications/", {"programme": programme.pk, "company": company_id}, format="json"
    )
    assert response.status_code == 201, response.content
    application_id = response.json()["id"]
    response = owner.post(
        f"/api/v1/applications/{application_id}/items/",
        {
            "description": "Mesin pengemas rendang",
            "brand": "Sinar",
            "model": "P-2",
            "serial_number": "RS-1",
            "origin": "domestic",
            "supplier_name": "PT Mesin Jaya",
            "supplier_npwp": NPWP,
            "invoice_number": "INV/RS-1",
            "tax_invoice_number": "010.000-26.00000001",
            "invoice_date": (today - dt.timedelta(days=40)).isoformat(),
            "price": 150_000_000,
            "vat": 16_500_000,
            "payment_method": "bank_transfer",
            "is_new": True,
            "installed_on": (today - dt.timedelta(days=10)).isoformat(),
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    upload = SimpleUploadedFile("invoice.pdf", PDF_BYTES, content_type="application/pdf")
    response = owner.post(
        f"/api/v1/applications/{application_id}/documents/",
        {"kind": "invoice", "file": upload},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    response = owner.post(
        f"/api/v1/applications/{application_id}/transitions/", {"action": "submit"}, format="json"
    )
    assert response.status_code == 200, response.content

    # The log-in form with the password (it asks to confirm the e-mail address first), then
    # the applicant's pages.
    response = client.post(reverse("account_login"), {"login": "sari", "password": PASSWORD})
    assert response.status_code in (200, 302)
    client.force_login(get_user_model().objects.get(username="sari"))
    for url in (
        reverse("applicant:dashboard"),
        reverse("applicant:company", args=[company_id]),
        reverse("applicant:application", args=[application_id]),
        reverse("applicant:check_answers", args=[application_id]),
    ):
        assert client.get(url).status_code in (200, 302)

    verifier = _token(anon, "vera", STAFF_PASSWORD)
    approver = _token(anon, "andi", STAFF_PASSWORD)
    finance = _token(anon, "fina", STAFF_PASSWORD)
    checklist = dict.fromkeys(
        ("machines_present", "machines_new", "machines_installed", "not_transferred"), True
    )
    for actor, payload in (
        (verifier, {"action": "start_review"}),
        (verifier, {"action": "approve"}),  # refused: not the verifier's to take
        (verifier, {"action": "pass_review"}),
        (verifier, {"action": "recommend", "checklist": checklist}),
        (approver, {"action": "approve"}),
    ):
        actor.post(f"/api/v1/applications/{application_id}/transitions/", payload, format="json")
    assert owner.get(f"/api/v1/applications/{application_id}/").json()["status"] == "approved"

    # The officers' pages, the letter, the history, the finance batch and the transfer.
    for name, urls in (
        ("vera", [reverse("office:workbench"), reverse("office:case", args=[application_id])]),
        ("odit", [reverse("office:case", args=[application_id])]),
        ("fina", [reverse("office:finance")]),
    ):
        client.force_login(staff[name])
        for url in urls:
            assert client.get(url).status_code == 200
    assert client.get(reverse("office:finance_batch"), {"case": application_id}).status_code == 200
    assert owner.get(f"/api/v1/applications/{application_id}/letter/").status_code == 200
    assert owner.get(f"/api/v1/applications/{application_id}/history/").status_code == 200
    assert owner.get("/api/v1/companies/999999/").status_code == 404
    response = finance.post(
        f"/api/v1/applications/{application_id}/transitions/",
        {"action": "disburse", "transfer_reference": "BRI-1", "transferred_on": today.isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.content


@pytest.mark.django_db(transaction=True)
def test_a_full_journey_logs_no_npwp_nib_bank_account_or_password(client, captured):
    _journey(client)

    texts = captured.texts()
    # The scan saw the journey: the refused requests were logged by django.request.
    assert any(r.name == "django.request" for r in captured.records), texts
    leaks = [
        (kind, text[:300])
        for text in texts
        for kind, values in SECRETS.items()
        for value in values
        if value in text
    ]
    assert leaks == []
