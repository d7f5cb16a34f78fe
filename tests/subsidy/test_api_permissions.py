"""Who may do what through the API: every endpoint and method, for every role (API.md, DOMAIN.md).

The matrix sends valid payloads, so only the caller's role and relation to the data decide the
answer. Refusals come in the contract's order: 401, 404, 403, 400, 409.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from rest_framework.test import APIClient

from accounts.roles import APPLICANT, APPROVER, VERIFIER, grant_role
from subsidy.engine import computation
from subsidy.exports import jobs as export_jobs
from subsidy.exports import records as export_records
from subsidy.models import Application, CompanyInvitation, Export, Notice
from subsidy.services import documents as document_services
from subsidy.services import site_visits as site_visit_services
from subsidy.services.companies import invitation_token_hash
from tests.factories import (
    ApplicationFactory,
    MachineItemFactory,
    ProgrammeFactory,
    UserFactory,
)
from tests.utils import client_for, item_data, jpeg, pdf_upload

pytestmark = pytest.mark.django_db

S = Application.Status
ROLES = (
    "anonymous",
    "applicant",
    "other_applicant",
    "verifier",
    "approver",
    "finance",
    "auditor",
    "superuser",
)
STAFF = ("verifier", "approver", "finance", "auditor")
EDITABLE = (S.DRAFT, S.REVISION_REQUESTED)
NOT_EDITABLE = tuple(s for s in S if s not in EDITABLE)


@pytest.fixture(autouse=True)
def _default_language():
    yield
    translation.deactivate()


def _everyone(code: int) -> dict[str, int]:
    return {role: code for role in ROLES}


def _signed_in(code: int) -> dict[str, int]:
    return {**_everyone(code), "anonymous": 401}


def _read_own(code: int = 200) -> dict[str, int]:
    """Applicants of the company and every staff role (and superusers) read; others get 404."""
    return {**_signed_in(code), "other_applicant": 404}


def _applicant_write(code: int) -> dict[str, int]:
    """Only an applicant of the company writes; staff and superusers 403, other applicants 404."""
    return {
        **_signed_in(403),
        "applicant": code,
        "other_applicant": 404,
    }


def _applicant_create(code: int) -> dict[str, int]:
    return {**_signed_in(403), "applicant": code, "other_applicant": code}


def _superuser_write(code: int) -> dict[str, int]:
    return {**_signed_in(403), "superuser": code}


def _staff_read(code: int = 200) -> dict[str, int]:
    """Staff roles and superusers read; the company's applicants 403, other applicants 404."""
    return {**_signed_in(code), "applicant": 403, "other_applicant": 404}


def _exporters(code: int) -> dict[str, int]:
    """Staff roles and superusers; applicants 403 (API.md "Exports")."""
    return {**_signed_in(code), "applicant": 403, "other_applicant": 403}


def _auditors_see_every_export(code: int) -> dict[str, int]:
    """An auditor's export: the auditor and superusers; other staff 404 (not theirs)."""
    return {**_exporters(404), "auditor": code, "superuser": code}


def _verifier_write(code: int) -> dict[str, int]:
    """Only a verifier records; everyone else who sees the case 403, other applicants 404."""
    return {**_signed_in(403), "verifier": code, "other_applicant": 404}


class World:
    """The data a matrix cell needs, built on first use so each cell builds only its own."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.request = request

    def user(self, role: str):
        return self.request.getfixturevalue(role)

    @cached_property
    def programme(self):
        return self.request.getfixturevalue("programme")

    @cached_property
    def company(self):
        return self.request.getfixturevalue("company")

    @cached_property
    def draft(self) -> Application:
        """A draft of the applicant's company with one item and one document."""
        application = ApplicationFactory(programme=self.programme, company=self.company)
        MachineItemFactory(application=application)
        document_services.document_upload(
            application=application,
            by=self.user("applicant"),
            kind="invoice",
            file=pdf_upload(),
        )
        return application

    @cached_property
    def item(self):
        return self.draft.items.get()

    @cached_property
    def document(self):
        return self.draft.documents.get()

    @cached_property
    def export(self) -> Export:
        """An auditor's export, written."""
        export = export_records.export_create(
            by=self.user("auditor"), kind="applications", format="csv", filters={}
        )
        export_jobs.run_export(export.pk)
        return export

    @cached_property
    def approved(self) -> Application:
        return in_state(self.company, S.APPROVED)

    @cached_property
    def visiting(self) -> Application:
        return in_state(self.company, S.FIELD_VERIFICATION)

    @cached_property
    def visit(self):
        return site_visit_services.site_visit_record(
            application=self.visiting,
            by=self.user("verifier"),
            visited_on=timezone.localdate(),
            place="Klaten",
            checklist=CHECKLIST,
            photos=[jpeg()],
        )

    @cached_property
    def photo(self):
        return self.visit.photos.get()

    @cached_property
    def newcomer(self):
        """An applicant account belonging to no company yet, to be added as a member."""
        return UserFactory(username="hana", roles=[APPLICANT])

    @cached_property
    def second_member(self):
        """A member beside the applicant: removing them leaves the company one."""
        self.company.members.add(self.newcomer)
        return self.newcomer

    @cached_property
    def invitation_token(self) -> str:
        """The token of a pending invitation to the company (as its e-mailed link holds it)."""
        token = "token-for-the-permission-matrix"
        CompanyInvitation.objects.create(
            company=self.company,
            email="undangan@example.test",
            invited_by=self.user("applicant"),
            token_hash=invitation_token_hash(token),
            expires_at=timezone.now() + dt.timedelta(days=14),
        )
        return token

    def notice_for(self, role: str) -> Notice:
        user = self.user(role)
        return Notice.objects.create(
            key=f"test:{user.pk}",
            recipient=user,
            application=self.draft,
            kind=Notice.Kind.REMINDER,
            title="Pengingat",
            body="Pengingat",
        )


def in_state(company, status: str, **fields: object) -> Application:
    """An application of its own programme, computed, then placed in ``status``."""
    application = ApplicationFactory(programme=ProgrammeFactory(), company=company)
    MachineItemFactory(application=application)
    computation.compute_applications([application.pk])
    application.refresh_from_db()
    values: dict = {"status": status, "status_changed_at": timezone.now()}
    if status != S.DRAFT:
        values["submitted_at"] = timezone.now()
        values["reference"] = f"RMP-{application.programme.year}-{application.pk:06d}"
        values["company_snapshot"] = company.snapshot()
    if status in (S.APPROVED, S.DISBURSED):
        values["approved_amount"] = application.computed_discount
    if status == S.DISBURSED:
        values["disbursed_amount"] = application.computed_discount
    values.update(fields)
    Application.objects.filter(pk=application.pk).update(**values)
    application.refresh_from_db()
    return application


def programme_payload(year: int) -> dict:
    today = timezone.localdate()
    return {
        "year": year,
        "name": f"Program {year}",
        "application_opens": today.isoformat(),
        "application_closes": (today + dt.timedelta(days=90)).isoformat(),
        "purchase_from": (today - dt.timedelta(days=365)).isoformat(),
        "purchase_to": today.isoformat(),
        "install_by": today.isoformat(),
        "budget": 5_000_000_000,
        "rates": [
            {"scale": scale, "origin": origin, "rate": rate}
            for scale in ("kecil", "menengah")
            for origin, rate in (("domestic", "0.4000"), ("imported", "0.2500"))
        ],
        "min_refund": 5_000_000,
        "max_refund_per_company": 300_000_000,
        "max_participations": 3,
        "required_documents": ["invoice"],
    }


def company_payload(nib: str = "3201000000001") -> dict:
    return {
        "name": "CV Logam Jaya",
        "nib": nib,
        "npwp": "02.345.678.9-012.000",
        "kbli": "25920",
        "workers": 9,
        "investment_value": 400_000_000,
        "province": "33",
        "regency": "33.10",
        "address": "Jl. Bayat 3, Klaten",
        "bank_name": "BNI",
        "bank_account_number": "0123456789",
        "bank_account_name": "CV Logam Jaya",
    }


@dataclass(frozen=True)
class Call:
    method: str
    url: Callable[[World], str]
    data: Callable[[World], object] | None = None
    format: str = "json"


CALLS: dict[str, Call] = {
    # Accounts: public token and registration; /me for every signed-in user.
    "token POST": Call(
        "post",
        lambda w: "/api/v1/auth/token/",
        lambda w: {"username": w.user("applicant").username, "password": "Pw-for-tests-1"},
    ),
    "register POST": Call(
        "post",
        lambda w: "/api/v1/auth/register/",
        lambda w: {"username": "sari", "email": "sari@ikm.test", "password": "Batik-Solo-2026"},
    ),
    "me GET": Call("get", lambda w: "/api/v1/me/"),
    "me PATCH": Call("patch", lambda w: "/api/v1/me/", lambda w: {"language": "en"}),
    "schema GET": Call("get", lambda w: "/api/schema/"),
    "docs GET": Call("get", lambda w: "/api/docs/"),
    # Programmes: everyone reads, superusers write.
    "programmes GET": Call("get", lambda w: "/api/v1/programmes/"),
    "programmes POST": Call(
        "post", lambda w: "/api/v1/programmes/", lambda w: programme_payload(2009)
    ),
    "programme GET": Call("get", lambda w: f"/api/v1/programmes/{w.programme.pk}/"),
    "programme PUT": Call(
        "put",
        lambda w: f"/api/v1/programmes/{w.programme.pk}/",
        lambda w: programme_payload(w.programme.year),
    ),
    "programme PATCH": Call(
        "patch", lambda w: f"/api/v1/programmes/{w.programme.pk}/", lambda w: {"name": "Program X"}
    ),
    "programme DELETE": Call("delete", lambda w: f"/api/v1/programmes/{w.programme.pk}/"),
    "programme budget GET": Call("get", lambda w: f"/api/v1/programmes/{w.programme.pk}/budget/"),
    # Companies: applicants create and edit their own; staff read all.
    "companies GET": Call("get", lambda w: "/api/v1/companies/"),
    "companies POST": Call("post", lambda w: "/api/v1/companies/", lambda w: company_payload()),
    "company GET": Call("get", lambda w: f"/api/v1/companies/{w.company.pk}/"),
    "company PUT": Call(
        "put",
        lambda w: f"/api/v1/companies/{w.company.pk}/",
        lambda w: company_payload(nib=w.company.nib),
    ),
    "company PATCH": Call(
        "patch", lambda w: f"/api/v1/companies/{w.company.pk}/", lambda w: {"workers": 14}
    ),
    "company DELETE": Call("delete", lambda w: f"/api/v1/companies/{w.company.pk}/"),
    "members GET": Call("get", lambda w: f"/api/v1/companies/{w.company.pk}/members/"),
    "members POST": Call(
        "post",
        lambda w: f"/api/v1/companies/{w.company.pk}/members/",
        lambda w: {"email": w.newcomer.email},
    ),
    "member DELETE": Call(
        "delete", lambda w: f"/api/v1/companies/{w.company.pk}/members/{w.second_member.pk}/"
    ),
    "invitation accept POST": Call(
        "post", lambda w: f"/api/v1/invitations/{w.invitation_token}/accept/"
    ),
    "regions GET": Call("get", lambda w: "/api/v1/regions/"),
    # The public yearly figures: anyone, signed in or not.
    "statistics GET": Call("get", lambda w: f"/api/v1/statistics/?year={w.programme.year}"),
    # The public self-check: anyone, signed in or not; nothing stored.
    "eligibility-check POST": Call(
        "post",
        lambda w: "/api/v1/eligibility-check/",
        lambda w: {
            "programme": w.programme.pk,
            "company": {"workers": 10, "investment_value": 500_000_000, "kbli": "25120"},
            "items": [
                {
                    "price": 100_000_000,
                    "origin": "domestic",
                    "invoice_date": w.programme.purchase_from.isoformat(),
                    "is_new": True,
                    "installed_on": w.programme.purchase_from.isoformat(),
                    "payment_method": "bank_transfer",
                }
            ],
        },
    ),
    # Applications.
    "applications GET": Call("get", lambda w: "/api/v1/applications/"),
    "applications POST": Call(
        "post",
        lambda w: "/api/v1/applications/",
        lambda w: {"programme": w.programme.pk, "company": w.company.pk},
    ),
    "application GET": Call("get", lambda w: f"/api/v1/applications/{w.draft.pk}/"),
    "application PATCH": Call(
        "patch", lambda w: f"/api/v1/applications/{w.draft.pk}/", lambda w: {"programme": 1}
    ),
    "application DELETE": Call("delete", lambda w: f"/api/v1/applications/{w.draft.pk}/"),
    "breakdown GET": Call("get", lambda w: f"/api/v1/applications/{w.draft.pk}/breakdown/"),
    "transitions GET": Call("get", lambda w: f"/api/v1/applications/{w.draft.pk}/transitions/"),
    "history GET": Call("get", lambda w: f"/api/v1/applications/{w.draft.pk}/history/"),
    "letter GET": Call("get", lambda w: f"/api/v1/applications/{w.approved.pk}/letter/"),
    "dossier GET": Call("get", lambda w: f"/api/v1/applications/{w.approved.pk}/dossier/"),
    # Items and documents of a draft.
    "items GET": Call("get", lambda w: f"/api/v1/applications/{w.draft.pk}/items/"),
    "items POST": Call(
        "post", lambda w: f"/api/v1/applications/{w.draft.pk}/items/", lambda w: item_data()
    ),
    "item GET": Call("get", lambda w: f"/api/v1/applications/{w.draft.pk}/items/{w.item.pk}/"),
    "item PUT": Call(
        "put",
        lambda w: f"/api/v1/applications/{w.draft.pk}/items/{w.item.pk}/",
        lambda w: item_data(),
    ),
    "item PATCH": Call(
        "patch",
        lambda w: f"/api/v1/applications/{w.draft.pk}/items/{w.item.pk}/",
        lambda w: {"brand": "Makita"},
    ),
    "item DELETE": Call(
        "delete", lambda w: f"/api/v1/applications/{w.draft.pk}/items/{w.item.pk}/"
    ),
    "documents GET": Call("get", lambda w: f"/api/v1/applications/{w.draft.pk}/documents/"),
    "documents POST": Call(
        "post",
        lambda w: f"/api/v1/applications/{w.draft.pk}/documents/",
        lambda w: {"kind": "payment_proof", "file": pdf_upload()},
        format="multipart",
    ),
    "document GET": Call(
        "get", lambda w: f"/api/v1/applications/{w.draft.pk}/documents/{w.document.pk}/"
    ),
    "document DELETE": Call(
        "delete", lambda w: f"/api/v1/applications/{w.draft.pk}/documents/{w.document.pk}/"
    ),
    "document download GET": Call("get", lambda w: f"/api/v1/documents/{w.document.pk}/download/"),
    # Site visits: staff read, verifiers record (during field verification).
    "site visits GET": Call("get", lambda w: f"/api/v1/applications/{w.visiting.pk}/site-visits/"),
    "site visits POST": Call(
        "post",
        lambda w: f"/api/v1/applications/{w.visiting.pk}/site-visits/",
        lambda w: {
            "visited_on": timezone.localdate().isoformat(),
            "place": "Klaten",
            **CHECKLIST,
            "photos": [jpeg()],
        },
        format="multipart",
    ),
    "site visit GET": Call(
        "get", lambda w: f"/api/v1/applications/{w.visiting.pk}/site-visits/{w.visit.pk}/"
    ),
    "site visit photos POST": Call(
        "post",
        lambda w: f"/api/v1/applications/{w.visiting.pk}/site-visits/{w.visit.pk}/photos/",
        lambda w: {"file": jpeg()},
        format="multipart",
    ),
    "site visit photo download GET": Call(
        "get", lambda w: f"/api/v1/site-visit-photos/{w.photo.pk}/download/"
    ),
    # Notifications: the caller's own.
    "notifications GET": Call("get", lambda w: "/api/v1/notifications/"),
    # Exports: staff and auditors; background exports are their creator's, and every auditor's.
    "applications csv GET": Call("get", lambda w: "/api/v1/exports/applications.csv"),
    "items csv GET": Call("get", lambda w: "/api/v1/exports/items.csv"),
    "exports GET": Call("get", lambda w: "/api/v1/exports/"),
    "exports POST": Call(
        "post", lambda w: "/api/v1/exports/", lambda w: {"kind": "items", "format": "xlsx"}
    ),
    "export GET": Call("get", lambda w: f"/api/v1/exports/{w.export.pk}/"),
    "export download GET": Call("get", lambda w: f"/api/v1/exports/{w.export.pk}/download/"),
}

EXPECTED: dict[str, dict[str, int]] = {
    "token POST": _everyone(200),
    "register POST": _everyone(201),
    "me GET": _signed_in(200),
    # Changing one's own e-mail or language is not a change to the programme's data.
    "me PATCH": _signed_in(200),
    "schema GET": _everyone(200),
    "docs GET": _everyone(200),
    "programmes GET": _signed_in(200),
    "programmes POST": _superuser_write(201),
    "programme GET": _signed_in(200),
    "programme PUT": _superuser_write(200),
    "programme PATCH": _superuser_write(200),
    "programme DELETE": _signed_in(405),
    "programme budget GET": _signed_in(200),
    "companies GET": _signed_in(200),
    "companies POST": _applicant_create(201),
    "company GET": _read_own(),
    "company PUT": _applicant_write(200),
    "company PATCH": _applicant_write(200),
    "company DELETE": _signed_in(405),
    "members GET": _read_own(),
    # An invitation is sent: the same 202 whether or not an account has the address.
    "members POST": _applicant_write(202),
    "member DELETE": _applicant_write(204),
    # Whoever holds the link and is an applicant joins; staff accounts cannot.
    "invitation accept POST": _applicant_create(200),
    "regions GET": _signed_in(200),
    "eligibility-check POST": _everyone(200),
    "statistics GET": _everyone(200),
    "applications GET": _signed_in(200),
    # Another company's id is not a valid choice for an applicant: a field error, no leak.
    "applications POST": {**_applicant_create(201), "other_applicant": 400},
    "application GET": _read_own(),
    "application PATCH": _signed_in(405),
    "application DELETE": _signed_in(405),
    "breakdown GET": _read_own(),
    "transitions GET": _read_own(),
    "history GET": _read_own(),
    "letter GET": _read_own(),
    # The dossier: the company's applicants, staff and auditors (API.md "Exports, dossiers").
    "dossier GET": _read_own(),
    "items GET": _read_own(),
    "items POST": _applicant_write(201),
    "item GET": _read_own(),
    "item PUT": _applicant_write(200),
    "item PATCH": _applicant_write(200),
    "item DELETE": _applicant_write(204),
    "documents GET": _read_own(),
    "documents POST": _applicant_write(201),
    "document GET": _read_own(),
    "document DELETE": _applicant_write(204),
    "document download GET": _read_own(),
    "site visits GET": _staff_read(),
    "site visits POST": _verifier_write(201),
    "site visit GET": _staff_read(),
    "site visit photos POST": _verifier_write(201),
    # A photo is not the applicant's to fetch: not found, as for anything not theirs.
    "site visit photo download GET": {**_staff_read(), "applicant": 404},
    "notifications GET": _signed_in(200),
    "applications csv GET": _exporters(200),
    "items csv GET": _exporters(200),
    "exports GET": _exporters(200),
    "exports POST": _exporters(202),
    "export GET": _auditors_see_every_export(200),
    "export download GET": _auditors_see_every_export(200),
}


def _client(request: pytest.FixtureRequest, role: str) -> APIClient:
    if role == "anonymous":
        return APIClient()
    return client_for(request.getfixturevalue(role))


@pytest.mark.parametrize(
    ("name", "role"),
    [pytest.param(name, role, id=f"{name}-{role}") for name in CALLS for role in ROLES],
)
def test_permission_matrix(request, name: str, role: str) -> None:
    assert set(EXPECTED) == set(CALLS)
    call = CALLS[name]
    world = World(request)
    url = call.url(world)
    data = call.data(world) if call.data else None
    client = _client(request, role)

    response = getattr(client, call.method)(url, data, format=call.format)

    expected = EXPECTED[name][role]
    assert response.status_code == expected, response.content[:300]
    if expected >= 400:
        body = response.json()
        assert (
            body["code"]
            == {
                400: "invalid",
                401: "not_authenticated",
                403: "forbidden",
                404: "not_found",
                405: "method_not_allowed",
            }[expected]
        )
        assert body["detail"]


def test_every_operation_of_the_schema_is_in_a_matrix() -> None:
    """A new endpoint cannot slip in without deciding who may call it."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = {
        (path, method.upper()) for path, methods in schema["paths"].items() for method in methods
    }
    covered = {(_TEMPLATES[name.rsplit(" ", 1)[0]], name.rsplit(" ", 1)[1]) for name in CALLS}
    covered |= COVERED_BELOW

    assert operations - covered == set()


_TEMPLATES = {
    "token": "/api/v1/auth/token/",
    "register": "/api/v1/auth/register/",
    "me": "/api/v1/me/",
    "schema": "/api/schema/",
    "docs": "/api/docs/",
    "programmes": "/api/v1/programmes/",
    "programme": "/api/v1/programmes/{id}/",
    "programme budget": "/api/v1/programmes/{id}/budget/",
    "companies": "/api/v1/companies/",
    "company": "/api/v1/companies/{id}/",
    "members": "/api/v1/companies/{id}/members/",
    "member": "/api/v1/companies/{id}/members/{user_id}/",
    "invitation accept": "/api/v1/invitations/{token}/accept/",
    "regions": "/api/v1/regions/",
    "eligibility-check": "/api/v1/eligibility-check/",
    "statistics": "/api/v1/statistics/",
    "applications": "/api/v1/applications/",
    "application": "/api/v1/applications/{id}/",
    "breakdown": "/api/v1/applications/{id}/breakdown/",
    "transitions": "/api/v1/applications/{id}/transitions/",
    "history": "/api/v1/applications/{id}/history/",
    "letter": "/api/v1/applications/{id}/letter/",
    "dossier": "/api/v1/applications/{id}/dossier/",
    "items": "/api/v1/applications/{application_pk}/items/",
    "item": "/api/v1/applications/{application_pk}/items/{id}/",
    "documents": "/api/v1/applications/{application_pk}/documents/",
    "document": "/api/v1/applications/{application_pk}/documents/{id}/",
    "document download": "/api/v1/documents/{id}/download/",
    "site visits": "/api/v1/applications/{application_pk}/site-visits/",
    "site visit": "/api/v1/applications/{application_pk}/site-visits/{id}/",
    "site visit photos": "/api/v1/applications/{application_pk}/site-visits/{id}/photos/",
    "site visit photo download": "/api/v1/site-visit-photos/{id}/download/",
    "notifications": "/api/v1/notifications/",
    "applications csv": "/api/v1/exports/applications.csv",
    "items csv": "/api/v1/exports/items.csv",
    "exports": "/api/v1/exports/",
    "export": "/api/v1/exports/{id}/",
    "export download": "/api/v1/exports/{id}/download/",
}
COVERED_BELOW = {
    ("/api/v1/applications/{id}/transitions/", "POST"),
    ("/api/v1/notifications/{id}/read/", "POST"),
    # One's own tokens: listed, made from a browser session and revoked by their owner only
    # (tests/accounts/test_api_tokens.py).
    ("/api/v1/auth/tokens/", "GET"),
    ("/api/v1/auth/tokens/", "POST"),
    ("/api/v1/auth/tokens/{id}/", "DELETE"),
}


# --- Transitions: each role's own actions, and everybody else's --------------------------

CHECKLIST = {
    "machines_present": True,
    "machines_new": True,
    "machines_installed": True,
    "not_transferred": True,
}


def _transfer() -> dict:
    return {
        "action": "disburse",
        "transfer_reference": "BRI-TRF-0001",
        "transferred_on": timezone.localdate().isoformat(),
    }


TRANSITIONS = [
    # (role, state, payload, expected status)
    ("anonymous", S.SUBMITTED, {"action": "start_review"}, 401),
    ("applicant", S.DRAFT, {"action": "submit"}, 200),
    ("applicant", S.REVISION_REQUESTED, {"action": "submit"}, 200),
    ("applicant", S.UNDER_REVIEW, {"action": "withdraw"}, 200),
    ("applicant", S.SUBMITTED, {"action": "start_review"}, 403),
    ("other_applicant", S.DRAFT, {"action": "submit"}, 404),
    ("other_applicant", S.UNDER_REVIEW, {"action": "withdraw"}, 404),
    ("verifier", S.SUBMITTED, {"action": "start_review"}, 200),
    ("verifier", S.UNDER_REVIEW, {"action": "request_revision", "comment": "NIB buram"}, 200),
    ("verifier", S.UNDER_REVIEW, {"action": "pass_review"}, 200),
    ("verifier", S.UNDER_REVIEW, {"action": "reject", "comment": "Bukan IKM"}, 200),
    ("verifier", S.FIELD_VERIFICATION, {"action": "recommend", "checklist": CHECKLIST}, 200),
    ("verifier", S.DRAFT, {"action": "submit"}, 403),
    ("verifier", S.RECOMMENDED, {"action": "approve"}, 403),
    ("verifier", S.RECOMMENDED, {"action": "reject", "comment": "Tidak layak"}, 403),
    ("verifier", S.APPROVED, _transfer(), 403),
    ("approver", S.RECOMMENDED, {"action": "approve"}, 200),
    ("approver", S.RECOMMENDED, {"action": "reject", "comment": "Anggaran"}, 200),
    ("approver", S.APPROVED, {"action": "reject", "comment": "Dokumen palsu"}, 200),
    ("approver", S.SUBMITTED, {"action": "start_review"}, 403),
    ("approver", S.UNDER_REVIEW, {"action": "reject", "comment": "Bukan IKM"}, 403),
    ("finance", S.APPROVED, _transfer(), 200),
    ("finance", S.RECOMMENDED, {"action": "approve"}, 403),
    ("auditor", S.SUBMITTED, {"action": "start_review"}, 403),
    ("auditor", S.RECOMMENDED, {"action": "approve"}, 403),
    ("auditor", S.UNDER_REVIEW, {"action": "withdraw"}, 403),
    ("superuser", S.SUBMITTED, {"action": "start_review"}, 403),
    ("superuser", S.RECOMMENDED, {"action": "approve"}, 403),
    # The role may take the action, but not from this state: the state decides (409).
    ("verifier", S.SUBMITTED, {"action": "pass_review"}, 409),
    ("approver", S.APPROVED, {"action": "approve"}, 409),
    ("finance", S.DISBURSED, _transfer(), 409),
    ("applicant", S.APPROVED, {"action": "withdraw"}, 409),
]


def case_in(company, state: str) -> Application:
    """An application in ``state``; a draft is complete enough to be submitted."""
    application = in_state(company, state)
    if state in EDITABLE:
        document_services.document_upload(
            application=application,
            by=company.members.get(),
            kind="invoice",
            file=pdf_upload(),
        )
    return application


@pytest.mark.parametrize(
    ("role", "state", "payload", "expected"),
    [
        pytest.param(*row, id=f"{row[0]}-{row[2]['action']}-from-{row[1]}-{row[3]}")
        for row in TRANSITIONS
    ],
)
def test_transition_matrix(request, company, role, state, payload, expected) -> None:
    application = case_in(company, state)
    client = _client(request, role)

    response = client.post(
        f"/api/v1/applications/{application.pk}/transitions/", payload, format="json"
    )

    assert response.status_code == expected, response.content[:300]
    application.refresh_from_db()
    if expected == 200:
        assert response.json()["status"] == application.status != state
    else:
        assert application.status == state
        assert (
            response.json()["code"]
            == {
                401: "not_authenticated",
                403: "forbidden",
                404: "not_found",
                409: "invalid_transition",
            }[expected]
        )


def test_approver_who_reviewed_the_case_may_not_approve_it(company, approver) -> None:
    grant_role(approver, VERIFIER)
    application = in_state(company, S.UNDER_REVIEW)
    client = client_for(approver)
    url = f"/api/v1/applications/{application.pk}/transitions/"
    assert client.post(url, {"action": "pass_review"}, format="json").status_code == 200
    recommend = {"action": "recommend", "checklist": CHECKLIST}
    assert client.post(url, recommend, format="json").status_code == 200

    response = client.post(url, {"action": "approve"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "four_eyes"


def test_an_approver_who_belongs_to_the_company_may_not_approve_its_case(company) -> None:
    member = UserFactory(username="irma", roles=[APPLICANT, APPROVER])
    company.members.add(member)
    application = in_state(company, S.RECOMMENDED)
    client = client_for(member)
    url = f"/api/v1/applications/{application.pk}/transitions/"

    response = client.post(url, {"action": "approve"}, format="json")

    assert response.status_code == 403
    with translation.override("id"):
        expected = gettext(
            "You belong to this company; another officer must handle its applications."
        )
    assert response.json() == {"code": "conflict_of_interest", "detail": expected}
    application.refresh_from_db()
    assert (application.status, application.approved_amount) == (S.RECOMMENDED, None)
    offered = client.get(url).json()
    assert [a["action"] for a in offered] == ["withdraw"]
    withdrawn = client.post(url, {"action": "withdraw"}, format="json")
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, S.WITHDRAWN)


def test_a_verifier_who_belongs_to_the_company_may_not_take_its_case(company) -> None:
    member = UserFactory(username="joko", roles=[VERIFIER])
    company.members.add(member)
    application = in_state(company, S.SUBMITTED)

    response = client_for(member).post(
        f"/api/v1/applications/{application.pk}/transitions/",
        {"action": "start_review"},
        format="json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "conflict_of_interest"
    application.refresh_from_db()
    assert (application.status, application.case_officer) == (S.SUBMITTED, None)


@pytest.mark.parametrize("role", ROLES[1:])
def test_available_actions_are_those_the_caller_may_take_now(request, company, role) -> None:
    application = in_state(company, S.RECOMMENDED)

    response = client_for(request.getfixturevalue(role)).get(
        f"/api/v1/applications/{application.pk}/transitions/"
    )

    expected = {
        "applicant": 200,
        "other_applicant": 404,
    }.get(role, 200)
    assert response.status_code == expected
    if expected == 200:
        actions = {a["action"] for a in response.json()}
        assert actions == {
            "applicant": {"withdraw"},
            "approver": {"approve", "reject"},
        }.get(role, set())


# --- Notifications: one's own only -------------------------------------------------------


@pytest.mark.parametrize("role", ROLES[1:])
def test_each_user_marks_its_own_notification_read(request, role) -> None:
    notice = World(request).notice_for(role)

    response = client_for(request.getfixturevalue(role)).post(
        f"/api/v1/notifications/{notice.pk}/read/"
    )

    assert response.status_code == 200
    assert response.json()["read_at"] is not None


@pytest.mark.parametrize("role", ["other_applicant", "verifier", "auditor", "superuser"])
def test_nobody_reads_or_marks_another_users_notification(request, role) -> None:
    notice = World(request).notice_for("applicant")
    client = client_for(request.getfixturevalue(role))

    listed = client.get("/api/v1/notifications/").json()["results"]
    response = client.post(f"/api/v1/notifications/{notice.pk}/read/")

    assert notice.pk not in [n["id"] for n in listed]
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    notice.refresh_from_db()
    assert notice.read_at is None


def test_anonymous_may_not_mark_a_notification_read(request) -> None:
    notice = World(request).notice_for("applicant")

    response = APIClient().post(f"/api/v1/notifications/{notice.pk}/read/")

    assert response.status_code == 401


# --- Who sees what -----------------------------------------------------------------------


@pytest.mark.parametrize("role", [*STAFF, "superuser"])
def test_staff_list_every_company_and_application_drafts_included(
    request, company, other_company, role
) -> None:
    mine = in_state(company, S.DRAFT)
    theirs = in_state(other_company, S.DRAFT)
    client = client_for(request.getfixturevalue(role))

    applications = client.get("/api/v1/applications/").json()["results"]
    companies = client.get("/api/v1/companies/").json()["results"]

    assert {mine.pk, theirs.pk} <= {a["id"] for a in applications}
    assert {company.pk, other_company.pk} <= {c["id"] for c in companies}


def test_an_applicant_lists_only_its_own_companies_and_applications(
    applicant, company, other_company
) -> None:
    mine = in_state(company, S.DRAFT)
    in_state(other_company, S.SUBMITTED)
    client = client_for(applicant)

    applications = client.get("/api/v1/applications/").json()["results"]
    companies = client.get("/api/v1/companies/").json()["results"]

    assert [a["id"] for a in applications] == [mine.pk]
    assert [c["id"] for c in companies] == [company.pk]


def test_another_companys_application_is_not_found_even_by_filtering_for_it(
    other_applicant, company
) -> None:
    application = in_state(company, S.SUBMITTED)
    client = client_for(other_applicant)

    listed = client.get(f"/api/v1/applications/?company={company.pk}").json()
    download = client.get(f"/api/v1/applications/{application.pk}/documents/")

    assert listed["count"] == 0
    assert download.status_code == 404


# --- Editing only in draft and revision_requested ----------------------------------------

EDITS = {
    "item POST": ("post", "items/", lambda a: item_data(), "json", 201),
    "item PATCH": ("patch", "items/{item}/", lambda a: {"brand": "Makita"}, "json", 200),
    "item DELETE": ("delete", "items/{item}/", None, "json", 204),
    "document POST": (
        "post",
        "documents/",
        lambda a: {"kind": "other", "file": pdf_upload()},
        "multipart",
        201,
    ),
    "document DELETE": ("delete", "documents/{document}/", None, "json", 204),
}


@pytest.mark.parametrize("state", list(S))
@pytest.mark.parametrize("edit", EDITS)
def test_applicant_edits_items_and_documents_only_in_draft_or_revision(
    applicant, company, state, edit
) -> None:
    application = in_state(company, S.DRAFT)
    document_services.document_upload(
        application=application, by=applicant, kind="invoice", file=pdf_upload()
    )
    Application.objects.filter(pk=application.pk).update(status=state)
    method, path, data, fmt, success = EDITS[edit]
    url = f"/api/v1/applications/{application.pk}/" + path.format(
        item=application.items.get().pk, document=application.documents.get().pk
    )
    items_before = application.items.count()
    documents_before = application.documents.count()

    response = getattr(client_for(applicant), method)(
        url, data(application) if data else None, format=fmt
    )

    if state in EDITABLE:
        assert response.status_code == success, response.content[:300]
    else:
        assert response.status_code == 409, response.content[:300]
        body = response.json()
        assert body["code"] == "invalid_transition"
        assert body["status"] == state
        assert application.items.count() == items_before
        assert application.documents.count() == documents_before
        assert application.items.get().brand == "Krisbow"


# --- The order of refusals: 401, 404, 403, 400, 409 --------------------------------------


def test_auditor_posting_an_invalid_company_is_refused_for_the_role_not_the_body(auditor):
    response = client_for(auditor).post("/api/v1/companies/", {"nib": "x"}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("items/", {"price": "lots"}),
        ("transitions/", ["not", "an", "object"]),
        ("transitions/", {"action": "nonsense"}),
        ("transitions/", {"action": "approve", "comment": 5}),
    ],
)
def test_auditor_posting_an_invalid_body_to_an_application_gets_403(
    auditor, company, path, body
) -> None:
    application = in_state(company, S.RECOMMENDED)

    response = client_for(auditor).post(
        f"/api/v1/applications/{application.pk}/{path}", body, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_auditor_uploading_a_bad_file_gets_403(auditor, company) -> None:
    application = in_state(company, S.DRAFT)

    response = client_for(auditor).post(
        f"/api/v1/applications/{application.pk}/documents/",
        {"kind": "nonsense", "file": pdf_upload(content=b"not a pdf")},
        format="multipart",
    )

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("path", "body", "fmt"),
    [
        ("items/", {"price": "lots"}, "json"),
        ("items/", item_data(), "json"),
        ("documents/", {"kind": "nonsense"}, "multipart"),
        ("transitions/", {"action": "withdraw"}, "json"),
        ("transitions/", {"action": "nonsense"}, "json"),
        ("transitions/", ["not", "an", "object"], "json"),
    ],
)
def test_another_companys_applicant_posting_to_an_application_gets_404(
    other_applicant, company, path, body, fmt
) -> None:
    application = in_state(company, S.DRAFT)

    response = client_for(other_applicant).post(
        f"/api/v1/applications/{application.pk}/{path}", body, format=fmt
    )

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_invalid_item_on_a_submitted_application_is_400_before_409(applicant, company) -> None:
    application = in_state(company, S.SUBMITTED)
    url = f"/api/v1/applications/{application.pk}/items/"
    client = client_for(applicant)

    invalid = client.post(url, item_data(price=-5), format="json")
    valid = client.post(url, item_data(), format="json")

    assert invalid.status_code == 400
    assert invalid.json()["code"] == "invalid"
    assert "price" in invalid.json()["errors"]
    assert valid.status_code == 409
    assert valid.json()["code"] == "invalid_transition"


def test_invalid_document_on_a_submitted_application_is_400_before_409(applicant, company) -> None:
    application = in_state(company, S.SUBMITTED)
    url = f"/api/v1/applications/{application.pk}/documents/"
    client = client_for(applicant)

    invalid = client.post(
        url, {"kind": "invoice", "file": pdf_upload(content=b"GIF89a")}, format="multipart"
    )
    valid = client.post(url, {"kind": "invoice", "file": pdf_upload()}, format="multipart")

    assert invalid.status_code == 400
    assert "file" in invalid.json()["errors"]
    assert valid.status_code == 409


def test_missing_reason_is_400_even_from_a_state_that_forbids_the_action(verifier, company) -> None:
    application = in_state(company, S.SUBMITTED)

    response = client_for(verifier).post(
        f"/api/v1/applications/{application.pk}/transitions/", {"action": "reject"}, format="json"
    )

    assert response.status_code == 400
    assert "comment" in response.json()["errors"]


def test_staff_changing_a_company_is_refused_before_its_body_is_read(verifier, company) -> None:
    response = client_for(verifier).patch(
        f"/api/v1/companies/{company.pk}/", {"workers": "many"}, format="json"
    )

    assert response.status_code == 403


def test_applicant_may_not_create_a_programme_even_with_a_bad_body(applicant) -> None:
    response = client_for(applicant).post("/api/v1/programmes/", {"year": "x"}, format="json")

    assert response.status_code == 403


def test_document_item_of_another_application_is_not_a_valid_choice(
    applicant, company, other_company
) -> None:
    mine = in_state(company, S.DRAFT)
    theirs = in_state(other_company, S.DRAFT)

    response = client_for(applicant).post(
        f"/api/v1/applications/{mine.pk}/documents/",
        {"kind": "invoice", "file": pdf_upload(), "item": theirs.items.get().pk},
        format="multipart",
    )

    assert response.status_code == 400
    assert "item" in response.json()["errors"]
    assert not mine.documents.exists()


def test_document_download_streams_the_file_to_those_who_may_see_it(
    request, applicant, verifier, other_applicant
) -> None:
    document = World(request).document

    mine = client_for(applicant).get(f"/api/v1/documents/{document.pk}/download/")
    staff = client_for(verifier).get(f"/api/v1/documents/{document.pk}/download/")
    other = client_for(other_applicant).get(f"/api/v1/documents/{document.pk}/download/")

    assert b"".join(mine.streaming_content).startswith(b"%PDF-")
    assert mine["Content-Type"] == "application/pdf"
    assert "attachment" in mine["Content-Disposition"]
    assert staff.status_code == 200
    assert other.status_code == 404
