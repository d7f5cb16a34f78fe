"""Races on PostgreSQL: the budget under parallel approvals, gap-free references, no deadlocks.

Each thread has its own database connection (Django opens one per thread), so these are real
concurrent transactions; SQLite would serialise them and prove nothing.
"""

import threading
import time
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from accounts.roles import APPLICANT, APPROVER, FINANCE, VERIFIER
from config.errors import ServiceError
from subsidy import audit, selectors
from subsidy.models import Application, ReferenceCounter
from subsidy.services import applications as application_services
from subsidy.services import programmes as programme_services
from subsidy.workflow import actions as workflow
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.subsidy.test_workflow_matrix import put_in_state
from tests.utils import item_data

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

S = Application.Status
THREADS = 8
AMOUNT = 100_000_000
BUDGET = 1_000_000_000


def run_in_threads(count: int, work: Callable[[int], object]) -> list[object]:
    """Run work(0..count-1) in threads released together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count
    failures: list[BaseException] = []

    def main(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = work(index)
        except BaseException as error:  # reported to the test by the caller
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=main, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if failures:
        raise failures[0]
    return results


def outcome(call: Callable[[], object]) -> str:
    try:
        call()
    except ServiceError as error:
        return error.code
    return "ok"


def recommended_cases(programme, count: int) -> list[Application]:
    """Cases ready to approve: computed (100,000,000 each), no findings, no applicant to notify."""
    cases = []
    for _ in range(count):
        made = Application.objects.create(programme=programme, company=CompanyFactory())
        cases.append(put_in_state(made, S.RECOMMENDED, computed_discount=AMOUNT))
    return cases


def test_parallel_approvals_never_commit_more_than_the_budget():
    programme = ProgrammeFactory(budget=BUDGET, required_documents=[])
    approver = UserFactory(roles=[APPROVER])
    cases = recommended_cases(programme, 40)

    def approve_share(index: int) -> list[str]:
        return [
            outcome(lambda case=case: workflow.application_approve(application=case, by=approver))
            for case in cases[index::THREADS]
        ]

    results = Counter(r for share in run_in_threads(THREADS, approve_share) for r in share)

    assert results == {"ok": 10, "budget_exhausted": 30}
    assert Application.objects.filter(status=S.APPROVED).count() == 10
    assert selectors.programme_budget(programme) == {
        "budget": BUDGET,
        "committed": BUDGET,
        "disbursed": 0,
        "available": 0,
    }
    assert audit.verify().intact


def test_parallel_approvals_rejections_and_disbursements_keep_the_budget_invariant():
    programme = ProgrammeFactory(budget=BUDGET, required_documents=[])
    approver = UserFactory(roles=[APPROVER])
    cashier = UserFactory(roles=[FINANCE])
    already = [
        put_in_state(case, S.APPROVED, approved_amount=AMOUNT)
        for case in recommended_cases(programme, 5)
    ]
    waiting = recommended_cases(programme, 35)
    lock = threading.Lock()
    taken: set[int] = set()  # approved cases a rejecting or paying thread has claimed
    tally: Counter = Counter()
    approvers_left = [4]

    def count(key: str) -> None:
        with lock:
            tally[key] += 1

    def take_approved() -> Application | None:
        """An approved case no other thread has taken yet."""
        ids = Application.objects.filter(programme=programme, status=S.APPROVED).values_list(
            "pk", flat=True
        )
        with lock:
            pk = next((pk for pk in ids if pk not in taken), None)
            if pk is None:
                return None
            taken.add(pk)
        return Application.objects.get(pk=pk)

    def approve(index: int) -> None:
        try:
            for case in waiting[index::4]:
                count(
                    outcome(lambda c=case: workflow.application_approve(application=c, by=approver))
                )
        finally:
            with lock:
                approvers_left[0] -= 1

    def reject() -> None:
        for _ in range(3):  # three rejections per thread, of cases approved before or now
            while (case := take_approved()) is None:
                with lock:
                    if not approvers_left[0]:
                        return
                time.sleep(0.002)
            result = outcome(
                lambda c=case: workflow.application_reject(
                    application=c, by=approver, comment="Temuan pemeriksaan lapangan."
                )
            )
            count(f"reject:{result}")

    def disburse() -> None:
        for _ in range(2):
            case = take_approved()
            if case is None:
                return
            result = outcome(
                lambda c=case: workflow.application_disburse(
                    application=c,
                    by=cashier,
                    transfer_reference=f"TRF-{c.pk}",
                    transferred_on=timezone.localdate(),
                )
            )
            count(f"disburse:{result}")

    def work(index: int) -> None:
        if index < 4:
            approve(index)
        elif index == 7:
            disburse()
        else:
            reject()

    run_in_threads(THREADS, work)

    budget = selectors.programme_budget(programme)
    approved = list(
        Application.objects.filter(programme=programme, status=S.APPROVED).values_list(
            "approved_amount", flat=True
        )
    )
    disbursed = Application.objects.filter(programme=programme, status=S.DISBURSED).count()
    rejected = Application.objects.filter(programme=programme, status=S.REJECTED).count()
    # Nothing failed but the budget refusing: no deadlock, no lost update.
    assert set(tally) <= {"ok", "budget_exhausted", "reject:ok", "disburse:ok"}
    assert tally["reject:ok"] == rejected > 0
    assert tally["disburse:ok"] == disbursed
    assert budget["committed"] + budget["disbursed"] <= BUDGET
    assert budget["committed"] == sum(approved)
    assert budget["disbursed"] == disbursed * AMOUNT
    assert len(approved) + disbursed <= BUDGET // AMOUNT
    # Every approval, old or new, ends approved, disbursed or rejected.
    assert len(already) + tally["ok"] == len(approved) + disbursed + rejected
    assert tally["ok"] + tally["budget_exhausted"] == len(waiting)
    # The room there was at the start was used; rejections can only have added to it.
    assert tally["ok"] >= BUDGET // AMOUNT - len(already)
    assert audit.verify().intact


def test_parallel_submissions_get_gap_free_unique_references():
    programme = ProgrammeFactory(required_documents=[])
    applicant = UserFactory(roles=[APPLICANT])
    drafts = []
    for _ in range(30):
        company = CompanyFactory(members=[applicant])
        draft = application_services.application_create(
            by=applicant, programme=programme, company=company
        )
        application_services.item_create(application=draft, by=applicant, **item_data())
        drafts.append(draft)

    def submit_share(index: int) -> list[str]:
        return [
            workflow.application_submit(application=draft, by=applicant).reference
            for draft in drafts[index::THREADS]
        ]

    references = [r for share in run_in_threads(THREADS, submit_share) for r in share]

    assert sorted(references) == [f"RMP-{programme.year}-{n:06d}" for n in range(1, 31)]
    assert sorted(
        Application.objects.filter(programme=programme).values_list("reference", flat=True)
    ) == sorted(references)
    assert ReferenceCounter.objects.get(programme=programme).last_number == 30
    assert audit.verify().intact


def test_a_year_change_racing_first_submissions_leaves_no_reference_of_another_year():
    superuser = UserFactory(is_superuser=True)
    applicant = UserFactory(roles=[APPLICANT])
    for round_ in range(4):
        programme = ProgrammeFactory(year=2030 + round_, required_documents=[])
        drafts = []
        for _ in range(THREADS - 1):
            company = CompanyFactory(members=[applicant])
            draft = application_services.application_create(
                by=applicant, programme=programme, company=company
            )
            application_services.item_create(application=draft, by=applicant, **item_data())
            drafts.append(draft)

        def work(index: int, programme=programme, drafts=drafts) -> str:
            if index == 0:
                return outcome(
                    lambda: programme_services.programme_update(
                        programme=programme, by=superuser, year=programme.year + 10
                    )
                )
            return outcome(
                lambda: workflow.application_submit(application=drafts[index - 1], by=applicant)
            )

        results = run_in_threads(THREADS, work)

        programme.refresh_from_db()
        assert results[0] in {"ok", "invalid_transition"}
        assert results[1:] == ["ok"] * (THREADS - 1)
        references = Application.objects.filter(programme=programme).values_list(
            "reference", flat=True
        )
        assert sorted(references) == [f"RMP-{programme.year}-{n:06d}" for n in range(1, THREADS)]
    assert audit.verify().intact


def test_the_trail_verifies_while_transitions_are_recorded():
    """A verification running beside live transitions must not report a changed tail."""
    programme = ProgrammeFactory(required_documents=[])
    verifier = UserFactory(roles=[VERIFIER])
    cases = [
        put_in_state(
            Application.objects.create(programme=programme, company=CompanyFactory()), S.SUBMITTED
        )
        for _ in range(60)
    ]
    lock = threading.Lock()
    reviewers_left = [THREADS - 1]

    def work(index: int) -> list[audit.Verdict]:
        if index == 0:  # verifies again and again until the reviewers are done
            verdicts = [audit.verify()]
            while reviewers_left[0]:
                verdicts.append(audit.verify())
            return verdicts
        try:
            for case in cases[index - 1 :: THREADS - 1]:
                workflow.application_start_review(application=case, by=verifier)
        finally:
            with lock:
                reviewers_left[0] -= 1
        return []

    verdicts = run_in_threads(THREADS, work)[0]
    assert [v for v in verdicts if not v.intact] == []
    assert len(verdicts) > 1
    assert Application.objects.filter(status=S.UNDER_REVIEW).count() == 60
    assert audit.verify().checked == 60


# --- Lock order: no deadlock between a transition and a change to what it touches -----------


def wait_for_a_lock_wait(timeout: float = 10) -> bool:
    """True once another session of this database waits for a row lock."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.01)
    return False


def hold_after_locking(monkeypatch, action: str) -> tuple[threading.Event, threading.Event]:
    """Make the `action` transition pause right after it locked its rows, until released."""
    locked, release = threading.Event(), threading.Event()
    begin = workflow._begin

    def pausing_begin(application, by, name, **kwargs):
        result = begin(application, by, name, **kwargs)
        if name == action:
            locked.set()
            release.wait(timeout=20)
        return result

    monkeypatch.setattr(workflow, "_begin", pausing_begin)
    return locked, release


def test_submitting_a_rival_claim_does_not_deadlock_with_a_transition_on_the_rival(monkeypatch):
    programme = ProgrammeFactory(required_documents=[])
    applicant = UserFactory(roles=[APPLICANT])
    verifier = UserFactory(roles=[VERIFIER])
    shared = item_data()
    rival = application_services.application_create(
        by=applicant, programme=programme, company=CompanyFactory(members=[applicant])
    )
    application_services.item_create(application=rival, by=applicant, **shared)
    rival = put_in_state(rival, S.SUBMITTED)
    mine = application_services.application_create(
        by=applicant, programme=programme, company=CompanyFactory(members=[applicant])
    )
    application_services.item_create(
        application=mine, by=applicant, **{**item_data(), "serial_number": shared["serial_number"]}
    )
    locked, release = hold_after_locking(monkeypatch, "start_review")

    def work(index: int) -> str:
        if index == 0:  # holds the rival's row, then records its transition
            return outcome(
                lambda: workflow.application_start_review(application=rival, by=verifier)
            )
        locked.wait(timeout=20)  # submits while the rival's row is held
        return outcome(lambda: workflow.application_submit(application=mine, by=applicant))

    def release_when_blocked(index: int) -> str:
        if index == 2:
            locked.wait(timeout=20)
            assert wait_for_a_lock_wait(), "the submission never waited for the rival's row"
            release.set()
            return "released"
        return work(index)

    assert run_in_threads(3, release_when_blocked) == ["ok", "ok", "released"]
    assert set(Application.objects.values_list("status", flat=True)) == {
        S.UNDER_REVIEW,
        S.SUBMITTED,
    }
    assert audit.verify().intact


def test_approving_does_not_deadlock_with_a_programme_change(monkeypatch):
    programme = ProgrammeFactory(required_documents=[])
    approver = UserFactory(roles=[APPROVER])
    admin = UserFactory(is_superuser=True)
    (case,) = recommended_cases(programme, 1)
    locked, release = hold_after_locking(monkeypatch, "approve")

    def work(index: int) -> str:
        if index == 0:
            return outcome(lambda: workflow.application_approve(application=case, by=approver))
        if index == 1:
            locked.wait(timeout=20)
            return outcome(
                lambda: programme_services.programme_update(
                    programme=programme, by=admin, min_refund=programme.min_refund + 1
                )
            )
        locked.wait(timeout=20)
        assert wait_for_a_lock_wait(), "the programme change never waited for the approval"
        release.set()
        return "released"

    assert run_in_threads(3, work) == ["ok", "ok", "released"]
    case.refresh_from_db()
    assert case.status == S.APPROVED
    assert audit.verify().intact


def test_a_submission_committing_while_an_approval_holds_the_programme_does_not_deadlock():
    """The deadline rush's deadlock (docs/benchmarks.md, "Load: deadline rush"): a submission
    updates its row twice, so PostgreSQL checks its deferred foreign keys again at COMMIT,
    taking FOR KEY SHARE on the programme row, while it holds the audit chain's head; an
    approval holds the programme and waits for that head. The approval locks the programme
    FOR NO KEY UPDATE, which serialises approvals and programme changes but lets a foreign
    key check through."""
    programme = ProgrammeFactory(required_documents=[])
    applicant = UserFactory(roles=[APPLICANT])
    approver = UserFactory(roles=[APPROVER])
    draft = application_services.application_create(
        by=applicant, programme=programme, company=CompanyFactory(members=[applicant])
    )
    application_services.item_create(application=draft, by=applicant, **item_data())
    (case,) = recommended_cases(programme, 1)
    # Not the programme's first submission: that one locks the programme to make its counter.
    ReferenceCounter.objects.create(programme=programme)
    submitted, release = threading.Event(), threading.Event()

    def work(index: int) -> str:
        if index == 0:  # submits, holds the trail's head until released, then commits
            with transaction.atomic():
                workflow.application_submit(application=draft, by=applicant)
                submitted.set()
                release.wait(timeout=20)
            return "ok"
        submitted.wait(timeout=20)
        if index == 1:  # takes the programme, then waits for the head
            return outcome(lambda: workflow.application_approve(application=case, by=approver))
        assert wait_for_a_lock_wait(), "the approval never waited for the trail's head"
        release.set()
        return "released"

    assert run_in_threads(3, work) == ["ok", "ok", "released"]
    assert set(Application.objects.values_list("status", flat=True)) == {S.SUBMITTED, S.APPROVED}
    assert audit.verify().intact
