"""Bad input never gives a 500: every refusal has the contract's body {code, detail, errors?}.

The test client raises a view's exception instead of answering 500, so any crash here fails
the test with its traceback.
"""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from subsidy.models import Application, Company, MachineItem
from tests.factories import ProgrammeFactory
from tests.subsidy.test_api_permissions import (
    CHECKLIST,
    company_payload,
    in_state,
    programme_payload,
)
from tests.utils import client_for, item_data, pdf_upload

pytestmark = pytest.mark.django_db

S = Application.Status
HUGE = 10**30


@pytest.fixture(autouse=True)
def _default_language():
    yield
    translation.deactivate()


def assert_contract_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str)
    assert body["detail"]
    if code == "invalid":
        assert isinstance(body["errors"], dict)
        assert body["errors"]
    return body


@pytest.fixture
def draft(company):
    return in_state(company, S.DRAFT)


@pytest.fixture
def writers(applicant, superuser):
    return {"applicant": client_for(applicant), "superuser": client_for(superuser)}


# Every endpoint that reads a JSON body, with a caller who may write there.
JSON_WRITES = {
    "token POST": ("anonymous", "post", "/api/v1/auth/token/"),
    "register POST": ("anonymous", "post", "/api/v1/auth/register/"),
    "me PATCH": ("applicant", "patch", "/api/v1/me/"),
    "programmes POST": ("superuser", "post", "/api/v1/programmes/"),
    "programme PUT": ("superuser", "put", "/api/v1/programmes/{programme}/"),
    "programme PATCH": ("superuser", "patch", "/api/v1/programmes/{programme}/"),
    "companies POST": ("applicant", "post", "/api/v1/companies/"),
    "company PUT": ("applicant", "put", "/api/v1/companies/{company}/"),
    "company PATCH": ("applicant", "patch", "/api/v1/companies/{company}/"),
    "members POST": ("applicant", "post", "/api/v1/companies/{company}/members/"),
    "applications POST": ("applicant", "post", "/api/v1/applications/"),
    "items POST": ("applicant", "post", "/api/v1/applications/{draft}/items/"),
    "item PUT": ("applicant", "put", "/api/v1/applications/{draft}/items/{item}/"),
    "item PATCH": ("applicant", "patch", "/api/v1/applications/{draft}/items/{item}/"),
    "transitions POST": ("applicant", "post", "/api/v1/applications/{draft}/transitions/"),
}


@pytest.fixture
def world(programme, company, draft) -> dict:
    return {
        "programme": programme.pk,
        "company": company.pk,
        "draft": draft.pk,
        "item": draft.items.get().pk,
    }


def _call(request, world: dict, name: str):
    role, method, url = JSON_WRITES[name]
    client = APIClient() if role == "anonymous" else client_for(request.getfixturevalue(role))
    return getattr(client, method), url.format(**world)


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "null", "42", "true"])
@pytest.mark.parametrize("name", JSON_WRITES)
def test_a_json_body_that_is_not_an_object_is_400(request, world, name, body):
    send, url = _call(request, world, name)

    response = send(url, body, content_type="application/json")

    assert_contract_error(response, 400, "invalid")


@pytest.mark.parametrize("body", ['{"name": ', "{'name': 'x'}", "\x00\xff", '{"a": NaN}'])
@pytest.mark.parametrize("name", JSON_WRITES)
def test_broken_json_is_400(request, world, name, body):
    send, url = _call(request, world, name)

    response = send(url, body, content_type="application/json")

    assert_contract_error(response, 400, "invalid")


@pytest.mark.parametrize("name", JSON_WRITES)
def test_a_body_of_an_unaccepted_content_type_is_400(request, world, name):
    send, url = _call(request, world, name)

    response = send(url, "name=x", content_type="text/plain")

    body = assert_contract_error(response, 400, "invalid")
    assert body["errors"]["non_field_errors"]


def test_json_sent_to_the_upload_endpoint_is_400(applicant, draft):
    response = client_for(applicant).post(
        f"/api/v1/applications/{draft.pk}/documents/", {"kind": "invoice"}, format="json"
    )

    assert_contract_error(response, 400, "invalid")


# --- Wrong types, huge numbers, bad dates ----------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": HUGE}, "price"),
        ({"price": -HUGE}, "price"),
        ({"price": 0}, "price"),
        ({"price": "seratus juta"}, "price"),
        ({"price": 1.5}, "price"),
        ({"price": [1]}, "price"),
        ({"vat": HUGE}, "vat"),
        ({"vat": -1}, "vat"),
        ({"invoice_date": "2026-02-30"}, "invoice_date"),
        ({"invoice_date": "30/01/2026"}, "invoice_date"),
        ({"invoice_date": 20260101}, "invoice_date"),
        ({"invoice_date": "99999-01-01"}, "invoice_date"),
        ({"invoice_date": "2999-01-01"}, "invoice_date"),
        ({"installed_on": "kemarin"}, "installed_on"),
        ({"origin": "mars"}, "origin"),
        ({"payment_method": "barter"}, "payment_method"),
        ({"is_new": "maybe"}, "is_new"),
        ({"description": ""}, "description"),
        ({"description": {"text": "mesin"}}, "description"),
        ({"description": "x" * 1000}, "description"),
        ({"serial_number": "---"}, "serial_number"),
        ({"serial_number": "SN\x00"}, "serial_number"),
        ({"supplier_npwp": "123"}, "supplier_npwp"),
        ({"supplier_npwp": HUGE}, "supplier_npwp"),
    ],
)
def test_item_with_a_bad_field_is_refused_with_that_field_named(applicant, draft, overrides, field):
    before = MachineItem.objects.count()

    response = client_for(applicant).post(
        f"/api/v1/applications/{draft.pk}/items/", item_data(**overrides), format="json"
    )

    body = assert_contract_error(response, 400, "invalid")
    assert field in body["errors"]
    assert MachineItem.objects.count() == before


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"workers": HUGE}, "workers"),
        ({"workers": -1}, "workers"),
        ({"workers": "banyak"}, "workers"),
        ({"investment_value": HUGE}, "investment_value"),
        ({"investment_value": -1}, "investment_value"),
        ({"nib": "12345"}, "nib"),
        ({"nib": HUGE}, "nib"),
        ({"npwp": "1234"}, "npwp"),
        ({"kbli": "ABCDE"}, "kbli"),
        ({"province": "99"}, "province"),
        ({"regency": "34.01"}, "regency"),
        ({"bank_account_number": "rekening"}, "bank_account_number"),
        ({"name": ["CV"]}, "name"),
        ({"name": None}, "name"),
    ],
)
def test_company_with_a_bad_field_is_refused_with_that_field_named(applicant, overrides, field):
    response = client_for(applicant).post(
        "/api/v1/companies/", {**company_payload(), **overrides}, format="json"
    )

    body = assert_contract_error(response, 400, "invalid")
    assert field in body["errors"]
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"budget": HUGE}, "budget"),
        ({"budget": -1}, "budget"),
        ({"year": HUGE}, "year"),
        ({"max_participations": HUGE}, "max_participations"),
        ({"application_opens": "2026-13-01"}, "application_opens"),
        ({"purchase_to": "2020-01-01"}, "purchase_to"),
        ({"min_refund": 400_000_000}, "max_refund_per_company"),
        ({"rates": "0.4"}, "rates"),
        ({"rates": [{"scale": "kecil"}]}, "rates"),
        ({"rates": [{"scale": "kecil", "origin": "domestic", "rate": "0.4"}]}, "rates"),
        ({"rates": [{"scale": "besar", "origin": "domestic", "rate": "0.4"}] * 4}, "rates"),
        ({"rates": [{"scale": "kecil", "origin": "domestic", "rate": HUGE}] * 4}, "rates"),
        ({"required_documents": ["passport"]}, "required_documents"),
        ({"required_documents": "nib"}, "required_documents"),
    ],
)
@pytest.mark.parametrize("method", ["post", "patch"])
def test_programme_with_a_bad_field_is_refused_with_that_field_named(
    superuser, programme, method, overrides, field
):
    url = "/api/v1/programmes/" if method == "post" else f"/api/v1/programmes/{programme.pk}/"
    data = {**programme_payload(2009), **overrides} if method == "post" else overrides

    response = getattr(client_for(superuser), method)(url, data, format="json")

    body = assert_contract_error(response, 400, "invalid")
    assert field in body["errors"]


@pytest.mark.parametrize(
    "data",
    [
        {"programme": HUGE, "company": None},
        {"programme": "abc", "company": "abc"},
        {"programme": [1], "company": {"id": 1}},
        {"programme": -1, "company": HUGE},
        {},
    ],
)
def test_application_with_bad_references_is_400(applicant, company, data):
    response = client_for(applicant).post("/api/v1/applications/", data, format="json")

    body = assert_contract_error(response, 400, "invalid")
    assert {"programme", "company"} & body["errors"].keys()
    assert not Application.objects.exists()


@pytest.mark.parametrize("email", [HUGE, "", None, ["ani@example.test"], "tidak-ada"])
def test_inviting_a_member_without_a_valid_email_is_400(applicant, company, email):
    response = client_for(applicant).post(
        f"/api/v1/companies/{company.pk}/members/", {"email": email}, format="json"
    )

    body = assert_contract_error(response, 400, "invalid")
    assert "email" in body["errors"]


def test_unknown_and_read_only_fields_are_ignored_not_stored(applicant, company, programme):
    response = client_for(applicant).post(
        "/api/v1/applications/",
        {
            "programme": programme.pk,
            "company": company.pk,
            "status": "approved",
            "approved_amount": 300_000_000,
            "reference": "RMP-2026-999999",
            "favourite_colour": "blue",
        },
        format="json",
    )

    assert response.status_code == 201
    application = Application.objects.get()
    assert application.status == S.DRAFT
    assert application.approved_amount is None
    assert application.reference is None


def test_item_discount_and_rate_cannot_be_written(applicant, draft):
    response = client_for(applicant).post(
        f"/api/v1/applications/{draft.pk}/items/",
        item_data(discount=HUGE, rate="1.0000", findings=[{"code": "x"}]),
        format="json",
    )

    assert response.status_code == 201
    item = MachineItem.objects.get(pk=response.json()["id"])
    assert item.discount != HUGE
    assert item.rate != Decimal("1.0000")
    assert {"code": "x"} not in item.findings


# --- Uploads -----------------------------------------------------------------------------


def test_oversized_upload_is_400_with_the_file_named(applicant, draft, settings):
    settings.DOCUMENT_MAX_BYTES = 1024
    content = b"%PDF-1.4\n" + b"0" * 2048

    response = client_for(applicant).post(
        f"/api/v1/applications/{draft.pk}/documents/",
        {"kind": "invoice", "file": pdf_upload(content=content)},
        format="multipart",
    )

    body = assert_contract_error(response, 400, "invalid")
    assert "file" in body["errors"]
    assert not draft.documents.exists()


def test_upload_whose_body_announces_more_than_the_limit_is_refused_unread(
    applicant, draft, settings
):
    settings.DOCUMENT_MAX_BYTES = 1024
    content = b"%PDF-1.4\n" + b"0" * (100 * 1024)

    response = client_for(applicant).post(
        f"/api/v1/applications/{draft.pk}/documents/",
        {"kind": "invoice", "file": pdf_upload(content=content)},
        format="multipart",
    )

    body = assert_contract_error(response, 400, "invalid")
    assert "file" in body["errors"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "invoice", "file": pdf_upload(content=b"MZ\x90\x00 not a pdf")}, "file"),
        ({"kind": "invoice", "file": pdf_upload(content=b"")}, "file"),
        ({"kind": "invoice"}, "file"),
        ({"kind": "passport", "file": pdf_upload()}, "kind"),
        ({"file": pdf_upload()}, "kind"),
        ({"kind": "invoice", "file": "not a file"}, "file"),
        ({"kind": "invoice", "file": pdf_upload(), "item": HUGE}, "item"),
        ({"kind": "invoice", "file": pdf_upload(), "item": "abc"}, "item"),
    ],
)
def test_bad_upload_is_400_with_the_field_named(applicant, draft, data, field):
    before = draft.documents.count()

    response = client_for(applicant).post(
        f"/api/v1/applications/{draft.pk}/documents/", data, format="multipart"
    )

    body = assert_contract_error(response, 400, "invalid")
    assert field in body["errors"]
    assert draft.documents.count() == before


# --- Filters and pages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("status=nonsense", "status"),
        ("status=draft&status=nonsense", "status"),
        ("submitted_after=notadate", "submitted_after"),
        ("submitted_before=2026-02-30", "submitted_before"),
        ("programme=abc", "programme"),
        ("programme=1.5", "programme"),
        (f"programme={HUGE}", "programme"),
        (f"company={HUGE}", "company"),
        ("company=-3", "company"),
        ("scale=raksasa", "scale"),
        ("search=%00", "search"),
        ("page=abc", "page"),
        ("page=0", "page"),
        ("page=-1", "page"),
    ],
)
def test_invalid_filter_or_page_is_400_naming_the_parameter(verifier, query, field):
    response = client_for(verifier).get(f"/api/v1/applications/?{query}")

    body = assert_contract_error(response, 400, "invalid")
    assert field in body["errors"]


@pytest.mark.parametrize("path", ["companies", "programmes", "notifications"])
def test_other_lists_refuse_a_bad_page_too(verifier, path):
    response = client_for(verifier).get(f"/api/v1/{path}/?page=abc")

    assert_contract_error(response, 400, "invalid")


def test_page_past_the_end_is_404(verifier):
    response = client_for(verifier).get("/api/v1/applications/?page=9999")

    assert_contract_error(response, 404, "not_found")


@pytest.mark.parametrize("query", ["submitted_after=0001-01-01", "submitted_before=9999-12-31"])
def test_dates_at_the_ends_of_the_calendar_are_no_error(verifier, company, query):
    in_state(company, S.SUBMITTED)

    response = client_for(verifier).get(f"/api/v1/applications/?{query}")

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_submitted_filters_use_the_jakarta_day(verifier, company):
    application = in_state(company, S.SUBMITTED)
    # 23:30 in Jakarta is 16:30 UTC the same day; the local day is what a user means.
    local = timezone.make_aware(dt.datetime(2026, 5, 4, 23, 30))
    Application.objects.filter(pk=application.pk).update(submitted_at=local)
    client = client_for(verifier)

    def ids(query: str) -> list[int]:
        return [a["id"] for a in client.get(f"/api/v1/applications/?{query}").json()["results"]]

    assert ids("submitted_after=2026-05-04&submitted_before=2026-05-04") == [application.pk]
    assert ids("submitted_after=2026-05-05") == []
    assert ids("submitted_before=2026-05-03") == []


def test_page_size_is_capped_at_200(verifier):
    programme = ProgrammeFactory()
    companies = Company.objects.bulk_create(Company(name=f"CV {n}") for n in range(201))
    Application.objects.bulk_create(Application(programme=programme, company=c) for c in companies)

    response = client_for(verifier).get("/api/v1/applications/?page_size=100000")

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 201
    assert len(body["results"]) == 200
    assert "page=2" in body["next"]


@pytest.mark.parametrize("page_size", ["abc", "0", "-5", "null", "", "1.5"])
def test_a_page_size_that_is_no_whole_number_from_1_is_400(verifier, page_size):
    response = client_for(verifier).get(f"/api/v1/applications/?page_size={page_size}")

    body = assert_contract_error(response, 400, "invalid")
    assert "page_size" in body["errors"]


@pytest.mark.parametrize(
    "query",
    ["submitted_before=", "submitted_after=", "programme=", "status=", "scale=", "company="],
)
def test_a_filter_sent_empty_is_400_as_its_schema_says(verifier, query):
    response = client_for(verifier).get(f"/api/v1/applications/?{query}")

    body = assert_contract_error(response, 400, "invalid")
    assert query.rstrip("=") in body["errors"]


def test_an_empty_search_is_no_filter(verifier):
    assert client_for(verifier).get("/api/v1/applications/?search=").status_code == 200


# --- Transition payloads -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "state", "payload", "field"),
    [
        ("verifier", S.UNDER_REVIEW, {"action": "reject"}, "comment"),
        ("verifier", S.UNDER_REVIEW, {"action": "reject", "comment": "   "}, "comment"),
        ("verifier", S.UNDER_REVIEW, {"action": "reject", "comment": 5}, "comment"),
        ("verifier", S.UNDER_REVIEW, {"action": "reject", "comment": None}, "comment"),
        ("verifier", S.UNDER_REVIEW, {"action": "request_revision"}, "comment"),
        ("approver", S.RECOMMENDED, {"action": "reject", "comment": ""}, "comment"),
        ("verifier", S.UNDER_REVIEW, {"action": "pass_review", "comment": ["ok"]}, "comment"),
        ("verifier", S.FIELD_VERIFICATION, {"action": "recommend"}, "checklist"),
        (
            "verifier",
            S.FIELD_VERIFICATION,
            {"action": "recommend", "checklist": {**CHECKLIST, "machines_new": False}},
            "checklist",
        ),
        (
            "verifier",
            S.FIELD_VERIFICATION,
            {"action": "recommend", "checklist": {"machines_present": True}},
            "checklist",
        ),
        (
            "verifier",
            S.FIELD_VERIFICATION,
            {"action": "recommend", "checklist": [True, True, True, True]},
            "checklist",
        ),
        (
            "verifier",
            S.FIELD_VERIFICATION,
            {"action": "recommend", "checklist": {**CHECKLIST, "not_transferred": "perhaps"}},
            "checklist",
        ),
        ("finance", S.APPROVED, {"action": "disburse"}, "transfer_reference"),
        (
            "finance",
            S.APPROVED,
            {"action": "disburse", "transfer_reference": "TRF-1"},
            "transferred_on",
        ),
        (
            "finance",
            S.APPROVED,
            {"action": "disburse", "transfer_reference": "TRF-1", "transferred_on": "kemarin"},
            "transferred_on",
        ),
        (
            "finance",
            S.APPROVED,
            {"action": "disburse", "transfer_reference": "TRF-1", "transferred_on": "2999-01-01"},
            "transferred_on",
        ),
        (
            "finance",
            S.APPROVED,
            {"action": "disburse", "transfer_reference": "T" * 101, "transferred_on": "2026-01-01"},
            "transfer_reference",
        ),
        ("verifier", S.SUBMITTED, {"action": "nonsense"}, "action"),
        ("verifier", S.SUBMITTED, {"action": None}, "action"),
        ("verifier", S.SUBMITTED, {"action": ["start_review"]}, "action"),
        ("verifier", S.SUBMITTED, {}, "action"),
    ],
)
def test_transition_payload_errors_are_400_naming_the_field(
    request, company, role, state, payload, field
):
    application = in_state(company, state)

    response = client_for(request.getfixturevalue(role)).post(
        f"/api/v1/applications/{application.pk}/transitions/", payload, format="json"
    )

    body = assert_contract_error(response, 400, "invalid")
    assert field in body["errors"]
    application.refresh_from_db()
    assert application.status == state


def test_letter_before_approval_is_409(applicant, draft):
    response = client_for(applicant).get(f"/api/v1/applications/{draft.pk}/letter/")

    body = assert_contract_error(response, 409, "invalid_transition")
    assert body["status"] == "draft"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/applications/999999/",
        "/api/v1/applications/abc/",
        f"/api/v1/applications/{HUGE}/",
        "/api/v1/applications/999999/items/",
        f"/api/v1/applications/{HUGE}/documents/",
        "/api/v1/documents/999999/download/",
        "/api/v1/companies/999999/members/",
        "/api/v1/programmes/999999/budget/",
    ],
)
def test_unknown_ids_are_404_in_the_contract_shape(verifier, path):
    response = client_for(verifier).get(path)

    assert_contract_error(response, 404, "not_found")


def test_unsupported_method_is_405_in_the_contract_shape(verifier):
    response = client_for(verifier).delete("/api/v1/programmes/")

    assert_contract_error(response, 405, "method_not_allowed")


def test_a_bad_token_is_401(api):
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    response = api.get("/api/v1/applications/")

    assert_contract_error(response, 401, "not_authenticated")


# --- The caller's language ---------------------------------------------------------------


def _in(language: str, message: str) -> str:
    with translation.override(language):
        return gettext(message)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda c, a: c.post(f"/api/v1/applications/{a.pk}/items/", {}, format="json"),
            "The data sent is not valid; see the errors for each field.",
        ),
        (lambda c, a: c.get("/api/v1/applications/999999/"), "Not found."),
        (
            lambda c, a: c.post("/api/v1/programmes/", {}, format="json"),
            "Only an administrator may change programmes.",
        ),
        (
            lambda c, a: c.post(
                f"/api/v1/applications/{a.pk}/items/", "{", content_type="application/json"
            ),
            "The request body could not be read.",
        ),
    ],
    ids=["invalid", "not_found", "forbidden", "unreadable"],
)
@pytest.mark.parametrize("language", ["en", "id"])
def test_error_detail_follows_the_users_language(applicant, draft, call, message, language):
    applicant.language = language
    applicant.save(update_fields=["language"])
    token = APIClient().post(
        "/api/v1/auth/token/",
        {"username": applicant.username, "password": "Pw-for-tests-1"},
        format="json",
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")

    response = call(client, draft)

    # The Indonesian catalogue has these sentences: English and Indonesian differ.
    assert _in("id", message) != _in("en", message)
    assert response.json()["detail"] == _in(language, message)


@pytest.mark.parametrize(
    ("language", "required"), [("en", "This field is required."), ("id", "Bidang ini harus diisi.")]
)
def test_field_messages_follow_the_users_language(applicant, draft, language, required):
    applicant.language = language
    applicant.save(update_fields=["language"])
    token = APIClient().post(
        "/api/v1/auth/token/",
        {"username": applicant.username, "password": "Pw-for-tests-1"},
        format="json",
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")

    response = client.post(f"/api/v1/applications/{draft.pk}/items/", {}, format="json")

    assert response.json()["errors"]["description"] == [required]


# --- Throttling --------------------------------------------------------------------------


@pytest.fixture
def low_throttle(monkeypatch, settings):
    """Rates of 2 a minute for the three throttled scopes, on a fresh cache."""
    rates = {"auth": "2/min", "register": "2/min", "upload": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    # DRF reads the rates once, into a class attribute: point it at the lowered ones.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    cache.clear()
    yield
    cache.clear()
    api_settings.reload()


def test_token_requests_are_throttled(low_throttle, applicant):
    client = APIClient()
    payload = {"username": applicant.username, "password": "Pw-for-tests-1"}
    codes = [client.post("/api/v1/auth/token/", payload, format="json") for _ in range(3)]

    assert [r.status_code for r in codes] == [200, 200, 429]
    body = assert_contract_error(codes[-1], 429, "throttled")
    assert body["retry_after"] > 0
    assert codes[-1]["Retry-After"]


def test_registrations_are_throttled(low_throttle):
    client = APIClient()
    codes = [
        client.post(
            "/api/v1/auth/register/",
            {"username": f"ikm{n}", "email": f"ikm{n}@ikm.test", "password": "Batik-Solo-2026"},
            format="json",
        ).status_code
        for n in range(3)
    ]

    assert codes == [201, 201, 429]


def test_uploads_are_throttled_but_reads_are_not(low_throttle, applicant, draft):
    client = client_for(applicant)
    url = f"/api/v1/applications/{draft.pk}/documents/"
    codes = [
        client.post(url, {"kind": "other", "file": pdf_upload()}, format="multipart").status_code
        for _ in range(3)
    ]
    reads = [client.get(url).status_code for _ in range(3)]

    assert codes == [201, 201, 429]
    assert reads == [200, 200, 200]


def test_error_body_is_json_even_for_a_list_view_with_a_bad_accept_header(verifier):
    response = client_for(verifier).get("/api/v1/applications/", HTTP_ACCEPT="application/xml")

    assert response.status_code == 406
    assert json.loads(response.content)["code"] == "not_acceptable"


# --- Paths that match no route -------------------------------------------------------------


def test_not_found_handler_answers_api_paths_in_json(rf):
    from config.views import not_found

    api = not_found(rf.get("/api/v1/applications/-1/items/"))
    page = not_found(rf.get("/nowhere/"))

    assert api.status_code == page.status_code == 404
    assert json.loads(api.content)["code"] == "not_found"
    assert page["Content-Type"].startswith("text/html")


def test_server_error_handler_answers_api_paths_in_json(rf):
    from config.views import server_error

    response = server_error(rf.get("/api/v1/applications/"))

    assert response.status_code == 500
    assert json.loads(response.content)["code"] == "error"


def test_an_api_path_that_matches_no_route_is_json(verifier):
    response = client_for(verifier).get("/api/v1/applications/-1/items/")

    assert_contract_error(response, 404, "not_found")
