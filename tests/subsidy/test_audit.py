"""The audit trail: what is recorded, and that verify_audit_trail finds every kind of tampering."""

import hashlib
import hmac
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from subsidy import audit
from subsidy.models import AuditChainHead, AuditEntry
from subsidy.services import applications as application_services
from subsidy.services import companies as company_services
from subsidy.services import documents as document_services
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions
from tests.utils import audit_trigger_off, client_for, complete_application, item_data, pdf_upload

# --- What is recorded ----------------------------------------------------------------------


def test_every_transition_is_in_the_history_with_who_from_to_and_comment(
    applicant,
    company,
    programme,
    verifier,
    approver,
    finance,
    auditor,
    django_capture_on_commit_callbacks,
):
    application = application_services.application_create(
        by=applicant, programme=programme, company=company
    )
    complete_application(application, applicant)
    steps = [
        (workflow.application_submit, applicant, {}),
        (workflow.application_start_review, verifier, {}),
        (workflow.application_request_revision, verifier, {"comment": "Faktur buram."}),
        (workflow.application_submit, applicant, {}),
        (workflow.application_start_review, verifier, {}),
        (workflow.application_pass_review, verifier, {"comment": "Dokumen lengkap."}),
        (
            workflow.application_recommend,
            verifier,
            {"checklist": dict.fromkeys(transitions.CHECKLIST_ITEMS, True), "comment": "Sesuai."},
        ),
        (workflow.application_approve, approver, {"comment": "Disetujui."}),
        (
            workflow.application_disburse,
            finance,
            {"transfer_reference": "TRF-77", "transferred_on": timezone.localdate()},
        ),
    ]
    for service, user, payload in steps:
        # The refund is computed after commit; run those jobs as a real commit would.
        with django_capture_on_commit_callbacks(execute=True):
            application = service(application=application, by=user, **payload)

    history = client_for(auditor).get(f"/api/v1/applications/{application.pk}/history/").json()
    moves = [
        (h["actor"], h["action"], h["from_status"], h["to_status"], h["comment"])
        for h in history
        if h["action"] in transitions.ACTIONS
    ]
    assert moves == [
        ("ani", "submit", "draft", "submitted", ""),
        ("citra", "start_review", "submitted", "under_review", ""),
        ("citra", "request_revision", "under_review", "revision_requested", "Faktur buram."),
        ("ani", "submit", "revision_requested", "submitted", ""),
        ("citra", "start_review", "submitted", "under_review", ""),
        ("citra", "pass_review", "under_review", "field_verification", "Dokumen lengkap."),
        ("citra", "recommend", "field_verification", "recommended", "Sesuai."),
        ("eka", "approve", "recommended", "approved", "Disetujui."),
        ("fajar", "disburse", "approved", "disbursed", ""),
    ]
    by_action = {h["action"]: h["changes"] for h in history}
    assert by_action["approve"] == {"approved_amount": [None, 40_000_000]}
    assert by_action["disburse"]["transfer_reference"] == [None, "TRF-77"]
    assert by_action["recommend"]["checklist"][1] == dict.fromkeys(
        transitions.CHECKLIST_ITEMS, True
    )
    assert audit.verify().intact


def test_a_withdrawal_is_recorded(applicant, company, programme):
    application = application_services.application_create(
        by=applicant, programme=programme, company=company
    )
    workflow.application_withdraw(application=application, by=applicant, comment="Batal beli.")
    entry = AuditEntry.objects.last()
    assert (entry.actor, entry.action, entry.from_status, entry.to_status, entry.comment) == (
        applicant,
        "withdraw",
        "draft",
        "withdrawn",
        "Batal beli.",
    )


def _application(applicant, company, programme):
    return application_services.application_create(
        by=applicant, programme=programme, company=company
    )


def _company_update(applicant, company, programme):
    company_services.company_update(company=company, by=applicant, workers=25, bank_name="BNI")
    return "company", company.pk, "update", {"workers": [12, 25], "bank_name": ["BRI", "BNI"]}


def _item_create(applicant, company, programme):
    application = _application(applicant, company, programme)
    item = application_services.item_create(
        application=application, by=applicant, **item_data(price=90_000_000)
    )
    return "item", item.pk, "create", {"price": [None, 90_000_000], "origin": [None, "domestic"]}


def _item_update(applicant, company, programme):
    application = _application(applicant, company, programme)
    item = application_services.item_create(application=application, by=applicant, **item_data())
    application_services.item_update(item=item, by=applicant, price=80_000_000, is_new=False)
    return "item", item.pk, "update", {"price": [100_000_000, 80_000_000], "is_new": [True, False]}


def _item_delete(applicant, company, programme):
    application = _application(applicant, company, programme)
    item = application_services.item_create(application=application, by=applicant, **item_data())
    item_id = item.pk
    application_services.item_delete(item=item, by=applicant)
    return "item", item_id, "delete", {"price": [100_000_000, None]}


def _document_upload(applicant, company, programme):
    application = _application(applicant, company, programme)
    document = document_services.document_upload(
        application=application, by=applicant, kind="invoice", file=pdf_upload()
    )
    return (
        "document",
        document.pk,
        "upload",
        {
            "kind": [None, "invoice"],
            "sha256": [None, document.sha256],
            "content_type": [None, "application/pdf"],
        },
    )


def _document_delete(applicant, company, programme):
    application = _application(applicant, company, programme)
    document = document_services.document_upload(
        application=application, by=applicant, kind="invoice", file=pdf_upload()
    )
    document_id, sha = document.pk, document.sha256
    document_services.document_delete(document=document, by=applicant)
    return "document", document_id, "delete", {"kind": ["invoice", None], "sha256": [sha, None]}


@pytest.mark.parametrize(
    "change",
    [
        _company_update,
        _item_create,
        _item_update,
        _item_delete,
        _document_upload,
        _document_delete,
    ],
    ids=lambda f: f.__name__.strip("_"),
)
def test_every_change_is_recorded_with_who_and_the_old_and_new_values(
    applicant, company, programme, change
):
    object_type, object_id, action, expected = change(applicant, company, programme)
    entry = AuditEntry.objects.last()
    assert (entry.actor, entry.object_type, entry.object_id, entry.action) == (
        applicant,
        object_type,
        object_id,
        action,
    )
    assert {name: entry.changes.get(name) for name in expected} == expected
    assert audit.verify().intact


def test_a_change_that_changes_nothing_is_not_recorded(applicant, company):
    entries = AuditEntry.objects.count()
    company_services.company_update(company=company, by=applicant, workers=company.workers)
    assert AuditEntry.objects.count() == entries


def test_recording_outside_a_transaction_is_refused(transactional_db):
    with pytest.raises(RuntimeError):
        audit.record(actor=None, action="update", object_type="programme", object_id=1)


# --- verify_audit_trail ----------------------------------------------------------------------


def _trail(n: int) -> None:
    for i in range(n):
        audit.record(
            actor=None,
            action="update",
            object_type="programme",
            object_id=i,
            comment=f"entry {i + 1}",
            changes={"budget": [i, i + 1]},
        )


def verify_command(*args: str) -> tuple[int, str]:
    """(exit code, message) of `manage.py verify_audit_trail`."""
    out = io.StringIO()
    try:
        call_command("verify_audit_trail", *args, stdout=out)
    except CommandError as error:
        return error.returncode, str(error)
    return 0, out.getvalue()


def test_verify_audit_trail_passes_an_untouched_trail(db):
    _trail(6)
    code, message = verify_command()
    assert code == 0
    assert "intact: 6 entries" in message


def test_verify_audit_trail_passes_an_empty_trail(db):
    code, message = verify_command()
    assert code == 0
    assert "intact: 0 entries" in message


def _edit(field: str, value: object):
    def tamper() -> None:
        AuditEntry.objects.filter(seq=3).update(**{field: value})

    return tamper


def _delete_entry() -> None:
    AuditEntry.objects.filter(seq=3).delete()


def _delete_first() -> None:
    AuditEntry.objects.filter(seq=1).delete()


def _renumber_from(seq: int, by: int) -> None:
    """Move entries seq.. up by `by` (from the top down, so seq stays unique)."""
    for entry in AuditEntry.objects.filter(seq__gte=seq).order_by("-seq"):
        AuditEntry.objects.filter(pk=entry.pk).update(seq=entry.seq + by)


def _forged_entry(mac: str | None):
    def tamper() -> None:
        _renumber_from(3, 1)
        AuditChainHead.objects.filter(pk=1).update(last_seq=7)
        previous = AuditEntry.objects.get(seq=2)
        forged = AuditEntry(
            seq=3,
            at=timezone.now(),
            object_type="programme",
            object_id=99,
            action="update",
            comment="budget raised",
            changes={"budget": [1, 10**12]},
            prev_mac=previous.mac,
        )
        forged.mac = (
            mac
            or hmac.new(
                b"not-the-key", audit._content(forged) + previous.mac.encode(), hashlib.sha256
            ).hexdigest()
        )
        forged.save(force_insert=True)

    return tamper


def _resealed_with_wrong_key() -> None:
    entry = AuditEntry.objects.get(seq=3)
    entry.comment = "nothing to see"
    entry.mac = hmac.new(
        b"not-the-key", audit._content(entry) + entry.prev_mac.encode(), hashlib.sha256
    ).hexdigest()
    entry.save()


def _swapped() -> None:
    third, fourth = AuditEntry.objects.get(seq=3), AuditEntry.objects.get(seq=4)
    AuditEntry.objects.filter(pk=third.pk).update(seq=0)
    AuditEntry.objects.filter(pk=fourth.pk).update(seq=3)
    AuditEntry.objects.filter(pk=third.pk).update(seq=4)


def _truncated() -> None:
    AuditEntry.objects.filter(seq__gte=5).delete()


def _truncated_and_head_removed() -> None:
    AuditEntry.objects.filter(seq__gte=5).delete()
    AuditChainHead.objects.all().delete()


def _head_rewritten() -> None:
    AuditChainHead.objects.filter(pk=1).update(last_mac="b" * 64)


def _appended_forgery() -> None:
    last = AuditEntry.objects.get(seq=6)
    AuditEntry.objects.create(
        seq=7,
        at=timezone.now(),
        object_type="programme",
        object_id=1,
        action="update",
        prev_mac=last.mac,
        mac="a" * 64,
    )
    AuditChainHead.objects.filter(pk=1).update(last_seq=7, last_mac="a" * 64)


@pytest.mark.parametrize(
    ("tamper", "broken_at"),
    [
        (_edit("comment", "approved by the director"), 3),
        (_edit("changes", {"budget": [2, 999]}), 3),
        (_edit("to_status", "approved"), 3),
        (_edit("object_id", 42), 3),
        (_edit("at", timezone.now()), 3),
        (_delete_entry, 3),
        (_delete_first, 1),
        (_forged_entry("f" * 64), 3),
        (_forged_entry(None), 3),
        (_resealed_with_wrong_key, 3),
        (_swapped, 3),
        (_truncated, 5),
        (_truncated_and_head_removed, 5),
        (_appended_forgery, 7),
        (_head_rewritten, 6),
    ],
    ids=[
        "edited_comment",
        "edited_changes",
        "edited_status",
        "edited_object",
        "edited_time",
        "deleted_entry",
        "deleted_first_entry",
        "forged_entry_made_up_mac",
        "forged_entry_sealed_with_another_key",
        "resealed_with_another_key",
        "swapped_entries",
        "truncated_tail",
        "truncated_tail_and_head_removed",
        "appended_forgery",
        "head_rewritten",
    ],
)
def test_verify_audit_trail_finds_tampering_and_names_the_entry(db, tamper, broken_at):
    _trail(6)
    with audit_trigger_off():
        tamper()
    code, message = verify_command()
    assert code == 1
    assert f"Audit trail broken at entry {broken_at}:" in message
    assert audit.verify().seq == broken_at


def test_verify_audit_trail_prints_an_anchor_that_a_later_run_checks(db):
    _trail(6)
    code, message = verify_command()
    anchor = f"6:{AuditEntry.objects.get(seq=6).mac}"
    assert f"Anchor: {anchor}" in message
    _trail(2)
    code, message = verify_command("--anchor", anchor)
    assert code == 0
    assert "intact: 8 entries" in message


def test_an_anchor_finds_a_cut_off_tail_whose_head_was_rewritten_to_match(db):
    _trail(6)
    anchor = f"6:{AuditEntry.objects.get(seq=6).mac}"
    with audit_trigger_off():
        AuditEntry.objects.filter(seq__gte=5).delete()
    AuditChainHead.objects.filter(pk=1).update(
        last_seq=4, last_mac=AuditEntry.objects.get(seq=4).mac
    )
    assert verify_command()[0] == 0  # without the anchor the cut cannot be seen
    code, message = verify_command("--anchor", anchor)
    assert code == 1
    assert "Audit trail broken at entry 6:" in message


def test_a_malformed_anchor_is_refused(db):
    code, message = verify_command("--anchor", "six")
    assert code == 1
    assert "SEQ:MAC" in message


def test_entries_appended_while_the_trail_is_verified_are_not_taken_for_a_changed_tail(
    db, monkeypatch
):
    """A transition committed between the walk and the end must not look like tampering."""
    _trail(6)
    walk = audit._entries

    def walk_then_append(*args, **kwargs):
        yield from walk(*args, **kwargs)
        _trail(1)  # another worker commits an entry after the last batch was read

    monkeypatch.setattr(audit, "_entries", walk_then_append)
    verdict = audit.verify()
    assert verdict.intact
    assert verdict.checked == 6


def _bulk_trail(n: int) -> None:
    """n sealed entries written with one INSERT per batch (audit.record costs 3 queries each)."""
    now = timezone.now()
    prev = audit.GENESIS_MAC
    entries = []
    for seq in range(1, n + 1):
        entry = AuditEntry(
            seq=seq,
            at=now,
            object_type="application",
            object_id=seq,
            application_id=seq,
            action="start_review",
            from_status="submitted",
            to_status="under_review",
            changes={"case_officer": [None, seq % 7]},
            prev_mac=prev,
        )
        entry.mac = prev = audit.seal(entry, prev)
        entries.append(entry)
    with transaction.atomic():
        AuditEntry.objects.bulk_create(entries, batch_size=1000)
        AuditChainHead.objects.update_or_create(pk=1, defaults={"last_seq": n, "last_mac": prev})


def test_a_trail_of_ten_thousand_entries_verifies(db):
    _bulk_trail(10_000)
    _trail(1)  # and the next real entry links on to it
    verdict = audit.verify()
    assert (verdict.intact, verdict.checked) == (True, 10_001)


def test_an_edit_deep_in_a_long_trail_is_found_at_its_number(db):
    _bulk_trail(10_000)
    with audit_trigger_off():
        AuditEntry.objects.filter(seq=7_501).update(comment="edited")
    code, message = verify_command()
    assert code == 1
    assert "Audit trail broken at entry 7501:" in message
