"""Who sees a bank account number whole: finance, auditors and the company's own applicants;
verifiers and approvers see its last four digits; another company's applicant sees nothing
(404). Every list, detail, page, letter and the finance batch follow the one rule in
subsidy.access."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from subsidy import access, formats
from subsidy.models import Application
from tests.utils import client_for
from tests.web.office_cases import submitted_case

S = Application.Status
ACCOUNT = "0021-7788-9933-41"
WHOLE = "0021-7788-9933-41"
MASKED = "\u2022\u2022\u2022\u2022\u2022\u20223341"
# What each role sees: "whole", "masked", or "absent" (404 or not in the list).
ROLES = {
    "applicant": "whole",
    "other_applicant": "absent",
    "verifier": "masked",
    "approver": "masked",
    "finance": "whole",
    "auditor": "whole",
    "superuser": "whole",
}


@pytest.fixture
def case(applicant, company, programme, django_capture_on_commit_callbacks):
    """An approved case whose submission snapshot carries the company's account."""
    company.bank_account_number = ACCOUNT
    company.save(update_fields=["bank_account_number"])
    application = submitted_case(
        lambda: django_capture_on_commit_callbacks(execute=True), programme, company, applicant
    )
    Application.objects.filter(pk=application.pk).update(
        status=S.APPROVED, approved_amount=40_000_000
    )
    return Application.objects.get(pk=application.pk)


def shows(text: str) -> str:
    """How a body shows the account: whole, masked or not at all."""
    if WHOLE in text:
        assert MASKED not in text
        return "whole"
    if MASKED in text:
        return "masked"
    return "absent"


def test_the_mask_keeps_only_the_last_four_digits():
    assert formats.masked_account_number("0021-7788-9933-41") == MASKED
    assert formats.masked_account_number("12345") == "\u2022" * 6 + "2345"
    assert formats.masked_account_number("") == ""


def test_the_history_pairs_and_snapshots_are_masked_inside(verifier):
    changes = {
        "company_snapshot": [None, {"name": "CV A", "bank_account_number": "00219876"}],
        "bank_account_number": ["11112222", "33334444"],
        "price": [1, 2],
    }

    masked = access.redact_bank_accounts(changes, verifier)

    assert masked == {
        "company_snapshot": [None, {"name": "CV A", "bank_account_number": "••••••9876"}],
        "bank_account_number": ["••••••2222", "••••••4444"],
        "price": [1, 2],
    }


def _api(user, path: str):
    return client_for(user).get(path)


def _company_in_list(user, case) -> str:
    body = _api(user, "/api/v1/companies/").json()["results"]
    rows = [row for row in body if row["id"] == case.company_id]
    return shows(rows[0]["bank_account_number"]) if rows else "absent"


def _company_detail(user, case) -> str:
    response = _api(user, f"/api/v1/companies/{case.company_id}/")
    if response.status_code == 404:
        return "absent"
    assert response.status_code == 200
    return shows(response.json()["bank_account_number"])


def _application_in_list(user, case) -> str:
    body = _api(user, "/api/v1/applications/").json()["results"]
    rows = [row for row in body if row["id"] == case.pk]
    return shows(rows[0]["payout_account_number"]) if rows else "absent"


def _application_detail(user, case) -> str:
    response = _api(user, f"/api/v1/applications/{case.pk}/")
    if response.status_code == 404:
        return "absent"
    assert response.status_code == 200
    return shows(response.json()["payout_account_number"])


def _history(user, case) -> str:
    response = _api(user, f"/api/v1/applications/{case.pk}/history/")
    if response.status_code == 404:
        return "absent"
    assert response.status_code == 200
    submit = [e for e in response.json() if e["action"] == "submit"]
    assert submit, "the submission records the snapshot"
    return shows(str(submit[0]["changes"]))


def _letter_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(page.extract_text() for page in reader.pages)


def _letter_api(user, case) -> str:
    response = _api(user, f"/api/v1/applications/{case.pk}/letter/")
    if response.status_code == 404:
        return "absent"
    assert response.status_code == 200
    text = _letter_text(response.content)
    if "******3341" in text:
        assert WHOLE not in text
        return "masked"
    return shows(text)


def _page(client, user, url: str) -> str:
    client.force_login(user)
    response = client.get(url)
    if response.status_code in (403, 404):
        return "absent"
    assert response.status_code == 200, url
    return shows(response.content.decode())


SURFACES = {
    "API companies list": _company_in_list,
    "API company": _company_detail,
    "API applications list": _application_in_list,
    "API application": _application_detail,
    "API history": _history,
    "API approval letter": _letter_api,
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("surface", SURFACES)
def test_api_shows_the_account_whole_or_masked_by_role(request, case, role, surface):
    user = request.getfixturevalue(role)

    assert SURFACES[surface](user, case) == ROLES[role]


PAGES = {
    "company page": lambda c: reverse("applicant:company", args=[c.company_id]),
    "check answers": lambda c: reverse("applicant:check_answers", args=[c.pk]),
    "case page": lambda c: reverse("office:case", args=[c.pk]),
}
# The case page is the officers'; an applicant has the company page and check answers.
STAFF_ONLY = {"case page"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_pages_show_the_account_whole_or_masked_by_role(client, request, case, role, page):
    user = request.getfixturevalue(role)
    expected = ROLES[role]
    if page in STAFF_ONLY and role.endswith("applicant"):
        expected = "absent"

    assert _page(client, user, PAGES[page](case)) == expected


def test_the_approval_letter_page_shows_the_account_whole_to_the_applicant(
    client, applicant, verifier, case
):
    url = reverse("applicant:application_letter", args=[case.pk])
    client.force_login(applicant)
    own = _letter_text(client.get(url).content)
    client.force_login(verifier)
    staff = _letter_text(client.get(url).content)

    assert WHOLE in own
    assert WHOLE not in staff
    assert "******3341" in staff


@pytest.mark.parametrize("role", ROLES)
def test_finance_pages_and_the_batch_are_finance_only_and_whole(client, request, case, role):
    user = request.getfixturevalue(role)
    client.force_login(user)
    page = client.get(reverse("office:finance"))
    batch = client.get(reverse("office:finance_batch"), {"case": case.pk})

    if role == "finance":
        assert page.status_code == 200
        assert shows(page.content.decode()) == "whole"
        assert batch.status_code == 200
        assert shows(batch.content.decode("utf-8-sig")) == "whole"
    else:
        assert page.status_code in (403, 404, 302)
        assert batch.status_code in (403, 404, 302)
        assert shows(page.content.decode()) == "absent"
        assert shows(batch.content.decode()) == "absent"


def test_staff_who_may_not_change_a_company_do_not_get_its_form(client, verifier, case):
    client.force_login(verifier)

    response = client.get(reverse("applicant:company_edit", args=[case.company_id]))

    assert response.status_code == 403
    assert shows(response.content.decode()) == "absent"
