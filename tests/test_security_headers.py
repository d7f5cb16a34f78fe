"""The headers every page sends: Content-Security-Policy, Permissions-Policy, Referrer-Policy,
nosniff, framing, and no-store wherever personal data travels (docs/security.md)."""

import pytest
from django.urls import reverse

from subsidy.models import Application
from tests.factories import MachineItemFactory
from tests.utils import client_for, pdf_upload
from tests.web.office_cases import placed_case, submitted_case

S = Application.Status

POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "frame-src": ["'self'"],
    "frame-ancestors": ["'self'"],
    "object-src": ["'none'"],
    "base-uri": ["'self'"],
    "form-action": ["'self'"],
}


def policy_of(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_security_headers(response, *, framed: bool = False) -> None:
    assert policy_of(response) == POLICY, response.headers["Content-Security-Policy"]
    permissions = response.headers["Permissions-Policy"]
    assert "camera=(self)" in permissions
    assert "geolocation=()" in permissions
    assert "microphone=()" in permissions
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == ("SAMEORIGIN" if framed else "DENY")


def assert_not_stored(response) -> None:
    cache_control = response.headers.get("Cache-Control", "")
    assert "no-store" in cache_control, cache_control
    assert "private" in cache_control, cache_control


@pytest.fixture
def jobs(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def draft(programme, company, applicant):
    application = Application.objects.create(programme=programme, company=company)
    item = MachineItemFactory(application=application)
    return application, item


@pytest.fixture
def submitted(jobs, programme, company, applicant):
    return submitted_case(jobs, programme, company, applicant)


# The applicant's journey: from the home page to check answers, signed in.
APPLICANT_PAGES = {
    "home": lambda a, i: reverse("home"),
    "eligibility check": lambda a, i: reverse("eligibility_check"),
    "dashboard": lambda a, i: reverse("applicant:dashboard"),
    "new company": lambda a, i: reverse("applicant:company_new"),
    "company": lambda a, i: reverse("applicant:company", args=[a.company_id]),
    "company edit": lambda a, i: reverse("applicant:company_edit", args=[a.company_id]),
    "members invite": lambda a, i: reverse("applicant:members_invite", args=[a.company_id]),
    "notifications": lambda a, i: reverse("applicant:notifications"),
    "application": lambda a, i: reverse("applicant:application", args=[a.pk]),
    "machines": lambda a, i: reverse("applicant:machines", args=[a.pk]),
    "machine add": lambda a, i: reverse("applicant:machine_add", args=[a.pk]),
    "machine": lambda a, i: reverse("applicant:machine", args=[a.pk, i.pk]),
    "machine edit": lambda a, i: reverse("applicant:machine_edit", args=[a.pk, i.pk]),
    "machine delete": lambda a, i: reverse("applicant:machine_delete", args=[a.pk, i.pk]),
    "documents": lambda a, i: reverse("applicant:documents", args=[a.pk]),
    "document upload": lambda a, i: reverse("applicant:document_upload", args=[a.pk, "invoice"]),
    "check answers": lambda a, i: reverse("applicant:check_answers", args=[a.pk]),
    "withdraw": lambda a, i: reverse("applicant:application_withdraw", args=[a.pk]),
    "profile": lambda a, i: reverse("account_profile"),
    "password change": lambda a, i: reverse("account_change_password"),
    "e-mail addresses": lambda a, i: reverse("account_email"),
}


@pytest.mark.parametrize("name", APPLICANT_PAGES)
def test_every_page_of_the_applicant_journey_carries_the_policy_and_is_not_stored(
    client, applicant, draft, name
):
    application, item = draft
    client.force_login(applicant)

    response = client.get(APPLICANT_PAGES[name](application, item))

    assert response.status_code == 200, name
    assert_security_headers(response)
    assert_not_stored(response)


@pytest.mark.parametrize(
    "path", [reverse("account_login"), reverse("account_signup"), reverse("account_reset_password")]
)
def test_the_account_pages_carry_the_policy_and_are_not_stored_for_visitors(client, path):
    response = client.get(path)

    assert response.status_code == 200
    assert_security_headers(response)
    assert_not_stored(response)


def test_public_pages_may_be_cached_for_a_visitor_but_carry_the_policy(client, programme):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert_security_headers(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")


OFFICER_PAGES = {
    "workbench": ("verifier", lambda c: reverse("office:workbench")),
    "case": ("verifier", lambda c: reverse("office:case", args=[c.pk])),
    "action": ("verifier", lambda c: reverse("office:case_action", args=[c.pk, "start_review"])),
    "case (approver)": ("approver", lambda c: reverse("office:case", args=[c.pk])),
    "workbench (approver)": ("approver", lambda c: reverse("office:workbench")),
    "finance": ("finance", lambda c: reverse("office:finance")),
    "case (auditor)": ("auditor", lambda c: reverse("office:case", args=[c.pk])),
    "applicant's page (auditor)": (
        "auditor",
        lambda c: reverse("applicant:application", args=[c.pk]),
    ),
}


@pytest.mark.parametrize("name", OFFICER_PAGES)
def test_every_page_of_the_officer_journey_carries_the_policy_and_is_not_stored(
    client, request, submitted, name
):
    role, url = OFFICER_PAGES[name]
    client.force_login(request.getfixturevalue(role))

    response = client.get(url(submitted))

    assert response.status_code == 200, name
    assert_security_headers(response)
    assert_not_stored(response)


def test_the_document_preview_may_be_framed_by_this_origin_only(client, verifier, submitted):
    document = submitted.documents.order_by("id").first()
    client.force_login(verifier)

    response = client.get(reverse("office:document", args=[document.pk]))

    assert response.status_code == 200
    assert_security_headers(response, framed=True)
    assert_not_stored(response)


def test_the_finance_batch_is_not_stored(client, finance, programme):
    case = placed_case(programme, status=S.APPROVED, days=1)
    case.company_snapshot = case.company.snapshot()
    case.approved_amount = 20_000_000
    case.save(update_fields=["company_snapshot", "approved_amount"])
    client.force_login(finance)

    response = client.get(reverse("office:finance_batch"), {"case": case.pk})

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert_not_stored(response)


def test_api_answers_to_a_token_are_not_stored(applicant, draft):
    application, _ = draft

    response = client_for(applicant).get(f"/api/v1/applications/{application.pk}/")

    assert response.status_code == 200
    assert_not_stored(response)
    assert policy_of(response) == POLICY


def test_api_answers_to_a_visitor_are_not_stored_either(db):
    response = client_for(None).get("/api/v1/regions/")

    assert response.status_code in (200, 401)
    assert_not_stored(response)


def test_a_document_download_is_not_stored(applicant, draft):
    application, _ = draft
    client = client_for(applicant)
    uploaded = client.post(
        f"/api/v1/applications/{application.pk}/documents/",
        {"kind": "invoice", "file": pdf_upload()},
        format="multipart",
    )
    assert uploaded.status_code == 201, uploaded.content

    response = client.get(f"/api/v1/documents/{uploaded.json()['id']}/download/")

    assert response.status_code == 200
    assert_not_stored(response)


def test_the_api_docs_keep_scripts_to_files_and_allow_only_inline_styles(client, db):
    page = client.get("/api/docs/")
    policy = policy_of(page)
    script = client.get("/api/docs/", {"script": ""})

    assert page.status_code == 200
    assert b"<script>" not in page.content  # the start-up script is a file of its own
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert "unsafe-eval" not in page.headers["Content-Security-Policy"]
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert b"SwaggerUIBundle" in script.content


def test_production_answers_json_only_and_preloads_hsts_only_when_asked(tmp_path):
    from tests.test_settings import manage, production_environment

    code = (
        "from django.conf import settings as s; "
        "print(s.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES'], s.SECURE_HSTS_PRELOAD)"
    )
    variables = production_environment(tmp_path)
    default = manage("shell", "-c", code, settings="config.settings.production", **variables)
    opted_in = manage(
        "shell",
        "-c",
        code,
        settings="config.settings.production",
        DJANGO_SECURE_HSTS_PRELOAD="1",
        **variables,
    )

    assert default.returncode == 0, default.stderr
    # Django's shell first says how many models it imported: the answer is the last line.
    assert default.stdout.splitlines()[-1] == "['config.json_io.JSONRenderer'] False"
    assert opted_in.stdout.splitlines()[-1] == "['config.json_io.JSONRenderer'] True"
