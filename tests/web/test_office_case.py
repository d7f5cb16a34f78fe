"""The officers' case page: what it shows, the actions, the refusals, the query count."""

import pytest
from django.urls import reverse

from accounts.roles import APPROVER, VERIFIER
from subsidy.models import Application, AuditEntry
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions
from tests.factories import UserFactory
from tests.web.office_cases import case_with_machines, placed_case, submitted_case

S = Application.Status
CHECKLIST = dict.fromkeys(transitions.CHECKLIST_ITEMS, True)


@pytest.fixture
def jobs(django_capture_on_commit_callbacks):
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def submitted(jobs, programme, company, applicant):
    return submitted_case(jobs, programme, company, applicant)


def case_url(application: Application) -> str:
    return reverse("office:case", args=[application.pk])


def action_url(application: Application, action: str) -> str:
    return reverse("office:case_action", args=[application.pk, action])


def page(client, user, application: Application) -> str:
    client.force_login(user)
    response = client.get(case_url(application))
    assert response.status_code == 200
    return response.content.decode()


def test_the_case_page_shows_company_machines_rate_and_refund(client, verifier, submitted):
    body = page(client, verifier, submitted)
    assert submitted.company_snapshot["name"] in body
    assert "Mesin CNC bubut" in body
    assert "40%" in body
    assert "Rp 40.000.000" in body  # 40% of Rp 100.000.000
    assert "Mulai verifikasi" in body or "Start review" in body


def test_applicant_and_anonymous_cannot_open_a_case(client, applicant, submitted):
    response = client.get(case_url(submitted))
    assert response.status_code == 302
    client.force_login(applicant)
    assert client.get(case_url(submitted)).status_code == 404
    assert client.get(action_url(submitted, "start_review")).status_code == 404


def test_verifier_starts_review_from_the_case_page(client, verifier, submitted):
    client.force_login(verifier)
    form = client.get(action_url(submitted, "start_review"))
    assert form.status_code == 200
    response = client.post(action_url(submitted, "start_review"), {"confirm": "on"}, follow=True)
    assert response.status_code == 200
    submitted.refresh_from_db()
    assert submitted.status == S.UNDER_REVIEW
    assert submitted.case_officer == verifier
    assert "Verifikasi administrasi" in response.content.decode()


def test_an_action_needs_the_confirmation(client, verifier, submitted):
    client.force_login(verifier)
    response = client.post(action_url(submitted, "start_review"), {})
    assert response.status_code == 400
    assert "Konfirmasi" in response.content.decode() or "Confirm" in response.content.decode()
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED


def test_request_revision_without_a_comment_shows_the_services_message(client, verifier, submitted):
    workflow.application_start_review(application=submitted, by=verifier)
    client.force_login(verifier)
    response = client.post(action_url(submitted, "request_revision"), {"confirm": "on"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "Komentar yang memuat alasan wajib diisi." in body or "A comment giving" in body
    submitted.refresh_from_db()
    assert submitted.status == S.UNDER_REVIEW


def test_auditor_sees_no_action_and_cannot_post_one(client, auditor, submitted):
    body = page(client, auditor, submitted)
    assert reverse("office:case_action", args=[submitted.pk, "start_review"]) not in body
    entries = AuditEntry.objects.count()
    client.force_login(auditor)
    response = client.post(action_url(submitted, "start_review"), {"confirm": "on"})
    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == S.SUBMITTED
    assert AuditEntry.objects.count() == entries


def test_approve_refused_for_four_eyes_says_why(client, jobs, submitted):
    officer = UserFactory(username="hana", roles=[VERIFIER, APPROVER])
    with jobs():
        workflow.application_start_review(application=submitted, by=officer)
        workflow.application_pass_review(application=submitted, by=officer)
        workflow.application_recommend(application=submitted, by=officer, checklist=CHECKLIST)
    body = page(client, officer, submitted)
    assert reverse("office:case_action", args=[submitted.pk, "approve"]) not in body
    assert "Anda telah memverifikasi atau merekomendasikan permohonan ini" in body
    # Posted anyway: the same refusal, and nothing changes.
    client.force_login(officer)
    response = client.post(action_url(submitted, "approve"), {"confirm": "on"})
    assert response.status_code == 403
    submitted.refresh_from_db()
    assert submitted.status == S.RECOMMENDED


def test_approve_refused_for_budget_says_why(client, jobs, approver, verifier, submitted):
    with jobs():
        workflow.application_start_review(application=submitted, by=verifier)
        workflow.application_pass_review(application=submitted, by=verifier)
        workflow.application_recommend(application=submitted, by=verifier, checklist=CHECKLIST)
    type(submitted.programme).objects.filter(pk=submitted.programme_id).update(budget=1_000)
    body = page(client, approver, submitted)
    assert "Rp" in body or "1000" in body
    assert "40000000" in body  # the service's sentence names what the case needs


def test_the_approver_approves_from_the_case_page(client, jobs, approver, verifier, submitted):
    with jobs():
        workflow.application_start_review(application=submitted, by=verifier)
        workflow.application_pass_review(application=submitted, by=verifier)
        workflow.application_recommend(application=submitted, by=verifier, checklist=CHECKLIST)
    client.force_login(approver)
    response = client.post(action_url(submitted, "approve"), {"confirm": "on"})
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.status == S.APPROVED
    assert submitted.approved_amount == 40_000_000


def test_the_document_preview_is_inline_and_for_staff_only(
    client, verifier, applicant, other_applicant, programme, company
):
    application = case_with_machines(programme, company, applicant, machines=1)
    document = application.documents.order_by("id").first()
    url = reverse("office:document", args=[document.pk])
    body = page(client, verifier, application)
    assert f'src="{url}"' in body
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    client.force_login(other_applicant)
    assert client.get(url).status_code == 404


def test_a_case_with_a_signal_links_to_the_other_case(client, verifier, programme, applicant):
    from tests.factories import CompanyFactory

    first = case_with_machines(
        programme, CompanyFactory(members=[applicant]), applicant, machines=1
    )
    second = case_with_machines(
        programme, CompanyFactory(members=[applicant]), applicant, machines=1
    )
    body = page(client, verifier, second)
    assert f'href="{case_url(first)}"' in body


@pytest.mark.parametrize("machines", [2, 10])
def test_the_case_page_reads_a_fixed_number_of_queries(
    client, verifier, programme, company, applicant, django_assert_num_queries, machines
):
    application = case_with_machines(programme, company, applicant, machines=machines)
    assert application.documents.count() == 2 * machines
    client.force_login(verifier)
    with django_assert_num_queries(15):  # with unread notices, site visits, second factor
        assert client.get(case_url(application)).status_code == 200


def test_an_unknown_action_is_404(client, verifier, programme):
    case = placed_case(programme)
    client.force_login(verifier)
    assert client.get(action_url(case, "explode")).status_code == 404
