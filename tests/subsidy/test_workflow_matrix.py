"""Every action from every state by every role: what succeeds, and how the rest is refused.

The expected outcome comes from DOMAIN.md's workflow table written out again below (SPEC),
not from subsidy.workflow.TRANSITIONS, so a wrong row in the code fails here.
"""

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.roles import APPLICANT, APPROVER, AUDITOR, FINANCE, ROLES, VERIFIER
from config.errors import ServiceError
from subsidy.management.commands import workflow_diagram
from subsidy.models import Application, AuditEntry
from subsidy.services import applications as application_services
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.utils import item_data

S = Application.Status
BEFORE_APPROVAL = {
    S.DRAFT,
    S.SUBMITTED,
    S.UNDER_REVIEW,
    S.REVISION_REQUESTED,
    S.FIELD_VERIFICATION,
    S.RECOMMENDED,
}
# DOMAIN.md "The workflow": action -> {role: (from states, to state)}.
SPEC: dict[str, dict[str, tuple[set[str], str]]] = {
    "submit": {APPLICANT: ({S.DRAFT, S.REVISION_REQUESTED}, S.SUBMITTED)},
    "start_review": {VERIFIER: ({S.SUBMITTED}, S.UNDER_REVIEW)},
    "request_revision": {VERIFIER: ({S.UNDER_REVIEW}, S.REVISION_REQUESTED)},
    "pass_review": {VERIFIER: ({S.UNDER_REVIEW}, S.FIELD_VERIFICATION)},
    "recommend": {VERIFIER: ({S.FIELD_VERIFICATION}, S.RECOMMENDED)},
    "reject": {
        VERIFIER: ({S.UNDER_REVIEW, S.FIELD_VERIFICATION}, S.REJECTED),
        APPROVER: ({S.RECOMMENDED, S.APPROVED}, S.REJECTED),
    },
    "approve": {APPROVER: ({S.RECOMMENDED}, S.APPROVED)},
    "disburse": {FINANCE: ({S.APPROVED}, S.DISBURSED)},
    "withdraw": {APPLICANT: (BEFORE_APPROVAL, S.WITHDRAWN)},
}
# The cast: who acts, and the role they hold. "other_applicant" belongs to another company.
ACTORS = {
    "applicant": APPLICANT,
    "other_applicant": APPLICANT,
    "verifier": VERIFIER,
    "approver": APPROVER,
    "finance": FINANCE,
    "auditor": AUDITOR,
}
HTTP_STATUS = {"not_found": 404, "forbidden": 403, "invalid_transition": 409}
AMOUNT = 40_000_000


def payload() -> dict:
    """A payload valid for every action, so only the role and the state decide."""
    return {
        "comment": "Alasan: dokumen sudah diperiksa.",
        "checklist": dict.fromkeys(transitions.CHECKLIST_ITEMS, True),
        "transfer_reference": "TRF-0001",
        "transferred_on": timezone.localdate(),
    }


def expected(action: str, state: str, actor: str) -> str:
    """The target state when the action succeeds, else the error code (API.md order)."""
    if actor == "other_applicant":
        return "not_found"  # another company's application is not theirs to see
    rows = SPEC[action]
    role = ACTORS[actor]
    if role not in rows:
        return "forbidden"
    sources, target = rows[role]
    if state in sources:
        return target
    if any(state in other_sources for other_sources, _ in rows.values()):
        return "forbidden"  # the state allows it, but for another role
    return "invalid_transition"


def put_in_state(application: Application, state: str, **extra: object) -> Application:
    """Move an application straight to a state, with what that state has by then."""
    now = timezone.now()
    fields: dict = {
        "status": state,
        "status_changed_at": now,
        "computed_at": now,
        "eligible_total": AMOUNT,
        "computed_discount": AMOUNT,
        "findings": [],
    }
    if state != S.DRAFT:
        year = application.programme.year
        fields.update(
            submitted_at=now - dt.timedelta(days=1),
            # A series of its own, apart from the numbers the counter hands out from 1.
            reference=f"RMP-{year}-{900_000 + application.pk:06d}",
            company_snapshot=application.company.snapshot(),
        )
    if state in (S.APPROVED, S.DISBURSED):
        fields["approved_amount"] = AMOUNT
    if state == S.DISBURSED:
        fields.update(
            disbursed_amount=AMOUNT,
            transfer_reference="TRF-OLD",
            transferred_on=dt.date(2026, 1, 2),
        )
    fields.update(extra)
    Application.objects.filter(pk=application.pk).update(**fields)
    application.refresh_from_db()
    return application


CASES = [
    pytest.param(action, state, actor, id=f"{action}-{state}-{actor}")
    for action in transitions.ACTIONS
    for state in S.values
    for actor in ACTORS
]


def test_transition_table_is_the_one_in_the_domain_spec():
    table: dict[str, dict[str, tuple[set[str], str]]] = {}
    for t in transitions.TRANSITIONS:
        table.setdefault(t.action, {})[t.role] = (set(t.sources), t.target)
    assert table == SPEC
    assert set(transitions.ACTIONS) == set(SPEC)


def test_the_cast_holds_every_role_so_the_matrix_tries_each():
    assert set(ACTORS.values()) == set(ROLES)


@pytest.fixture
def matrix_case(db):
    """A fresh application of `company` (member: `member`), required documents none."""
    member = UserFactory(roles=[APPLICANT])
    programme = ProgrammeFactory(required_documents=[])
    company = CompanyFactory(members=[member])
    # Created directly: the matrix is about transitions, and this case runs 600 times.
    application = Application.objects.create(
        programme=programme, company=company, created_by=member
    )
    return member, application


def _actor(name: str, member) -> object:
    if name == "applicant":
        return member
    return UserFactory(roles=[ACTORS[name]])


@pytest.mark.django_db
@pytest.mark.parametrize(("action", "state", "actor"), CASES)
def test_action_from_state_by_role(matrix_case, action, state, actor):
    member, application = matrix_case
    if action == "submit":
        application_services.item_create(application=application, by=member, **item_data())
    application = put_in_state(application, state)
    user = _actor(actor, member)
    outcome = expected(action, state, actor)
    entries = AuditEntry.objects.count()
    amount = application.approved_amount

    if outcome in S.values:
        workflow.application_transition(
            application=application, by=user, action=action, **payload()
        )
        application.refresh_from_db()
        assert application.status == outcome
        assert AuditEntry.objects.count() == entries + 1
        last = AuditEntry.objects.last()
        assert (last.action, last.from_status, last.to_status, last.actor_id) == (
            action,
            state,
            outcome,
            user.pk,
        )
        if action == "approve":
            assert application.approved_amount == AMOUNT
        elif action == "reject":
            assert application.approved_amount is None
        else:
            assert application.approved_amount == amount
    else:
        with pytest.raises(ServiceError) as refused:
            workflow.application_transition(
                application=application, by=user, action=action, **payload()
            )
        assert refused.value.code == outcome
        assert refused.value.status == HTTP_STATUS[outcome]
        application.refresh_from_db()
        assert application.status == state
        assert AuditEntry.objects.count() == entries
        assert application.approved_amount == amount


@pytest.mark.django_db
@pytest.mark.parametrize("state", S.values)
@pytest.mark.parametrize("actor", list(ACTORS))
def test_available_actions_are_exactly_those_that_succeed(matrix_case, state, actor):
    member, application = matrix_case
    application = put_in_state(application, state)
    user = _actor(actor, member)
    offered = {
        a["action"]: a["to_status"]
        for a in transitions.available_actions(application=application, user=user)
    }
    allowed = {
        action: outcome
        for action in transitions.ACTIONS
        if (outcome := expected(action, state, actor)) in S.values
    }
    assert offered == allowed


# --- The state diagram in docs/workflow.md -------------------------------------------------


def test_docs_workflow_md_is_what_workflow_diagram_generates():
    call_command("workflow_diagram", "--check", stdout=io.StringIO())


def test_workflow_diagram_check_fails_on_an_outdated_file(tmp_path, monkeypatch):
    doc = tmp_path / "workflow.md"
    doc.write_text("# an old diagram\n", encoding="utf-8")
    monkeypatch.setattr(workflow_diagram, "DOC", doc)
    with pytest.raises(CommandError, match="outdated"):
        call_command("workflow_diagram", "--check", stdout=io.StringIO())
    call_command("workflow_diagram", stdout=io.StringIO())
    call_command("workflow_diagram", "--check", stdout=io.StringIO())


def test_diagram_has_an_arrow_for_every_action_from_every_source():
    arrows = {
        line.strip()
        for line in transitions.diagram().splitlines()
        if "-->" in line and "[*]" not in line
    }
    expected_arrows = {
        f"{source} --> {target}: {action} [{role}]"
        + {"request_revision": " (comment)", "reject": " (comment)"}.get(action, "")
        + {"recommend": " (checklist)", "disburse": " (transfer)"}.get(action, "")
        for action, rows in SPEC.items()
        for role, (sources, target) in rows.items()
        for source in sources
    }
    assert arrows == expected_arrows
