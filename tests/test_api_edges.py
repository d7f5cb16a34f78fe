"""The API's edges: unknown paths, unreadable bodies, CSRF failures and the time zone of answers.

Each is answered in the contract's shape ({code, detail, ...}), never a 500 or an HTML page;
paths outside /api/ keep Django's pages.
"""

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone, translation
from rest_framework.test import APIClient

from subsidy import audit
from subsidy.models import Application
from tests.subsidy.test_api_permissions import in_state
from tests.utils import api_token_for, client_for

pytestmark = pytest.mark.django_db

JAKARTA = "+07:00"


@pytest.fixture(autouse=True)
def _default_language():
    yield
    translation.deactivate()


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


# --- Unknown paths ---------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/nothing-here/"),
        ("get", "/api/v2/applications/"),
        ("post", "/api/v1/applications/1/nonsense/"),
        ("delete", "/api/"),
        ("get", "/api/v1/me/extra/"),
    ],
)
def test_an_unknown_api_path_is_the_contracts_json_404(applicant, settings, debug, method, path):
    settings.DEBUG = debug

    response = getattr(token_client(applicant), method)(path)

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"code": "not_found", "detail": "Tidak ditemukan."}


def test_an_unknown_api_path_answers_in_the_callers_language(applicant):
    applicant.language = "en"
    applicant.save()

    response = token_client(applicant).get("/api/v1/nothing-here/")

    assert response.json() == {"code": "not_found", "detail": "Not found."}


def test_an_unknown_api_path_with_a_bad_token_is_401_first(db):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    response = client.get("/api/v1/nothing-here/")

    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_an_api_path_missing_its_slash_still_redirects(applicant, settings):
    settings.DEBUG = True

    response = token_client(applicant).get("/api/v1/me?x=1")

    assert response.status_code == 301
    assert response["Location"] == "/api/v1/me/?x=1"


@pytest.mark.parametrize("path", ["/nothing-here/", "/admin-nothing/"])
def test_an_unknown_page_outside_the_api_is_html(settings, path):
    settings.DEBUG = False

    response = Client().get(path)

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_an_unknown_page_outside_the_api_is_djangos_debug_page_when_debugging(settings):
    settings.DEBUG = True

    response = Client().get("/nothing-here/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_a_crash_under_the_api_is_json_and_elsewhere_html(rf):
    from config.views import server_error

    api = server_error(rf.get("/api/v1/me/"))
    page = server_error(rf.get("/admin/"))

    assert api.status_code == page.status_code == 500
    assert json.loads(api.content)["code"] == "error"
    assert page["Content-Type"].startswith("text/html")


# --- Bodies no parser should crash on --------------------------------------------------------

JSON_ENDPOINTS = [
    ("post", "/api/v1/auth/token/"),
    ("post", "/api/v1/auth/register/"),
]


@pytest.mark.parametrize(("method", "path"), JSON_ENDPOINTS)
@pytest.mark.parametrize("depth", [1000, 100_000])
def test_deeply_nested_json_is_400_for_anyone(method, path, depth):
    body = "[" * depth + "]" * depth

    response = getattr(APIClient(), method)(path, body, content_type="application/json")

    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid"
    assert "terlalu dalam" in data["errors"]["non_field_errors"][0]


def test_nesting_deeper_than_any_payload_is_400_even_when_python_could_parse_it(applicant):
    body = json.dumps({"email": "a@b.id", "x": json.loads("[" * 40 + "]" * 40)})

    response = token_client(applicant).patch("/api/v1/me/", body, content_type="application/json")

    assert response.status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        '{"username": "\\ud800", "password": "x"}',
        '{"username": "ani", "password": "\\udfff"}',
        '{"\\ud800": 1}',
        '{"username": ["\\ud83d"], "password": "x"}',
    ],
)
def test_a_lone_surrogate_is_400_with_a_clear_message(body):
    response = APIClient().post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code == 400
    data = response.json()
    assert data["code"] == "invalid"
    assert "\\ud800" in data["errors"]["non_field_errors"][0]


def test_a_lone_surrogate_in_a_field_an_applicant_writes_is_400(applicant, company):
    response = token_client(applicant).patch(
        f"/api/v1/companies/{company.pk}/",
        '{"name": "CV \\ud800", "province": "\\udc00"}',
        content_type="application/json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_a_proper_surrogate_pair_is_an_ordinary_character(applicant):
    response = token_client(applicant).patch(
        "/api/v1/me/", '{"email": "\\ud83d\\ude00@x.id"}', content_type="application/json"
    )

    assert response.status_code == 400  # not an e-mail address, but read and judged
    assert "email" in response.json()["errors"]


# --- CSRF ------------------------------------------------------------------------------------


def test_a_session_write_without_the_csrf_token_says_so(applicant):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(applicant)

    response = client.patch("/api/v1/me/", {"language": "en"}, format="json")

    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "csrf_failed"
    assert "CSRF" in body["detail"]
    applicant.refresh_from_db()
    assert applicant.language == "id"


def test_a_session_write_with_the_csrf_token_passes(applicant):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(applicant)
    client.get("/accounts/profile/")  # a page with a form sets the CSRF cookie
    token = client.cookies["csrftoken"].value

    response = client.patch(
        "/api/v1/me/", {"language": "en"}, format="json", HTTP_X_CSRFTOKEN=token
    )

    assert response.status_code == 200


def test_a_page_post_without_the_csrf_token_is_a_page_saying_so():
    response = Client(enforce_csrf_checks=True).post("/admin/login/", {"username": "x"})

    assert response.status_code == 403
    assert response["Content-Type"].startswith("text/html")
    assert b"CSRF" in response.content


def test_the_csrf_failure_view_answers_json_under_the_api(rf):
    from config.views import csrf_failure

    response = csrf_failure(rf.post("/api/v1/anything/"), reason="CSRF cookie not set.")

    assert response.status_code == 403
    assert json.loads(response.content)["code"] == "csrf_failed"


# --- Timestamps ------------------------------------------------------------------------------


def _timestamps(value: object) -> list[str]:
    if isinstance(value, dict):
        return [t for item in value.values() for t in _timestamps(item)]
    if isinstance(value, list):
        return [t for item in value for t in _timestamps(item)]
    if isinstance(value, str) and len(value) >= 20 and value[10:11] == "T":
        return [value]
    return []


def test_every_timestamp_in_answers_is_in_jakarta_time(verifier, company, applicant):
    application = in_state(company, Application.Status.SUBMITTED)
    audit.record(
        actor=applicant,
        action="update",
        object_type="application",
        object_id=application.pk,
        application_id=application.pk,
        changes={"submitted_at": [None, audit._plain(timezone.now())]},
    )
    client = client_for(verifier)
    paths = [
        "/api/v1/applications/",
        f"/api/v1/applications/{application.pk}/",
        f"/api/v1/applications/{application.pk}/breakdown/",
        f"/api/v1/applications/{application.pk}/history/",
    ]

    found = []
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        found += [(path, t) for t in _timestamps(response.json())]

    assert {p for p, _ in found} == set(paths)
    assert all(t.endswith(JAKARTA) for _, t in found), found


def test_the_breakdowns_computed_at_is_the_applications(verifier, company):
    application = in_state(company, Application.Status.SUBMITTED)
    client = client_for(verifier)

    breakdown = client.get(f"/api/v1/applications/{application.pk}/breakdown/").json()
    listed = client.get(f"/api/v1/applications/{application.pk}/").json()

    assert breakdown["computed_at"] == listed["computed_at"]
    assert dt.datetime.fromisoformat(breakdown["computed_at"]).utcoffset() == dt.timedelta(hours=7)
