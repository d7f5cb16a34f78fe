"""What a database writer cannot hide: a cut-off tail (anchors outside the database), an edited
or deleted entry (PostgreSQL refuses it), and an application's money edited behind the trail."""

import io
import json

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from accounts.roles import AUDITOR, FINANCE
from subsidy import audit, tasks
from subsidy.models import Application, AuditChainHead, AuditEntry
from subsidy.services import applications as application_services
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions
from tests.factories import CompanyFactory, UserFactory
from tests.utils import audit_trigger_off, complete_application

pytestmark = pytest.mark.django_db


def _trail(n: int) -> None:
    for i in range(n):
        with transaction.atomic():
            audit.record(
                actor=None,
                action="update",
                object_type="programme",
                object_id=i,
                changes={"budget": [i, i + 1]},
            )


def verify_command(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    try:
        call_command("verify_audit_trail", *args, stdout=out)
    except CommandError as error:
        return error.returncode, str(error)
    return 0, out.getvalue()


def _anchor_lines() -> list[dict]:
    return [
        json.loads(line)
        for path in sorted(settings.AUDIT_ANCHOR_DIR.glob("*.jsonl"))
        for line in path.read_text().splitlines()
    ]


# --- Anchors ---------------------------------------------------------------------------------


def test_the_beat_job_appends_the_chain_head_to_the_day_s_file():
    _trail(3)
    assert tasks.anchor_audit_trail.delay().get() == 3
    _trail(2)
    tasks.anchor_audit_trail.delay()

    lines = _anchor_lines()
    assert [line["seq"] for line in lines] == [3, 5]
    assert lines[-1]["mac"] == AuditChainHead.objects.get().last_mac
    assert (settings.AUDIT_ANCHOR_DIR / f"{timezone.localdate().isoformat()}.jsonl").exists()


def test_the_beat_schedule_runs_the_anchor_and_the_auditors_mail():
    tasks_scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"subsidy.tasks.anchor_audit_trail", "subsidy.tasks.mail_audit_anchor"} <= (
        tasks_scheduled
    )


def test_verification_checks_the_latest_stored_anchor_by_default():
    _trail(6)
    audit.anchor_write()
    code, message = verify_command()
    assert code == 0
    assert f"Checked against the anchor 6:{AuditEntry.objects.get(seq=6).mac}." in message


def test_a_cut_off_tail_with_a_rewritten_head_is_caught_against_the_stored_anchor():
    _trail(6)
    audit.anchor_write()
    with audit_trigger_off():
        AuditEntry.objects.filter(seq__gte=5).delete()
    AuditChainHead.objects.filter(pk=1).update(
        last_seq=4, last_mac=AuditEntry.objects.get(seq=4).mac
    )
    assert audit.verify().intact  # the chain alone looks whole

    code, message = verify_command()
    assert code == 1
    assert "Audit trail broken at entry 6:" in message
    assert "anchored outside the database" in message


def test_a_cut_and_regrown_tail_is_caught_too():
    """Cut to 4, then two new entries: seq 6 exists again, but not the anchored one."""
    _trail(6)
    audit.anchor_write()
    with audit_trigger_off():
        AuditEntry.objects.filter(seq__gte=5).delete()
    AuditChainHead.objects.filter(pk=1).update(
        last_seq=4, last_mac=AuditEntry.objects.get(seq=4).mac
    )
    _trail(2)
    code, message = verify_command()
    assert code == 1
    assert "Audit trail broken at entry 6:" in message


def test_a_broken_trail_is_not_anchored():
    _trail(4)
    with audit_trigger_off():
        AuditEntry.objects.filter(seq=2).update(comment="edited")
    assert audit.anchor_write() is None
    assert _anchor_lines() == []


def test_the_auditors_get_the_anchor_by_mail_in_their_language():
    UserFactory(username="audra", email="audra@example.test", roles=[AUDITOR], language="id")
    UserFactory(username="aud-en", email="auden@example.test", roles=[AUDITOR], language="en")
    UserFactory(username="keu", email="keu@example.test", roles=[FINANCE])
    _trail(2)
    anchor = audit.anchor_write()

    assert tasks.mail_audit_anchor.delay().get() == 2
    by_address = {m.to[0]: m for m in mail.outbox}
    assert set(by_address) == {"audra@example.test", "auden@example.test"}
    assert f"verify_audit_trail --anchor {anchor}" in by_address["audra@example.test"].body
    assert "Jejak audit utuh sampai entri 2" in by_address["audra@example.test"].body
    assert "The audit trail is intact up to entry 2" in by_address["auden@example.test"].body


def test_the_auditors_are_told_when_the_trail_is_broken():
    UserFactory(username="audra", email="audra@example.test", roles=[AUDITOR], language="en")
    _trail(3)
    audit.anchor_write()
    with audit_trigger_off():
        AuditEntry.objects.filter(seq=3).delete()
    AuditChainHead.objects.filter(pk=1).update(
        last_seq=2, last_mac=AuditEntry.objects.get(seq=2).mac
    )
    audit_anchor_mail_sent = tasks.mail_audit_anchor.delay().get()
    assert audit_anchor_mail_sent == 1
    assert "Audit trail BROKEN at entry 3" in mail.outbox[-1].subject


# --- PostgreSQL refuses to change the trail ---------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize(
    "change",
    [
        lambda: AuditEntry.objects.filter(seq=1).update(comment="edited"),
        lambda: AuditEntry.objects.filter(seq=1).delete(),
        lambda: AuditEntry.objects.all().delete(),
    ],
    ids=["update", "delete", "delete_all"],
)
def test_postgresql_refuses_to_update_or_delete_audit_entries(change):
    _trail(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        change()
    assert AuditEntry.objects.count() == 2
    assert audit.verify().intact


@pytest.mark.postgres
def test_the_trigger_is_in_place(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'subsidy_auditentry'::regclass "
            "AND NOT tgisinternal"
        )
        assert [row[0] for row in cursor.fetchall()] == ["subsidy_auditentry_append_only"]


@pytest.mark.postgres
def test_a_flushed_test_database_still_empties_the_trail(transactional_db):
    """TRUNCATE (Django's flush between transaction tests) is not a row change."""
    _trail(2)
    call_command("flush", "--no-input", verbosity=0)
    assert not AuditEntry.objects.exists()


# --- The money-bearing state of each application ----------------------------------------------


@pytest.fixture
def disbursed(
    applicant, company, programme, verifier, approver, finance, django_capture_on_commit_callbacks
) -> Application:
    with django_capture_on_commit_callbacks(execute=True):
        application = application_services.application_create(
            by=applicant, programme=programme, company=company
        )
        complete_application(application, applicant)
    steps = [
        (workflow.application_submit, applicant, {}),
        (workflow.application_start_review, verifier, {}),
        (workflow.application_pass_review, verifier, {}),
        (
            workflow.application_recommend,
            verifier,
            {"checklist": dict.fromkeys(transitions.CHECKLIST_ITEMS, True)},
        ),
        (workflow.application_approve, approver, {}),
        (
            workflow.application_disburse,
            finance,
            {"transfer_reference": "TRF-77", "transferred_on": timezone.localdate()},
        ),
    ]
    for service, user, payload in steps:
        with django_capture_on_commit_callbacks(execute=True):
            application = service(application=application, by=user, **payload)
    return application


def test_each_transition_records_the_money_bearing_state(disbursed):
    entry = AuditEntry.objects.filter(application_id=disbursed.pk, action="disburse").get()
    assert entry.state["status"] == "disbursed"
    assert entry.state["approved_amount"] == disbursed.approved_amount
    assert entry.state["disbursed_amount"] == disbursed.approved_amount
    assert entry.state["transfer_reference"] == "TRF-77"
    # The payout account is compared through a keyed digest, not copied into the trail.
    assert disbursed.company_snapshot["bank_account_number"] not in json.dumps(entry.state)
    code, message = verify_command()
    assert code == 0, message


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("approved_amount", None),  # set below: ten times the amount
        ("disbursed_amount", 1),
        ("transfer_reference", "TRF-EVIL"),
        ("status", Application.Status.APPROVED),
        ("company_snapshot", None),  # set below: another bank account
    ],
)
def test_money_edited_in_the_database_is_reported(disbursed, field, value):
    if field == "approved_amount":
        value = disbursed.approved_amount * 10
    if field == "company_snapshot":
        value = {**disbursed.company_snapshot, "bank_account_number": "9999999999"}
    Application.objects.filter(pk=disbursed.pk).update(**{field: value})

    code, message = verify_command()
    assert code == 1
    assert f"application {disbursed.pk} ({disbursed.reference})" in message
    assert field in message
    assert audit.verify().intact  # the chain itself is untouched


def test_an_application_moved_with_no_audited_transition_is_reported(disbursed):
    other = Application.objects.create(
        programme=disbursed.programme,
        company=CompanyFactory(),
        status=Application.Status.APPROVED,
        approved_amount=5_000_000,
    )
    code, message = verify_command()
    assert code == 1
    assert f"application {other.pk} is status without any audited transition" in message


def test_a_transition_recorded_without_the_state_is_compared_on_its_status(
    applicant, company, programme
):
    """Entries sealed before transitions carried the state keep their MAC and their status."""
    application = application_services.application_create(
        by=applicant, programme=programme, company=company
    )
    with transaction.atomic():
        audit.record(
            actor=applicant,
            action="submit",
            object_type="application",
            object_id=application.pk,
            application_id=application.pk,
            from_status="draft",
            to_status="submitted",
        )
    Application.objects.filter(pk=application.pk).update(status="submitted", approved_amount=1)
    assert audit.verify_applications() == []
    assert audit.verify().intact
    Application.objects.filter(pk=application.pk).update(status="approved")
    assert [m.fields for m in audit.verify_applications()] == [("status",)]
