"""Notices: who is told what, in which language, once; the in-app list; the scheduled jobs."""

import datetime as dt
import email
import threading

import pytest
from celery.signals import task_retry
from django.conf import settings as django_settings
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from accounts.roles import APPLICANT, APPROVER, VERIFIER
from config.celery_app import app as celery_app
from subsidy import tasks
from subsidy.models import Application, Notice
from subsidy.notices import compose as notices
from subsidy.notices import delivery
from subsidy.services import applications as application_services
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions
from tests.factories import ApplicationFactory, CompanyFactory, ProgrammeFactory, UserFactory
from tests.utils import client_for, complete_application

CHECKLIST = dict.fromkeys(transitions.CHECKLIST_ITEMS, True)


class FailingBackend(BaseEmailBackend):
    """An SMTP server that refuses every message (settings.EMAIL_BACKEND points here)."""

    calls = 0

    def send_messages(self, messages: list) -> int:
        FailingBackend.calls += 1
        raise ConnectionRefusedError("mail server refused the connection")


class FlakyBackend(BaseEmailBackend):
    """Refuses the first message, then delivers to the locmem outbox."""

    calls = 0

    def send_messages(self, messages: list) -> int:
        FlakyBackend.calls += 1
        if FlakyBackend.calls == 1:
            raise TimeoutError("mail server timed out")
        mail.outbox.extend(messages)
        return len(messages)


@pytest.fixture
def send(django_capture_on_commit_callbacks):
    """Run a block and then its on-commit jobs (the Celery tasks run eagerly in tests)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def colleague(company):
    """A second applicant of the same company, who reads English."""
    user = UserFactory(username="wati", language="en", roles=[APPLICANT])
    company.members.add(user)
    return user


@pytest.fixture
def submitted(applicant, company, colleague, programme, send) -> Application:
    # Members who must not be told: an inactive applicant and a member without the role.
    company.members.add(UserFactory(username="lama", is_active=False, roles=[APPLICANT]))
    company.members.add(UserFactory(username="tamu", roles=[]))
    with send():
        application = application_services.application_create(
            by=applicant, programme=programme, company=company
        )
        complete_application(application, applicant, items=2)
    with send():
        application = workflow.application_submit(application=application, by=applicant)
    return application


def _recommended(application: Application, verifier) -> Application:
    application = workflow.application_start_review(application=application, by=verifier)
    application = workflow.application_pass_review(application=application, by=verifier)
    return workflow.application_recommend(application=application, by=verifier, checklist=CHECKLIST)


@pytest.fixture
def approved(submitted, verifier, approver, send) -> Application:
    application = _recommended(submitted, verifier)
    mail.outbox.clear()
    with send():
        return workflow.application_approve(application=application, by=approver)


def _by_recipient(messages: list) -> dict[str, object]:
    assert len({m.to[0] for m in messages}) == len(messages), "one e-mail per recipient"
    return {m.to[0]: m for m in messages}


def _html(message) -> str:
    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return html


def _in(language: str, text: str, **values: object) -> str:
    with translation.override(language):
        return gettext(text) % values


def _status(language: str, status: str) -> str:
    with translation.override(language):
        return str(Application.Status(status).label)


# --- Who is told, once, in their language ---------------------------------------------------


@pytest.mark.django_db
def test_submission_tells_every_active_applicant_of_the_company_once(
    submitted, applicant, colleague
):
    messages = _by_recipient(mail.outbox)
    assert set(messages) == {applicant.email, colleague.email}
    notices_made = Notice.objects.filter(application=submitted)
    assert sorted(n.recipient.username for n in notices_made) == ["ani", "wati"]
    assert {n.kind for n in notices_made} == {"submitted"}
    assert {n.status for n in notices_made} == {"sent"}
    assert all(n.attempts == 1 and n.sent_at is not None for n in notices_made)


@pytest.mark.django_db
def test_submission_notice_holds_the_reference_state_and_a_link_to_the_case(
    submitted, applicant, colleague
):
    reference = submitted.reference
    # The applicant's own case page, never the JSON API.
    url = f"{django_settings.SITE_URL}/applications/{submitted.pk}/"
    for user in (applicant, colleague):
        in_app = client_for(user).get("/api/v1/notifications/").json()["results"][0]["body"]
        assert url in in_app
        assert "/api/" not in in_app
        message = _by_recipient(mail.outbox)[user.email]
        assert "/api/" not in message.body
        assert reference in message.subject
        assert reference in message.body
        assert str(submitted.programme.year) in message.body
        assert _status(user.language, "submitted") in message.body
        assert url in message.body
        html = _html(message)
        assert reference in html
        assert f'href="{url}"' in html


@pytest.mark.django_db
def test_notice_is_written_in_each_recipients_language(submitted, applicant, colleague):
    messages = _by_recipient(mail.outbox)
    title = "Application %(reference)s received"
    for user in (applicant, colleague):
        message = messages[user.email]
        assert message.subject == _in(user.language, title, reference=submitted.reference)
        assert message.extra_headers["Content-Language"] == user.language
        assert f'<html lang="{user.language}">' in _html(message)
        notice = Notice.objects.get(application=submitted, recipient=user)
        assert notice.language == user.language
        assert notice.title == message.subject
        assert notice.body == message.body
    english = messages[colleague.email]
    assert english.subject == f"Application {submitted.reference} received"
    # Indonesian first: the applicant who reads Indonesian does not get the English text.
    assert messages[applicant.email].subject != english.subject


@pytest.mark.django_db
def test_revision_request_tells_the_officers_comment_verbatim(submitted, verifier, send):
    workflow.application_start_review(application=submitted, by=verifier)
    mail.outbox.clear()
    comment = 'Faktur pajak & bukti bayar <kurang> untuk mesin "XK-77"'
    with send():
        workflow.application_request_revision(application=submitted, by=verifier, comment=comment)
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert comment in message.body
        assert submitted.reference in message.subject
        assert "&amp; bukti bayar &lt;kurang&gt;" in _html(message)
    assert set(Notice.objects.filter(application=submitted).values_list("kind", flat=True)) == {
        "submitted",
        "revision_requested",
    }


@pytest.mark.django_db
def test_approval_tells_the_amount_and_attaches_the_letter(approved, applicant):
    assert approved.approved_amount == 80_000_000
    assert len(mail.outbox) == 2
    message = _by_recipient(mail.outbox)[applicant.email]
    assert approved.reference in message.subject
    assert "Rp 80.000.000" in message.body
    assert "Rp 80.000.000" in _html(message)
    assert _status("id", "approved") in message.body
    [(filename, content, mimetype)] = message.attachments
    assert mimetype == "application/pdf"
    assert filename == f"surat-persetujuan-{approved.reference}.pdf"
    assert content.startswith(b"%PDF")


@pytest.mark.django_db
def test_rejection_tells_the_reason(submitted, verifier, send):
    workflow.application_start_review(application=submitted, by=verifier)
    mail.outbox.clear()
    reason = "Mesin bukan baru: nomor seri terdaftar pada program 2024."
    with send():
        workflow.application_reject(application=submitted, by=verifier, comment=reason)
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert reason in message.body
        assert submitted.reference in message.subject
        assert not message.attachments
    assert Notice.objects.filter(application=submitted, kind="rejected").count() == 2


@pytest.mark.django_db
def test_disbursement_tells_the_transfer_reference(approved, finance, send):
    mail.outbox.clear()
    with send():
        workflow.application_disburse(
            application=approved,
            by=finance,
            transfer_reference="BRI-TRF-2026-0042",
            transferred_on=timezone.localdate().isoformat(),
        )
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert "BRI-TRF-2026-0042" in message.body
        assert "Rp 80.000.000" in message.body
        assert approved.reference in message.subject
    assert Notice.objects.filter(application=approved, kind="disbursed").count() == 2


@pytest.mark.django_db
def test_review_steps_and_withdrawal_send_no_notice(submitted, applicant, verifier, send):
    mail.outbox.clear()
    with send():
        application = _recommended(submitted, verifier)
        workflow.application_withdraw(application=application, by=applicant)
    assert mail.outbox == []
    assert list(Notice.objects.filter(application=submitted).values_list("kind", flat=True)) == [
        "submitted",
        "submitted",
    ]


@pytest.mark.django_db
def test_notice_without_an_email_address_is_in_app_only(programme, send):
    user = UserFactory(username="tanpa", email="", roles=[APPLICANT])
    company = CompanyFactory(members=[user])
    with send():
        application = application_services.application_create(
            by=user, programme=programme, company=company
        )
        complete_application(application, user)
        workflow.application_submit(application=application, by=user)
    assert mail.outbox == []
    notice = Notice.objects.get(recipient=user)
    assert notice.status == "sent"
    assert "no e-mail address" in notice.last_error
    assert client_for(user).get("/api/v1/notifications/").json()["count"] == 1


# --- In the app and in the history -----------------------------------------------------------


@pytest.mark.django_db
def test_notifications_list_the_callers_notices_newest_first(submitted, applicant, verifier, send):
    workflow.application_start_review(application=submitted, by=verifier)
    with send():
        workflow.application_request_revision(
            application=submitted, by=verifier, comment="Lengkapi foto instalasi."
        )
    response = client_for(applicant).get("/api/v1/notifications/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    first, second = body["results"]
    assert set(first) == {"id", "kind", "application", "title", "body", "created_at", "read_at"}
    assert [first["kind"], second["kind"]] == ["revision_requested", "submitted"]
    assert first["application"] == submitted.pk
    assert "Lengkapi foto instalasi." in first["body"]
    assert submitted.reference in first["title"]
    assert first["read_at"] is None
    assert first["created_at"] >= second["created_at"]


@pytest.mark.django_db
def test_marking_a_notification_read_sets_read_at_once(submitted, applicant):
    notice = Notice.objects.get(application=submitted, recipient=applicant)
    client = client_for(applicant)
    response = client.post(f"/api/v1/notifications/{notice.pk}/read/")
    assert response.status_code == 200
    read_at = response.json()["read_at"]
    assert read_at is not None
    notice.refresh_from_db()
    assert notice.read_at is not None
    # Reading again keeps the first reading time.
    assert client.post(f"/api/v1/notifications/{notice.pk}/read/").json()["read_at"] == read_at


@pytest.mark.django_db
def test_another_users_notification_is_not_found(submitted, applicant, other_applicant):
    notice = Notice.objects.get(application=submitted, recipient=applicant)
    client = client_for(other_applicant)
    assert client.post(f"/api/v1/notifications/{notice.pk}/read/").status_code == 404
    assert client.get("/api/v1/notifications/").json()["count"] == 0
    notice.refresh_from_db()
    assert notice.read_at is None


@pytest.mark.django_db
def test_history_shows_each_notice_and_its_delivery(submitted, applicant, auditor):
    response = client_for(auditor).get(f"/api/v1/applications/{submitted.pk}/history/")
    assert response.status_code == 200
    entries = [e for e in response.json() if e["action"] == "notice"]
    assert len(entries) == 2
    assert {e["changes"]["recipient"] for e in entries} == {"ani", "wati"}
    for entry in entries:
        assert entry["changes"]["kind"] == "submitted"
        assert entry["changes"]["delivery"] == "sent"
        assert entry["changes"]["attempts"] == 1
        assert entry["changes"]["sent_at"]
        assert submitted.reference in entry["comment"]
    actions = [e["action"] for e in response.json()]
    assert actions.index("submit") < actions.index("notice")


# --- Exactly once ----------------------------------------------------------------------------
# transaction=True: as in a worker, the send runs outside any transaction, which on
# PostgreSQL is what takes the one-statement claim and mark.


def _pending_notice(user=None, key: str = "test:1") -> Notice:
    """A notice as a transition leaves it: created, not yet sent (its job not run)."""
    user = user or UserFactory(username="nina", roles=[APPLICANT])
    application = ApplicationFactory(status="submitted")
    application.reference = f"RMP-2100-{application.pk:06d}"
    application.save(update_fields=["reference"])
    context = {
        "reference": application.reference,
        "application": application.pk,
        "company": application.company.name,
        "status": "submitted",
        "programme_year": application.programme.year,
        "url": notices.case_url(application.pk, staff=False),
    }
    title, text = notices.render("submitted", user.language, context)
    return Notice.objects.create(
        key=key,
        recipient=user,
        application=application,
        kind="submitted",
        language=user.language,
        title=title,
        body=text,
        context=context,
    )


@pytest.mark.django_db(transaction=True)
def test_sending_a_notice_twice_sends_one_email():
    notice = _pending_notice()
    assert tasks.send_notice.delay(notice.pk).get() == "sent"
    assert tasks.send_notice.delay(notice.pk).get() == "skipped"
    assert len(mail.outbox) == 1
    notice.refresh_from_db()
    assert notice.status == "sent"
    assert notice.attempts == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_on_one_notice_send_one_email():
    notice = _pending_notice()
    barrier = threading.Barrier(2)
    results = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            results.append(tasks.send_notice.apply(args=[notice.pk]).get())
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == ["sent", "skipped"]
    assert len(mail.outbox) == 1
    notice.refresh_from_db()
    assert notice.status == "sent"
    assert notice.attempts == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_sending_leaves_the_connections_commits_durable():
    notice = _pending_notice()
    assert tasks.send_notice.delay(notice.pk).get() == "sent"
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone() == ("on",)
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == ("sent", 1)
    assert mail.outbox[0].to == [notice.recipient.email]


def _age_claim(notice: Notice, seconds: float) -> None:
    Notice.objects.filter(pk=notice.pk).update(
        claimed_at=timezone.now() - dt.timedelta(seconds=seconds)
    )


@pytest.mark.django_db(transaction=True)
def test_a_notice_leased_by_a_dead_worker_waits_for_the_lease_then_is_sent(settings):
    settings.NOTICE_LEASE_SECONDS = 120
    notice = _pending_notice()
    assert delivery.claim(notice.pk) is not None  # a worker claims it, then dies
    _age_claim(notice, 100)

    assert tasks.requeue_stuck_notices.delay().get() == 0
    assert tasks.send_notice.delay(notice.pk).get() == "skipped"
    assert mail.outbox == []

    _age_claim(notice, 121)
    assert tasks.requeue_stuck_notices.delay().get() == 1
    assert len(mail.outbox) == 1
    notice.refresh_from_db()
    assert notice.status == "sent"
    assert notice.attempts == 2
    assert tasks.requeue_stuck_notices.delay().get() == 0


@pytest.mark.django_db(transaction=True)
def test_a_notice_resent_after_a_crash_carries_the_same_message_id(settings):
    settings.NOTICE_LEASE_SECONDS = 120
    notice = _pending_notice()
    # A worker claims it and the mail server accepts the message; the worker dies before
    # marking it sent.
    claimed = delivery.claim(notice.pk)
    delivery.build_email(claimed).send()
    _age_claim(notice, 121)
    tasks.requeue_stuck_notices.delay()

    first, second = mail.outbox
    assert first.extra_headers["Message-ID"] == second.extra_headers["Message-ID"]
    parsed = email.message_from_bytes(second.message().as_bytes())
    assert parsed["Message-ID"] == delivery.message_id(notice)
    assert parsed["Message-ID"].startswith("<notice-")
    notice.refresh_from_db()
    assert notice.status == "sent"


@pytest.mark.django_db
def test_message_ids_are_distinct_per_notice():
    user = UserFactory(username="nina", roles=[APPLICANT])
    one, two = _pending_notice(user, key="t1:u1"), _pending_notice(user, key="t2:u1")
    assert delivery.message_id(one) != delivery.message_id(two)
    assert delivery.message_id(one) == delivery.message_id(Notice.objects.get(pk=one.pk))


@pytest.mark.django_db(transaction=True)
def test_a_notice_whose_enqueue_was_lost_is_queued_again(settings):
    settings.NOTICE_LEASE_SECONDS = 120
    notice = _pending_notice()
    Notice.objects.filter(pk=notice.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=599)
    )
    assert tasks.requeue_stuck_notices.delay().get() == 0  # a slow queue, not a lost job
    Notice.objects.filter(pk=notice.pk).update(
        created_at=timezone.now() - dt.timedelta(seconds=601)
    )
    assert tasks.requeue_stuck_notices.delay().get() == 1
    assert len(mail.outbox) == 1


@pytest.fixture
def retries():
    """The countdown of each retry the send task asks for; eager retries run in turn.

    With task_eager_propagates an eager task's Retry is raised to the caller instead of
    running the next try, so the retry path is exercised with it off, as on a worker.
    """
    seen: list[int] = []
    propagates = celery_app.conf.task_eager_propagates
    celery_app.conf.task_eager_propagates = False

    def on_retry(sender=None, reason=None, **kwargs: object) -> None:
        seen.append(reason.when)

    task_retry.connect(on_retry, weak=False)
    yield seen
    task_retry.disconnect(on_retry)
    celery_app.conf.task_eager_propagates = propagates


@pytest.mark.django_db(transaction=True)
def test_a_refused_email_is_retried_with_backoff_then_recorded_failed(settings, retries):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    FailingBackend.calls = 0
    notice = _pending_notice()

    assert tasks.send_notice.delay(notice.pk).get() == "failed"

    assert FailingBackend.calls == delivery.MAX_ATTEMPTS == 5
    assert retries == [30, 60, 120, 240]
    notice.refresh_from_db()
    assert notice.status == "failed"
    assert notice.attempts == 5
    assert notice.last_error == "ConnectionRefusedError: mail server refused the connection"
    assert notice.sent_at is None
    # A failed notice is never picked up again by the requeue job.
    assert tasks.requeue_stuck_notices.delay().get() == 0


@pytest.mark.django_db
def test_a_failed_notice_is_visible_to_staff_in_the_history(
    submitted, applicant, verifier, settings, send, retries
):
    settings.EMAIL_BACKEND = f"{__name__}.FailingBackend"
    with send():
        workflow.application_start_review(application=submitted, by=verifier)
        workflow.application_reject(application=submitted, by=verifier, comment="Bukan IKM.")
    response = client_for(verifier).get(f"/api/v1/applications/{submitted.pk}/history/")
    rejected = [
        e for e in response.json() if e["action"] == "notice" and e["changes"]["kind"] == "rejected"
    ]
    assert len(rejected) == 2
    for entry in rejected:
        assert entry["changes"]["delivery"] == "failed"
        assert entry["changes"]["attempts"] == 5
        assert "ConnectionRefusedError" in entry["changes"]["error"]
        assert entry["changes"]["sent_at"] is None


@pytest.mark.django_db(transaction=True)
def test_a_transient_smtp_failure_is_sent_on_the_retry(settings, retries):
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.calls = 0
    notice = _pending_notice()
    assert tasks.send_notice.delay(notice.pk).get() == "sent"
    assert retries == [30]
    assert len(mail.outbox) == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == ("sent", 2)
    assert notice.last_error == ""


@pytest.mark.django_db
def test_a_waiting_retry_is_not_queued_again_before_its_backoff():
    notice = _pending_notice()
    now = timezone.now()
    # One failed try, released for a retry in 30 s: not stuck while the retry is due.
    Notice.objects.filter(pk=notice.pk).update(
        attempts=1, claimed_at=now - dt.timedelta(seconds=100)
    )
    assert delivery.stuck_notice_ids(now) == []
    later = now + dt.timedelta(seconds=delivery.retry_delay(1) + 121)
    assert delivery.stuck_notice_ids(later) == [notice.pk]


# --- Scheduled jobs --------------------------------------------------------------------------


def _waiting(officer, days: int, **fields: object) -> Application:
    application = ApplicationFactory(
        status=fields.pop("status", Application.Status.UNDER_REVIEW),
        case_officer=officer,
        status_changed_at=timezone.now() - dt.timedelta(days=days),
        **fields,
    )
    Application.objects.filter(pk=application.pk).update(reference=f"RMP-2100-{application.pk:06d}")
    application.refresh_from_db()
    return application


@pytest.mark.django_db
def test_sla_digest_is_one_email_per_verifier_listing_their_late_cases(
    verifier, verifier2, settings, send
):
    settings.CASE_SLA_DAYS = 14
    late = [_waiting(verifier, 15), _waiting(verifier, 30, status="field_verification")]
    late2 = _waiting(verifier2, 20)
    on_time = _waiting(verifier, 13)
    _waiting(verifier2, 40, status=Application.Status.APPROVED)  # finance's, and there is none

    with send():
        assert tasks.send_sla_digests.delay().get() == 2

    messages = _by_recipient(mail.outbox)
    assert set(messages) == {verifier.email, verifier2.email}
    body = messages[verifier.email].body
    assert all(case.reference in body for case in late)
    assert on_time.reference not in body
    assert late2.reference not in body
    assert late2.reference in messages[verifier2.email].body
    assert messages[verifier2.email].body.count("RMP-2100-") == 1
    # An officer's link opens the office's page of the case.
    assert f"{settings.SITE_URL}/office/cases/{late[0].pk}/" in body
    assert "/api/" not in body
    assert Notice.objects.filter(kind="reminder", recipient=verifier).count() == 1


def _days_waiting(language: str, days: int) -> str:
    with translation.override(language):
        return ngettext("waiting %(days)s day", "waiting %(days)s days", days) % {"days": days}


@pytest.mark.django_db
def test_sla_digest_reaches_every_officer_with_a_late_case_in_their_queue(
    verifier, verifier2, approver, finance, auditor, settings, send
):
    settings.CASE_SLA_DAYS = 14
    untaken = _waiting(None, 20, status=Application.Status.SUBMITTED)
    reviewing = _waiting(verifier, 15)
    visiting = _waiting(verifier2, 30, status=Application.Status.FIELD_VERIFICATION)
    recommended = _waiting(verifier, 16, status=Application.Status.RECOMMENDED)
    approved = _waiting(verifier, 17, status=Application.Status.APPROVED)
    # Within the service level, waiting on the applicant, or finished: nobody is reminded.
    _waiting(None, 13, status=Application.Status.SUBMITTED)
    _waiting(verifier2, 13, status=Application.Status.RECOMMENDED)
    _waiting(verifier, 30, status=Application.Status.REVISION_REQUESTED)
    _waiting(verifier, 30, status=Application.Status.DISBURSED)

    with send():
        assert tasks.send_sla_digests.delay().get() == 4

    messages = _by_recipient(mail.outbox)
    assert set(messages) == {verifier.email, verifier2.email, approver.email, finance.email}
    expected = {
        verifier.email: [untaken, reviewing],
        verifier2.email: [visiting, untaken],
        approver.email: [recommended],
        finance.email: [approved],
    }
    for address, cases in expected.items():
        body = messages[address].body
        assert body.count("RMP-2100-") == len(cases), body
        lines = [line for line in body.splitlines() if line.startswith("- ")]
        assert [line.split()[1] for line in lines] == [c.reference for c in cases]  # oldest first
        for case, line in zip(cases, lines, strict=True):
            waited = (timezone.localdate() - timezone.localtime(case.status_changed_at).date()).days
            assert case.company.name in line
            assert _days_waiting("id", waited) in line
            assert line.endswith(notices.case_url(case.pk, staff=True))
    assert _days_waiting("id", 20) in messages[verifier.email].body
    assert Notice.objects.filter(kind="reminder", recipient=auditor).count() == 0


@pytest.mark.django_db
def test_sla_digest_reminds_nobody_of_cases_within_the_service_level(
    verifier, approver, finance, settings, send
):
    settings.CASE_SLA_DAYS = 14
    for status in ("submitted", "under_review", "recommended", "approved"):
        _waiting(verifier if status == "under_review" else None, 13, status=status)
    with send():
        assert tasks.send_sla_digests.delay().get() == 0
    assert mail.outbox == []
    assert not Notice.objects.filter(kind="reminder").exists()


@pytest.mark.django_db
def test_sla_digest_gives_an_officer_with_two_roles_one_digest_listing_both_queues(
    verifier, settings, send
):
    settings.CASE_SLA_DAYS = 14
    both = UserFactory(username="hana", roles=[VERIFIER, APPROVER])
    untaken = _waiting(None, 20, status=Application.Status.SUBMITTED)
    recommended = _waiting(verifier, 18, status=Application.Status.RECOMMENDED)

    with send():
        tasks.send_sla_digests.delay()
    with send():
        assert tasks.send_sla_digests.delay().get() == 0  # run twice: no second digest

    digests = [m for m in mail.outbox if m.to == [both.email]]
    assert len(digests) == 1
    assert untaken.reference in digests[0].body
    assert recommended.reference in digests[0].body
    assert Notice.objects.filter(kind="reminder", recipient=both).count() == 1
    assert [m.to for m in mail.outbox].count([verifier.email]) == 1


@pytest.mark.django_db
def test_sla_digest_leaves_out_a_case_of_the_officers_own_company(approver, settings, send):
    settings.CASE_SLA_DAYS = 14
    own = _waiting(None, 20, status=Application.Status.RECOMMENDED)
    own.company.members.add(approver)
    with send():
        assert tasks.send_sla_digests.delay().get() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_sla_digest_runs_once_a_day(verifier, send):
    _waiting(verifier, 20)
    with send():
        tasks.send_sla_digests.delay()
    with send():
        assert tasks.send_sla_digests.delay().get() == 0
    assert len(mail.outbox) == 1
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with send():
        notices.create_sla_digests(today=tomorrow)
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_sla_digest_skips_verifiers_with_nothing_late(verifier, send):
    _waiting(verifier, 3)
    with send():
        assert tasks.send_sla_digests.delay().get() == 0
    assert mail.outbox == []


@pytest.mark.django_db
def test_draft_reminder_three_days_before_closing_reaches_only_never_submitted_drafts(
    applicant, colleague, company, other_applicant, other_company, send
):
    closing = ProgrammeFactory(application_closes=timezone.localdate() + dt.timedelta(days=3))
    later = ProgrammeFactory(application_closes=timezone.localdate() + dt.timedelta(days=10))
    draft = application_services.application_create(
        by=applicant, programme=closing, company=company
    )
    application_services.application_create(by=applicant, programme=later, company=company)
    with send():
        submitted = application_services.application_create(
            by=other_applicant, programme=closing, company=other_company
        )
        complete_application(submitted, other_applicant)
        workflow.application_submit(application=submitted, by=other_applicant)
    mail.outbox.clear()

    with send():
        assert tasks.send_draft_reminders.delay().get() == 2
    with send():
        assert tasks.send_draft_reminders.delay().get() == 0

    messages = _by_recipient(mail.outbox)
    assert set(messages) == {applicant.email, colleague.email}
    for message in messages.values():
        assert f"#{draft.pk}" in message.body
        assert closing.application_closes.isoformat() in message.body
        assert f"/applications/{draft.pk}/" in message.body
        assert "/office/" not in message.body and "/api/" not in message.body
    assert set(Notice.objects.filter(kind="reminder").values_list("application", flat=True)) == {
        draft.pk
    }


def test_beat_schedule_runs_the_notice_jobs():
    schedule = {entry["task"]: entry for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    for name in (
        "subsidy.tasks.requeue_stuck_notices",
        "subsidy.tasks.send_sla_digests",
        "subsidy.tasks.send_draft_reminders",
    ):
        assert name in schedule
        assert name in celery_app.tasks
    # The requeue runs more often than a lease lasts plus a little: a dead send is not stuck long.
    assert schedule["subsidy.tasks.requeue_stuck_notices"]["schedule"] <= 600


def test_the_lease_outlasts_the_send_tasks_hard_time_limit():
    assert django_settings.NOTICE_LEASE_SECONDS > tasks.send_notice.time_limit
    assert tasks.send_notice.soft_time_limit < tasks.send_notice.time_limit
    assert tasks.send_notice.acks_late


@pytest.mark.django_db
def test_sla_digest_skips_an_officer_who_is_no_longer_a_verifier(verifier, send):
    # A verifier who lost the role gets no digest, even for cases still on their name.
    _waiting(verifier, 20)
    verifier.groups.remove(*verifier.groups.filter(name=VERIFIER))
    with send():
        assert tasks.send_sla_digests.delay().get() == 0


def test_case_url_leads_applicants_and_staff_to_their_page_of_the_case(settings):
    settings.SITE_URL = "https://ikm.example.go.id/"
    assert notices.case_url(7, staff=False) == "https://ikm.example.go.id/applications/7/"
    assert notices.case_url(7, staff=True) == "https://ikm.example.go.id/office/cases/7/"
