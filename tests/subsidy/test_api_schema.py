"""The OpenAPI schema at /api/schema/ describes the API exactly: schemathesis checks every answer.

Every operation is called with generated input (valid and invalid) as an applicant and as a
verifier, through the Django WSGI application of the test settings: no answer may be a 5xx,
and every status, content type and body must be one the schema declares.
"""

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from rest_framework.test import APIClient
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from accounts.services import api_token_create
from subsidy.exports import records as export_records
from subsidy.models import Application, Company, Notice
from subsidy.regions import provinces, regency_in_province, regency_names
from subsidy.services import documents as document_services
from subsidy.services import site_visits as site_visit_services
from subsidy.workflow.transitions import CHECKLIST_ITEMS
from tests.factories import ProgrammeFactory
from tests.subsidy.test_api_permissions import in_state
from tests.utils import PDF_BYTES, api_token_for, jpeg, pdf_upload

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    # What the schema calls valid is accepted (2xx, or 401/403/404/409/429: who may, which
    # rows, which state), and what it calls invalid is refused (4xx).
    positive_data_acceptance,
    negative_data_rejection,
]


@pytest.fixture
def _keep_connection():
    """Calls go straight to the WSGI application, which closes the database connection after
    each request; the test's transaction must survive them (Django's test client does this)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(_keep_connection, applicant, verifier, company, programme) -> dict:
    """Real objects for the generated calls to reach (ids in paths point at them)."""
    draft = in_state(company, Application.Status.DRAFT)
    document = document_services.document_upload(
        application=draft, by=applicant, kind="invoice", file=pdf_upload()
    )
    approved = in_state(company, Application.Status.APPROVED)
    visiting = in_state(company, Application.Status.FIELD_VERIFICATION)
    visit = site_visit_services.site_visit_record(
        application=visiting,
        by=verifier,
        visited_on=timezone.localdate(),
        place="Klaten",
        checklist=dict.fromkeys(CHECKLIST_ITEMS, True),
        photos=[jpeg()],
    )
    notice = Notice.objects.create(
        key="schema:1",
        recipient=applicant,
        application=draft,
        kind=Notice.Kind.REMINDER,
        title="Pengingat",
        body="Pengingat",
    )
    # Recorded, not written: the test's transaction never commits, so its job never runs.
    export = export_records.export_create(
        by=verifier, kind="applications", format="csv", filters={}
    )
    return {
        "export": export.pk,
        "draft": draft.pk,
        "approved": approved.pk,
        "item": draft.items.get().pk,
        "document": document.pk,
        "programme": programme.pk,
        "company": company.pk,
        "notice": notice.pk,
        "visiting": visiting.pk,
        "visit": visit.pk,
        "photo": visit.photos.get().pk,
        "tokens": {
            "applicant": api_token_for(applicant),
            "verifier": api_token_for(verifier),
        },
        # What DELETE /auth/tokens/{id}/ may revoke: never the tokens the calls are made with.
        "spare_token": api_token_create(user=applicant).token.pk,
    }


# Loaded when the module is collected (the test settings are configured by then): the schema
# is served without touching the database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


def _aim(case, world: dict) -> None:
    """Point ids in the path at the world's objects, so calls reach real data, not only 404s.
    An id that breaks the schema (an invalid case's) is left as generated."""
    path = case.operation.path
    params = case.path_parameters or {}
    if _is_id(params.get("application_pk")):
        params["application_pk"] = world["visiting" if "/site-visits/" in path else "draft"]
    if _is_id(params.get("id")):
        if path.startswith("/api/v1/auth/tokens/"):
            params["id"] = world["spare_token"]
        elif "/site-visits/" in path:
            params["id"] = world["visit"]
        elif "/site-visit-photos/" in path:
            params["id"] = world["photo"]
        elif "/items/" in path:
            params["id"] = world["item"]
        elif "/documents/" in path:
            params["id"] = world["document"]
        elif path.endswith("/letter/"):
            params["id"] = world["approved"]
        elif path.startswith("/api/v1/applications/"):
            params["id"] = world["draft"]
        elif path.startswith("/api/v1/programmes/"):
            params["id"] = world["programme"]
        elif path.startswith("/api/v1/companies/"):
            params["id"] = world["company"]
        elif path.startswith("/api/v1/notifications/"):
            params["id"] = world["notice"]
        elif path.startswith("/api/v1/exports/"):
            params["id"] = world["export"]


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def _aim_body(case, world: dict) -> None:
    """Ids in the body, like those in the path, point at real rows: the schema says an id is a
    whole number from 1, not which rows exist. An id that breaks the schema is left as it is."""
    body = case.body
    if not isinstance(body, dict):
        return
    path = case.operation.path
    targets = {"programme": world["programme"], "company": world["company"]}
    if path.endswith("/documents/"):
        targets = {"item": world["item"]}
    for name, pk in targets.items():
        value = body.get(name)
        if isinstance(value, str) and value.isascii() and value.isdigit():  # a form's text
            value = int(value)
        if _is_id(value):
            body[name] = pk


def _stored_region(case, world: dict) -> tuple[str, str]:
    """The company's stored province and regency, which a change leaves where not sent."""
    if case.method.upper() in ("PUT", "PATCH") and case.operation.path == "/api/v1/companies/{id}/":
        company = Company.objects.get(pk=world["company"])
        return company.province, company.regency
    return "", ""


def _consistent_region(case, world: dict) -> None:
    """A regency lies in its province (validators.region): a rule across two fields (and the
    stored ones a change does not send), which the schema states only field by field (each an
    enum of real codes). Valid input is made consistent: the regency is moved into the
    province, or cleared with it."""
    body = case.body
    if not isinstance(body, dict):
        return
    stored_province, stored_regency = _stored_region(case, world)
    province = body.get("province", stored_province)
    regency = body.get("regency", stored_regency)
    if province not in provinces() and province != "":
        return  # the province breaks the schema: the case is refused anyway
    if regency not in regency_names() or regency_in_province(regency, province):
        return
    body["regency"] = provinces()[province].regencies[0][0] if province else ""


def _free_nib(case, world: dict) -> None:
    """A NIB no other company holds (an earlier example may have registered it)."""
    body = case.body
    nib = body.get("nib") if isinstance(body, dict) else None
    if not isinstance(nib, str) or len(nib) != 13:
        return
    others = Company.objects.exclude(pk=world["company"])
    n = int(nib)
    while others.filter(nib=f"{n:013d}").exists():
        n = (n + 1) % 10**13
    body["nib"] = f"{n:013d}"


def _free_email(body: object) -> None:
    """An address no account holds: one account per address, and the first role's call may
    have taken the generated one (registration, or a change of one's own address)."""
    email = body.get("email") if isinstance(body, dict) else None
    if isinstance(email, str) and "@" in email:
        users = get_user_model().objects
        local, domain = email.rsplit("@", 1)
        n = 0
        while users.filter(email__iexact=body["email"]).exists():
            n += 1
            body["email"] = f"{n}{local[: 64 - len(str(n))]}@{domain}"


def _fresh_registration(case) -> None:
    """A username and an address not taken yet (earlier examples registered some; the second
    role's call repeats the first's) and a password Django's validators accept: the schema
    states their length and "not digits only"; a common password or one like the username is
    the validators' judgement, which no schema can state."""
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("username"), str):
        return
    users = get_user_model().objects
    base, n = body["username"][:140], 0
    while users.filter(username__iexact=body["username"]).exists():
        n += 1
        body["username"] = f"{base}{n}"
    _free_email(body)
    candidate = get_user_model()(username=body["username"], email=body.get("email", ""))
    try:
        validate_password(body.get("password"), user=candidate)
    except (ValidationError, TypeError):
        body["password"] = "Mesin-Bubut-7291"


def _known_credentials(case) -> None:
    """Credentials that exist: a well-formed log-in with a wrong password is refused (400) by
    the contract, so the generated username is given the generated password first."""
    body = case.body
    if not isinstance(body, dict):
        return
    username, password = body.get("username"), body.get("password")
    if isinstance(username, str) and isinstance(password, str):
        user, _created = get_user_model().objects.get_or_create(username=username)
        user.set_password(password)
        user.save(update_fields=["password"])


def _real_files(case) -> None:
    """A file's content is the upload checks' judgement (a real PDF, JPEG or PNG, sniffed from
    its bytes): the schema says `format: binary`, which any bytes are. Valid cases upload a
    real file: a PDF for documents, a JPEG for site-visit photos."""
    body = case.body
    if not isinstance(body, dict):
        return
    photo = "/site-visits/" in case.operation.path
    if "file" in body:
        body["file"] = jpeg().read() if photo else PDF_BYTES
    if photo and isinstance(body.get("photos"), list):
        body["photos"] = [jpeg().read() for _ in body["photos"]]


def _not_in_future(case) -> None:
    """A visit or a transfer is not dated in the future: a schema has no "today"."""
    body = case.body
    if not isinstance(body, dict):
        return
    today = timezone.localdate()
    for name in ("visited_on", "transferred_on"):
        value = body.get(name)
        if isinstance(value, str) and value > today.isoformat():
            body[name] = today.isoformat()


def _recommend_with_checklist(case) -> None:
    """Recommending takes the latest site visit's answers when no checklist is sent, and needs
    one when no visit is recorded (a rule on stored rows): valid cases send the checklist."""
    body = case.body
    if isinstance(body, dict) and body.get("action") == "recommend" and "checklist" not in body:
        body["checklist"] = dict.fromkeys(CHECKLIST_ITEMS, True)


def _valid_input_stays_valid(case, world: dict) -> None:
    """What the schema cannot state (which rows exist, rules across fields and rows, a file's
    content, today's date) is made true of the valid cases only; invalid ones are sent as
    generated."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    _aim_body(case, world)
    path = case.operation.path
    _real_files(case)
    _not_in_future(case)
    if path.startswith("/api/v1/companies/"):
        _consistent_region(case, world)
        _free_nib(case, world)
    elif path == "/api/v1/auth/register/":
        _fresh_registration(case)
    elif path == "/api/v1/me/":
        _free_email(case.body)
    elif path == "/api/v1/auth/token/":
        _known_credentials(case)
    elif path.endswith("/transitions/"):
        _recommend_with_checklist(case)


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
    # Not Phase.explicit (schemathesis's coverage phase, its boundary values of every field):
    # over every operation it took 140 to 300 s here, past this file's budget (~120 s, -n 2).
    phases=[Phase.generate],
)
@pytest.mark.django_db
def test_every_answer_conforms_to_the_schema(case, world):
    _aim(case, world)
    for role in ("applicant", "verifier"):
        # Again before each call: the one before may have used the username or the NIB.
        _valid_input_stays_valid(case, world)
        response = case.call(headers={"Authorization": f"Token {world['tokens'][role]}"})
        case.validate_response(response, checks=CHECKS)


# --- Valid writes, which generated data seldom is: their answers conform too ---------------


def _valid_writes(world: dict) -> list[tuple[str, str, str, dict, object, str]]:
    from tests.subsidy.test_api_permissions import CHECKLIST, company_payload, programme_payload
    from tests.utils import item_data

    item = {k: str(v) if hasattr(v, "isoformat") else v for k, v in item_data().items()}
    draft = {"application_pk": world["draft"]}
    return [
        ("superuser", "POST", "/api/v1/programmes/", {}, programme_payload(2009), "json"),
        (
            "superuser",
            "PATCH",
            "/api/v1/programmes/{id}/",
            {"id": world["programme"]},
            {"max_participations": None},
            "json",
        ),
        ("applicant", "POST", "/api/v1/companies/", {}, company_payload(), "json"),
        (
            "applicant",
            "POST",
            "/api/v1/applications/",
            {},
            {"programme": world["programme2"], "company": world["company"]},
            "json",
        ),
        ("applicant", "POST", "/api/v1/applications/{application_pk}/items/", draft, item, "json"),
        (
            "applicant",
            "PATCH",
            "/api/v1/applications/{application_pk}/items/{id}/",
            {**draft, "id": world["item"]},
            {"installed_on": None},
            "json",
        ),
        (
            "applicant",
            "POST",
            "/api/v1/applications/{application_pk}/documents/",
            draft,
            {"kind": "other", "file": b"%PDF-1.4\n%%EOF\n"},
            "multipart/form-data",
        ),
        (
            "applicant",
            "POST",
            "/api/v1/applications/{id}/transitions/",
            {"id": world["draft"]},
            {"action": "submit"},
            "json",
        ),
        (
            "verifier",
            "POST",
            "/api/v1/applications/{id}/transitions/",
            {"id": world["field_verification"]},
            {"action": "recommend", "checklist": CHECKLIST, "comment": "Mesin terpasang"},
            "json",
        ),
        (
            "verifier",
            "POST",
            "/api/v1/applications/{application_pk}/site-visits/",
            {"application_pk": world["visiting"]},
            {
                "visited_on": timezone.localdate().isoformat(),
                "place": "Klaten",
                **dict.fromkeys(CHECKLIST_ITEMS, True),
                "notes": "",
            },
            "json",
        ),
        (
            "verifier",
            "POST",
            "/api/v1/applications/{application_pk}/site-visits/{id}/photos/",
            {"application_pk": world["visiting"], "id": world["visit"]},
            {"file": jpeg().read()},
            "multipart/form-data",
        ),
        (
            "applicant",
            "POST",
            "/api/v1/applications/{id}/transitions/",
            {"id": world["approved"]},
            {"action": "withdraw"},
            "json",
        ),
    ]


def test_valid_writes_conform_to_the_schema(world, superuser):
    world["tokens"]["superuser"] = api_token_for(superuser)
    world["programme2"] = ProgrammeFactory().pk
    world["field_verification"] = in_state(
        Company.objects.get(pk=world["company"]), Application.Status.FIELD_VERIFICATION
    ).pk
    statuses = []
    for role, method, path, params, body, media in _valid_writes(world):
        media_type = "application/json" if media == "json" else media
        case = schema[path][method].Case(path_parameters=params, body=body, media_type=media_type)
        response = case.call(headers={"Authorization": f"Token {world['tokens'][role]}"})
        case.validate_response(response, checks=CHECKS)
        statuses.append(response.status_code)

    # Each succeeds but the last: an approved case can no longer be withdrawn.
    assert statuses == [201, 200, 201, 201, 201, 200, 201, 200, 200, 201, 201, 409]


# --- The schema itself -------------------------------------------------------------------


@pytest.fixture
def document(db) -> dict:
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def test_schema_is_public_and_valid_openapi_3(document):
    from drf_spectacular.validation import validate_schema

    validate_schema(document)  # raises on anything OpenAPI 3.0 does not allow
    assert document["openapi"].startswith("3.")


def test_interactive_docs_are_public(db):
    response = APIClient().get("/api/docs/")

    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


CONTRACT_PATHS = {
    "/api/v1/auth/token/": {"post"},
    "/api/v1/auth/register/": {"post"},
    # Issue 13: the owner lists, makes (for the browser session) and revokes tokens.
    "/api/v1/auth/tokens/": {"get", "post"},
    "/api/v1/auth/tokens/{id}/": {"delete"},
    "/api/v1/me/": {"get", "patch"},
    "/api/v1/programmes/": {"get", "post"},
    "/api/v1/programmes/{id}/": {"get", "put", "patch"},
    "/api/v1/programmes/{id}/budget/": {"get"},
    "/api/v1/companies/": {"get", "post"},
    "/api/v1/companies/{id}/": {"get", "put", "patch"},
    "/api/v1/companies/{id}/members/": {"get", "post"},
    "/api/v1/companies/{id}/members/{user_id}/": {"delete"},
    "/api/v1/invitations/{token}/accept/": {"post"},
    "/api/v1/regions/": {"get"},
    "/api/v1/eligibility-check/": {"post"},
    "/api/v1/statistics/": {"get"},
    "/api/v1/applications/": {"get", "post"},
    "/api/v1/applications/{id}/": {"get"},
    "/api/v1/applications/{application_pk}/items/": {"get", "post"},
    "/api/v1/applications/{application_pk}/items/{id}/": {"get", "put", "patch", "delete"},
    "/api/v1/applications/{application_pk}/documents/": {"get", "post"},
    "/api/v1/applications/{application_pk}/documents/{id}/": {"get", "delete"},
    "/api/v1/documents/{id}/download/": {"get"},
    "/api/v1/applications/{id}/breakdown/": {"get"},
    "/api/v1/applications/{id}/transitions/": {"get", "post"},
    "/api/v1/applications/{id}/history/": {"get"},
    "/api/v1/applications/{id}/letter/": {"get"},
    "/api/v1/applications/{id}/dossier/": {"get"},
    "/api/v1/notifications/": {"get"},
    "/api/v1/notifications/{id}/read/": {"post"},
    # Added for the officers' pages (not in API.md): site visits and their photos.
    "/api/v1/applications/{application_pk}/site-visits/": {"get", "post"},
    "/api/v1/applications/{application_pk}/site-visits/{id}/": {"get"},
    "/api/v1/applications/{application_pk}/site-visits/{id}/photos/": {"post"},
    "/api/v1/site-visit-photos/{id}/download/": {"get"},
    # Exports (issue 12): the streamed CSVs and the background exports.
    "/api/v1/exports/applications.csv": {"get"},
    "/api/v1/exports/items.csv": {"get"},
    "/api/v1/exports/": {"get", "post"},
    "/api/v1/exports/{id}/": {"get"},
    "/api/v1/exports/{id}/download/": {"get"},
}


def test_schema_has_every_path_and_method_of_the_contract(document):
    paths = {
        path: {m for m in methods if m in {"get", "post", "put", "patch", "delete"}}
        for path, methods in document["paths"].items()
    }

    assert paths == CONTRACT_PATHS


def _properties(document: dict, component: str) -> set[str]:
    """A component's properties; of a oneOf (one payload per action), those of every branch."""
    schemas = document["components"]["schemas"]
    branches = schemas[component].get("oneOf", [{"$ref": f"#/x/{component}"}])
    return {name for b in branches for name in schemas[b["$ref"].rsplit("/", 1)[1]]["properties"]}


@pytest.mark.parametrize(
    ("component", "fields"),
    [
        (
            "Programme",
            "id year name application_opens application_closes purchase_from purchase_to "
            "install_by budget rates min_refund max_refund_per_company max_participations "
            "required_documents",
        ),
        ("Rate", "scale origin rate"),
        ("Budget", "budget committed disbursed available"),
        (
            "Company",
            "id name nib npwp kbli workers investment_value scale province province_name "
            "regency regency_name address bank_name bank_account_number bank_account_name",
        ),
        (
            "Application",
            "id reference programme company status submitted_at eligible_total "
            "computed_discount computed_at approved_amount disbursed_amount payout_bank_name "
            "payout_account_number payout_account_name transfer_reference transferred_on "
            "case_officer findings items",
        ),
        ("Finding", "code item detail"),
        (
            "MachineItem",
            "id description brand model serial_number origin supplier_name supplier_npwp "
            "invoice_number tax_invoice_number invoice_date price vat payment_method is_new "
            "installed_on rate discount findings",
        ),
        ("ItemFinding", "code detail"),
        ("DocumentRequest", "kind file item"),
        ("TransitionRequest", "action comment checklist transfer_reference transferred_on"),
        ("ChecklistRequest", "machines_present machines_new machines_installed not_transferred"),
        ("HistoryEntry", "at actor action from_status to_status comment changes"),
        ("Notification", "id kind application title body created_at read_at"),
        ("Error", "code detail errors missing"),
        (
            "Export",
            "id kind format filters status progress rows created_by created_at finished_at "
            "sha256 download_url",
        ),
    ],
)
def test_schema_names_every_contract_field(document, component, fields):
    assert set(fields.split()) <= _properties(document, component)


@pytest.mark.parametrize(
    ("component", "field"),
    [
        ("Application", "reference"),
        ("Application", "submitted_at"),
        ("Application", "computed_at"),
        ("Application", "approved_amount"),
        ("Application", "disbursed_amount"),
        ("Application", "transferred_on"),
        ("Application", "case_officer"),
        ("MachineItem", "rate"),
        ("MachineItem", "installed_on"),
        ("Notification", "application"),
        ("Notification", "read_at"),
        ("Programme", "max_participations"),
        ("Company", "nib"),
    ],
)
def test_fields_that_may_be_empty_are_nullable(document, component, field):
    assert document["components"]["schemas"][component]["properties"][field].get("nullable")


def test_transition_payload_lists_the_actions(document):
    schemas = document["components"]["schemas"]
    mapping = schemas["TransitionRequest"]["discriminator"]["mapping"]
    enum = set()
    for action, ref in mapping.items():
        branch = schemas[ref.rsplit("/", 1)[1]]["properties"]["action"]
        enum |= set(schemas[branch["$ref"].rsplit("/", 1)[1]]["enum"])
        assert schemas[branch["$ref"].rsplit("/", 1)[1]]["enum"] == [action]

    assert enum == {
        "submit",
        "start_review",
        "request_revision",
        "pass_review",
        "recommend",
        "reject",
        "approve",
        "disburse",
        "withdraw",
    }


@pytest.mark.parametrize(
    ("path", "method", "codes"),
    [
        ("/api/v1/applications/", "get", {"200", "400", "401", "404"}),
        ("/api/v1/applications/", "post", {"201", "400", "401", "403", "409"}),
        (
            "/api/v1/applications/{id}/transitions/",
            "post",
            {"200", "400", "401", "403", "404", "409"},
        ),
        (
            "/api/v1/applications/{application_pk}/items/",
            "post",
            {"201", "400", "401", "403", "404", "409"},
        ),
        (
            "/api/v1/applications/{application_pk}/items/{id}/",
            "delete",
            {"204", "401", "403", "404", "409"},
        ),
        (
            "/api/v1/applications/{application_pk}/documents/",
            "post",
            {"201", "400", "401", "403", "404", "409", "429"},
        ),
        ("/api/v1/applications/{id}/letter/", "get", {"200", "401", "404", "409"}),
        ("/api/v1/applications/{id}/dossier/", "get", {"200", "401", "404"}),
        ("/api/v1/programmes/", "post", {"201", "400", "401", "403"}),
        ("/api/v1/auth/token/", "post", {"200", "400", "429"}),
        ("/api/v1/exports/", "post", {"400", "401", "403"}),
        ("/api/v1/exports/{id}/download/", "get", {"401", "403", "404", "409", "410"}),
    ],
)
def test_error_responses_are_documented(document, path, method, codes):
    responses = document["paths"][path][method]["responses"]

    assert codes <= set(responses)
    for code in codes - {"200", "201", "204"}:
        assert responses[code]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
