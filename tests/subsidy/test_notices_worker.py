"""Notices on a real worker (Redis broker, PostgreSQL), including a worker killed mid-run."""

import collections
import email
import email.policy
import time
from pathlib import Path

import pytest
from django.db import transaction

from accounts.roles import APPLICANT
from subsidy import tasks
from subsidy.models import Application, Notice
from subsidy.notices import compose as notices
from subsidy.notices import delivery
from subsidy.services import applications as application_services
from subsidy.workflow import actions as workflow
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.utils import complete_application

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


# Django's file-based backend ends each message with a line of 79 dashes.
SEPARATOR = b"\n" + b"-" * 79 + b"\n"


def read_mails(mail_dir: Path) -> list[email.message.EmailMessage]:
    """Every complete message the worker wrote; a write cut short by a kill is not one."""
    messages = []
    for path in sorted(mail_dir.glob("*.log")):
        *complete, _rest = path.read_bytes().split(SEPARATOR)
        messages.extend(
            email.message_from_bytes(chunk, policy=email.policy.default) for chunk in complete
        )
    return messages


def wait_until(condition, timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def test_worker_computes_a_submission_and_mails_its_notice(real_worker):
    real_worker.start(concurrency=2)
    applicant = UserFactory(username="sari", roles=[APPLICANT])
    company = CompanyFactory(members=[applicant])
    application = application_services.application_create(
        by=applicant, programme=ProgrammeFactory(), company=company
    )
    complete_application(application, applicant, items=2)
    wait_until(
        lambda: Application.objects.get(pk=application.pk).computed_at is not None,
        60,
        "the discount to be computed",
    )
    application = workflow.application_submit(application=application, by=applicant)

    notice = Notice.objects.get(application=application, kind="submitted")
    wait_until(
        lambda: (
            Notice.objects.get(pk=notice.pk).status == "sent" and read_mails(real_worker.mail_dir)
        ),
        60,
        "the submission notice to be sent",
    )
    wait_until(
        lambda: Application.objects.get(pk=application.pk).computed_at is not None,
        60,
        "the recomputation after submission",
    )
    application.refresh_from_db()
    assert application.computed_discount == 80_000_000

    [message] = read_mails(real_worker.mail_dir)
    assert message["To"] == applicant.email
    assert application.reference in message["Subject"]
    assert message["Message-ID"] == delivery.message_id(notice)
    assert message["Content-Language"] == "id"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert application.reference in text
    assert f"/applications/{application.pk}/" in text and "/api/" not in text
    assert application.reference in html
    notice.refresh_from_db()
    assert notice.attempts == 1


def _make_pending_notices(count: int) -> list[int]:
    """`count` notices as transitions leave them, each with its send job queued after commit."""
    recipients = [UserFactory(roles=[APPLICANT]) for _ in range(10)]
    context = {
        "reference": "RMP-2100-000001",
        "application": None,
        "company": "CV Maju Jaya",
        "status": "submitted",
        "programme_year": 2100,
        "url": "http://127.0.0.1:8000/",
    }
    title, text = notices.render("submitted", "id", context)
    with transaction.atomic():
        made = Notice.objects.bulk_create(
            Notice(
                key=f"kill-test:{n}",
                recipient=recipients[n % len(recipients)],
                kind="submitted",
                language="id",
                title=title,
                body=text,
                context=context,
            )
            for n in range(count)
        )
        ids = [notice.pk for notice in made]
        for pk in ids:
            transaction.on_commit(lambda pk=pk: tasks.send_notice.delay(pk))
    return ids


def _count(status: str) -> int:
    return Notice.objects.filter(status=status).count()


def test_a_killed_worker_loses_no_notice_and_repeats_at_most_one_with_its_message_id(
    real_worker, monkeypatch, settings, capsys
):
    # A short lease for the worker (read from the environment) and for this process.
    monkeypatch.setenv("NOTICE_LEASE_SECONDS", "3")
    settings.NOTICE_LEASE_SECONDS = 3
    # Enough that a loaded machine still kills the worker mid-way (it sends ~100 a second).
    total = 500
    started = time.monotonic()
    real_worker.start(concurrency=1)
    ids = _make_pending_notices(total)

    wait_until(lambda: _count("sent") >= 20, 60, "the worker to send some notices", 0.01)
    real_worker.kill()
    sent_before_kill = _count("sent")
    in_flight = _count("sending")
    assert sent_before_kill < total, "the worker sent everything before it could be killed"
    assert in_flight <= 1  # concurrency 1, prefetch 1: one job at most was running

    real_worker.start(concurrency=1)

    def all_sent() -> bool:
        tasks.requeue_stuck_notices()  # the beat job, run here: it queues to the worker
        return _count("sent") == total

    wait_until(all_sent, 45, "every notice to be sent after the restart", interval=1)

    messages = read_mails(real_worker.mail_dir)
    by_id = collections.Counter(m["Message-ID"] for m in messages)
    expected = {delivery.message_id(n) for n in Notice.objects.filter(pk__in=ids)}
    assert set(by_id) == expected, "every notice delivered, nothing else"
    duplicates = sum(n - 1 for n in by_id.values())
    assert duplicates <= in_flight <= 1
    assert len(messages) == total + duplicates
    assert Notice.objects.filter(pk__in=ids, status="sent", sent_at__isnull=False).count() == total
    with capsys.disabled():
        print(
            f"\nkill test: {total} notices, {sent_before_kill} sent before SIGKILL, "
            f"{in_flight} in flight, {len(messages)} e-mails after restart and requeue, "
            f"{duplicates} duplicate(s) (same Message-ID), "
            f"{time.monotonic() - started:.1f} s"
        )
