"""Bulk approvals racing on PostgreSQL: two approvers, overlapping selections, a budget that
fits only some. Each case is its own application_approve, so the budget holds exactly as for
single approvals and no case is approved twice."""

from collections import Counter

import pytest

from accounts.roles import APPROVER
from subsidy import audit, selectors
from subsidy.models import Application, AuditEntry
from subsidy.workflow.bulk import applications_approve_many
from tests.factories import ProgrammeFactory, UserFactory
from tests.subsidy.test_workflow_concurrency import AMOUNT, recommended_cases, run_in_threads

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

S = Application.Status


@pytest.mark.parametrize("round_", range(3))
def test_two_approvers_bulk_approving_overlapping_selections_keep_the_budget(round_):
    budget = 7 * AMOUNT  # room for 7 of the 20 cases
    programme = ProgrammeFactory(budget=budget, required_documents=[])
    approvers = [UserFactory(roles=[APPROVER]), UserFactory(roles=[APPROVER])]
    cases = recommended_cases(programme, 20)
    # The first approver picks cases 0..13, the second 6..19: 6..13 are picked by both.
    selections = [cases[:14], cases[6:]]

    def work(index: int) -> list[tuple[int, str]]:
        fresh = list(Application.objects.filter(pk__in=[c.pk for c in selections[index]]))
        results = applications_approve_many(applications=fresh, by=approvers[index])
        return [(r.application.pk, r.code) for r in results]

    outcomes = run_in_threads(2, work)

    assert [len(o) for o in outcomes] == [14, 14]  # a result for every selected case
    approved_by_results = Counter(pk for share in outcomes for pk, code in share if code == "ok")
    assert all(n == 1 for n in approved_by_results.values())  # no case approved twice
    codes = Counter(code for share in outcomes for _pk, code in share)
    # A refusal is the budget, or (for a case both picked) the other approver got it first.
    assert set(codes) <= {"ok", "budget_exhausted", "invalid_transition"}

    approved = Application.objects.filter(programme=programme, status=S.APPROVED)
    assert approved.count() == len(approved_by_results) == 7  # the room was used, no more
    assert set(approved.values_list("pk", flat=True)) == set(approved_by_results)
    assert selectors.programme_budget(programme)["committed"] == budget
    assert selectors.programme_budget(programme)["available"] == 0
    entries = AuditEntry.objects.filter(action="approve").values_list("application_id", flat=True)
    assert sorted(entries) == sorted(approved_by_results)  # one approval entry per case
    unchanged = Application.objects.filter(programme=programme).exclude(status=S.APPROVED)
    assert set(unchanged.values_list("status", flat=True)) == {S.RECOMMENDED}
    assert not unchanged.exclude(approved_amount=None).exists()
    assert audit.verify().intact
