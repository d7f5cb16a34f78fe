"""The task list's states, from what a submission lacks and the computed findings."""

from subsidy.engine import rules
from subsidy.web.applications import (
    DONE,
    IN_PROGRESS,
    NEEDS_ATTENTION,
    NOT_STARTED,
    task_states,
)

COMPANY_MISSING = [
    "company.nib",
    "company.npwp",
    "company.bank_name",
    "company.bank_account_number",
    "company.bank_account_name",
]


def _states(**changes) -> dict[str, str]:
    facts = {
        "status": "draft",
        "missing": [],
        "machines": 2,
        "excluded_machines": 0,
        "documents": 3,
        "blocking": [],
        **changes,
    }
    return task_states(**facts)


def test_a_new_draft_has_nothing_started():
    states = _states(
        missing=[*COMPANY_MISSING, "items", "documents.invoice"], machines=0, documents=0
    )
    assert states == {
        "company": NOT_STARTED,
        "machines": NOT_STARTED,
        "documents": NOT_STARTED,
        "check_answers": NOT_STARTED,
        "submit": NOT_STARTED,
    }


def test_a_company_with_some_fields_is_in_progress():
    assert _states(missing=["company.nib"])["company"] == IN_PROGRESS


def test_a_company_the_rules_refuse_needs_attention():
    assert _states(blocking=[rules.KBLI_NOT_MANUFACTURING])["company"] == NEEDS_ATTENTION
    assert _states(blocking=[rules.COMPANY_NOT_IKM])["company"] == NEEDS_ATTENTION


def test_an_excluded_machine_or_a_refund_below_the_minimum_needs_attention():
    assert _states(excluded_machines=1)["machines"] == NEEDS_ATTENTION
    assert _states(blocking=[rules.BELOW_MINIMUM])["machines"] == NEEDS_ATTENTION
    assert _states()["machines"] == DONE


def test_documents_with_a_required_kind_missing_are_in_progress():
    assert _states(missing=["documents.invoice"], documents=1)["documents"] == IN_PROGRESS
    assert _states(missing=["documents.invoice"], documents=0)["documents"] == NOT_STARTED
    assert _states(documents=1)["documents"] == DONE


def test_a_complete_draft_is_ready_to_check_and_submit():
    states = _states()
    assert [states[k] for k in ("company", "machines", "documents")] == [DONE] * 3
    assert states["check_answers"] == states["submit"] == NOT_STARTED


def test_a_revision_request_makes_submitting_again_need_attention():
    assert _states(status="revision_requested")["submit"] == NEEDS_ATTENTION


def test_a_submitted_application_has_every_task_done():
    assert set(_states(status="submitted").values()) == {DONE}
