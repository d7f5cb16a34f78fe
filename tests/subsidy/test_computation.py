"""The refund engine against the database: staleness, claims, snapshots, versions and chunks.

Changes go through the services and the workflow; the computation job is the on_commit
callback they enqueue (Celery runs eagerly in tests), run by the test when it says so.
"""

import datetime as dt
import io
import random
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, connections, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from subsidy.engine import computation, rules
from subsidy.models import Application, AuditEntry, Company, MachineItem, Programme
from subsidy.services import applications as application_services
from subsidy.services import companies as company_services
from subsidy.services import documents as document_services
from subsidy.services import programmes as programme_services
from subsidy.tasks import compute_application
from subsidy.workflow import actions as workflow
from tests.factories import (
    ApplicationFactory,
    CompanyFactory,
    MachineItemFactory,
    ProgrammeFactory,
    UserFactory,
)
from tests.utils import item_data, pdf_upload

S = Application.Status


@pytest.fixture
def jobs(django_capture_on_commit_callbacks):
    """Run the jobs the changes inside the block enqueue, as a worker would after commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def new_application(user, programme, company=None, **item_overrides) -> Application:
    company = company or CompanyFactory(members=[user])
    application = application_services.application_create(
        by=user, programme=programme, company=company
    )
    if item_overrides is not None:
        application_services.item_create(
            application=application, by=user, **item_data(**item_overrides)
        )
    return application


def submit(application: Application, by) -> Application:
    for kind in application.programme.required_documents:
        document_services.document_upload(
            application=application,
            by=by,
            kind=kind,
            file=pdf_upload(),
        )
    return workflow.application_submit(application=application, by=by)


def fresh(application: Application) -> Application:
    application.refresh_from_db()
    return application


def codes(application: Application) -> set[str]:
    return {f["code"] for f in fresh(application).findings}


def item_of(application: Application) -> MachineItem:
    return MachineItem.objects.filter(application=application).order_by("id").first()


# --- Stale until the job has run -----------------------------------------------------------


def _change_item(app, user):
    application_services.item_update(item=item_of(app), by=user, price=200_000_000)


def _add_item(app, user):
    application_services.item_create(application=app, by=user, **item_data())


def _delete_item(app, user):
    application_services.item_delete(item=item_of(app), by=user)


def _upload(app, user):
    document_services.document_upload(application=app, by=user, kind="invoice", file=pdf_upload())


def _company_grows(app, user):
    company_services.company_update(
        company=app.company, by=user, workers=50, investment_value=20 * 10**9
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "discount"),
    [
        (_change_item, 80_000_000),
        (_add_item, 80_000_000),
        (_delete_item, 0),
        (_upload, 40_000_000),
        (_company_grows, 0),  # besar: no rate
    ],
)
def test_results_are_stale_after_a_change_until_the_job_runs(
    applicant, programme, jobs, django_capture_on_commit_callbacks, change, discount
):
    with jobs():
        application = new_application(applicant, programme, price=100_000_000)
    application = fresh(application)
    assert application.computed_at is not None
    assert application.computed_discount == 40_000_000
    version = application.data_version

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        change(application, applicant)
    application = fresh(application)
    assert application.computed_at is None
    assert application.data_version > version
    assert callbacks, "the change enqueued no computation"

    for callback in callbacks:
        callback()
    application = fresh(application)
    assert application.computed_at is not None
    assert application.computed_discount == discount


@pytest.mark.django_db
def test_an_item_change_that_changes_nothing_does_not_make_results_stale(
    applicant, programme, jobs
):
    with jobs():
        application = new_application(applicant, programme, price=100_000_000)
    item = item_of(application)
    version = fresh(application).data_version
    # Outside jobs(): a change that marked the results stale would leave them stale here.
    application_services.item_update(item=item, by=applicant, price=100_000_000)
    application = fresh(application)
    assert application.computed_at is not None
    assert application.data_version == version


# --- Claims ---------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("how_the_first_leaves", ["withdraw", "reject"])
def test_an_invoice_claimed_at_two_companies_belongs_to_the_earlier_submission(
    applicant, other_applicant, verifier, programme, jobs, how_the_first_leaves
):
    with jobs():
        first = new_application(
            applicant, programme, supplier_npwp="01.234.567.8-901.000", invoice_number="INV/001"
        )
        second = new_application(
            other_applicant,
            programme,
            supplier_npwp="012345678901000",
            invoice_number="inv 001",  # the same invoice written differently
        )
        submit(first, applicant)
        submit(second, other_applicant)
    assert "duplicate_invoice" not in codes(first)
    assert fresh(first).computed_discount == 40_000_000
    assert "duplicate_invoice" in codes(second)
    lost = item_of(second)
    assert lost.discount == 0
    assert [f["code"] for f in lost.findings] == ["duplicate_invoice"]
    assert fresh(second).computed_discount == 0
    assert "no_eligible_items" in codes(second)

    with jobs():
        if how_the_first_leaves == "withdraw":
            workflow.application_withdraw(application=first, by=applicant)
        else:
            workflow.application_start_review(application=first, by=verifier)
            workflow.application_reject(application=first, by=verifier, comment="Ganda.")
    # The other application was recomputed and regained the claim.
    second = fresh(second)
    assert second.computed_at is not None
    assert "duplicate_invoice" not in codes(second)
    assert item_of(second).discount == 40_000_000
    assert second.computed_discount == 40_000_000


@pytest.mark.django_db
def test_a_submitted_application_beats_an_older_draft_for_a_claim(
    applicant, other_applicant, programme, jobs
):
    with jobs():
        draft = new_application(applicant, programme, serial_number="MX-5/2026")
        later = new_application(other_applicant, programme, serial_number="mx 5 2026")
    # Two drafts: the lower application id keeps the claim.
    assert "duplicate_serial" not in codes(draft)
    assert "duplicate_serial" in codes(later)

    with jobs():
        submit(later, other_applicant)
    # Drafts come last: the newer but submitted application wins, and the draft is told.
    assert "duplicate_serial" not in codes(later)
    assert "duplicate_serial" in codes(draft)
    assert item_of(draft).discount == 0

    with jobs():
        submit(draft, applicant)
    # Submitting later does not take the claim back.
    assert "duplicate_serial" in codes(draft)
    assert "duplicate_serial" not in codes(later)


@pytest.mark.django_db
def test_inside_one_application_the_lower_item_keeps_the_claim(applicant, programme, jobs):
    with jobs():
        application = new_application(applicant, programme, serial_number="A-1")
        application_services.item_create(
            application=application, by=applicant, **item_data(serial_number="a1")
        )
    first, second = MachineItem.objects.filter(application=application).order_by("id")
    assert (first.discount, first.findings) == (40_000_000, [])
    assert second.discount == 0
    assert [f["code"] for f in second.findings] == ["duplicate_serial"]
    assert fresh(application).computed_discount == 40_000_000


@pytest.mark.django_db
def test_a_machine_refunded_in_an_earlier_programme_cannot_be_claimed_again(applicant, jobs):
    earlier = ProgrammeFactory(year=1990)
    company = CompanyFactory(members=[applicant])
    paid = ApplicationFactory(
        programme=earlier,
        company=company,
        status=S.DISBURSED,
        submitted_at=timezone.now() - dt.timedelta(days=400),
        approved_amount=40_000_000,
        disbursed_amount=40_000_000,
    )
    MachineItemFactory(application=paid, serial_number="XK-77", discount=40_000_000)
    with jobs():
        later = new_application(applicant, ProgrammeFactory(year=1991), serial_number="xk 77")
    assert "duplicate_serial" in codes(later)
    assert item_of(later).discount == 0
    # The disbursed case is not recomputed: its results are what was paid.
    assert fresh(paid).findings == []


@pytest.mark.django_db
def test_changing_a_key_recomputes_the_rival_on_both_sides(
    applicant, other_applicant, programme, jobs
):
    with jobs():
        holder = new_application(applicant, programme, serial_number="S-1")
        rival = new_application(other_applicant, programme, serial_number="S-2")
        new_rival = new_application(applicant, programme, serial_number="S-3")
    assert not {"duplicate_serial"} & (codes(holder) | codes(rival) | codes(new_rival))

    with jobs():
        application_services.item_update(
            item=item_of(rival), by=other_applicant, serial_number="s 1"
        )
    assert "duplicate_serial" in codes(rival)
    assert "duplicate_serial" not in codes(holder)

    # The holder moves to S-3: the old rival regains S-1, the new one (id-wise later) loses S-3.
    with jobs():
        application_services.item_update(item=item_of(holder), by=applicant, serial_number="S-3")
    assert "duplicate_serial" not in codes(rival)
    assert "duplicate_serial" not in codes(holder)
    assert "duplicate_serial" in codes(new_rival)

    with jobs():
        application_services.item_delete(item=item_of(holder), by=applicant)
    assert "duplicate_serial" not in codes(new_rival)


# --- Participations ------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("earlier_disbursed", "limit", "reached"),
    [(0, 1, False), (1, 1, True), (1, 2, False), (2, 2, True), (3, 2, True), (5, None, False)],
)
def test_participation_limit_counts_disbursed_applications_of_earlier_programmes(
    applicant, jobs, earlier_disbursed, limit, reached
):
    company = CompanyFactory(members=[applicant])
    # Years below the factory's (2000 to 2100), so none collides with another programme.
    for n in range(earlier_disbursed):
        ApplicationFactory(
            programme=ProgrammeFactory(year=1900 + n), company=company, status=S.DISBURSED
        )
    # Neither approved-but-unpaid nor later programmes count.
    ApplicationFactory(programme=ProgrammeFactory(year=1950), company=company, status=S.APPROVED)
    ApplicationFactory(programme=ProgrammeFactory(year=1999), company=company, status=S.DISBURSED)
    programme = ProgrammeFactory(year=1980, max_participations=limit)
    with jobs():
        application = new_application(applicant, programme, company=company)
    application = fresh(application)
    assert ("participation_limit_reached" in codes(application)) is reached
    assert application.breakdown["company"]["earlier_participations"] == earlier_disbursed


@pytest.mark.django_db
def test_moving_an_earlier_programme_after_this_one_recomputes_the_count(
    applicant, superuser, jobs
):
    company = CompanyFactory(members=[applicant])
    earlier = ProgrammeFactory(year=2001)
    ApplicationFactory(programme=earlier, company=company, status=S.DISBURSED)
    with jobs():
        application = new_application(
            applicant, ProgrammeFactory(year=2002, max_participations=1), company=company
        )
    assert "participation_limit_reached" in codes(application)
    with jobs():
        programme_services.programme_update(programme=earlier, by=superuser, year=2003)
    assert "participation_limit_reached" not in codes(application)


# --- The company snapshot ---------------------------------------------------------------------


@pytest.mark.django_db
def test_company_edits_change_a_draft_but_not_a_submitted_application(
    applicant, company, programme, jobs, django_capture_on_commit_callbacks
):
    with jobs():
        application = new_application(applicant, programme, company=company)
        company_services.company_update(company=company, by=applicant, workers=25)  # still menengah
    assert fresh(application).scale == rules.MENENGAH
    with jobs():
        submit(application, applicant)
    submitted = fresh(application)
    assert submitted.company_snapshot["workers"] == 25
    assert submitted.computed_discount == 40_000_000

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        company_services.company_update(
            company=company, by=applicant, workers=500, investment_value=50 * 10**9, kbli="47111"
        )
    after = fresh(application)
    assert after.computed_at == submitted.computed_at  # not made stale
    assert after.data_version == submitted.data_version
    assert callbacks == []

    compute_application(application.pk)  # even if a job runs anyway
    after = fresh(application)
    assert after.scale == rules.MENENGAH
    assert after.computed_discount == 40_000_000
    assert not {"company_not_ikm", "kbli_not_manufacturing"} & codes(after)


@pytest.mark.django_db
def test_when_a_revision_is_requested_company_edits_count_again(
    applicant, company, programme, verifier, jobs
):
    with jobs():
        application = new_application(applicant, programme, company=company)
        submit(application, applicant)
        workflow.application_start_review(application=application, by=verifier)
        workflow.application_request_revision(
            application=application, by=verifier, comment="Perbarui data tenaga kerja."
        )
        company_services.company_update(
            company=company, by=applicant, workers=500, investment_value=50 * 10**9
        )
    application = fresh(application)
    assert application.computed_at is not None
    assert application.scale == rules.BESAR
    assert "company_not_ikm" in codes(application)
    # Resubmitting takes a new snapshot, which the computation then keeps using.
    with jobs():
        workflow.application_submit(application=application, by=applicant)
    application = fresh(application)
    assert application.company_snapshot["workers"] == 500
    assert application.scale == rules.BESAR


# --- Versions: idempotent, and never an older result over a newer change -------------------


@pytest.mark.django_db
def test_computing_twice_gives_the_same_results_and_bumps_nothing(
    applicant, other_applicant, programme, jobs, django_capture_on_commit_callbacks
):
    with jobs():
        application = new_application(applicant, programme, serial_number="DUP-1")
        application_services.item_create(
            application=application, by=applicant, **item_data(is_new=False)
        )
        rival = new_application(other_applicant, programme, serial_number="dup 1")
    application = fresh(application)
    items_before = list(MachineItem.objects.filter(application=application).values())
    rival_before = fresh(rival).data_version
    audit_before = AuditEntry.objects.count()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        compute_application(application.pk)
        compute_application(application.pk)
    again = fresh(application)
    for field in (
        "scale",
        "eligible_total",
        "computed_discount",
        "findings",
        "breakdown",
        "data_version",
        "updated_at",
        "status",
    ):
        assert getattr(again, field) == getattr(application, field), field
    assert again.computed_at is not None
    assert list(MachineItem.objects.filter(application=application).values()) == items_before
    assert fresh(rival).data_version == rival_before
    assert AuditEntry.objects.count() == audit_before
    assert callbacks == []


@pytest.mark.django_db
def test_results_read_before_a_newer_change_are_not_stored(applicant, programme, monkeypatch):
    application = new_application(applicant, programme, price=100_000_000)
    original = computation._earlier_participations

    def change_meanwhile(apps):
        # Another transaction changes the application after the job read it.
        application_services.item_update(item=item_of(application), by=applicant, price=300_000_000)
        return original(apps)

    monkeypatch.setattr(computation, "_earlier_participations", change_meanwhile)
    assert computation.compute_applications([application.pk]) == 0
    stale = fresh(application)
    assert stale.computed_at is None
    assert stale.computed_discount == 0  # nothing of the older reading was written
    assert item_of(application).discount == 0

    monkeypatch.setattr(computation, "_earlier_participations", original)
    assert computation.compute_applications([application.pk]) == 1
    assert fresh(application).computed_discount == 120_000_000


@pytest.mark.django_db
def test_a_case_decided_while_its_job_ran_keeps_its_results(applicant, programme, monkeypatch):
    application = new_application(applicant, programme, price=100_000_000)
    computation.compute_applications([application.pk])
    decided = fresh(application)
    Application.objects.filter(pk=application.pk).update(computed_discount=123)  # marker
    original = computation._earlier_participations

    def decide_meanwhile(apps):
        Application.objects.filter(pk=application.pk).update(status=S.APPROVED, approved_amount=123)
        return original(apps)

    monkeypatch.setattr(computation, "_earlier_participations", decide_meanwhile)
    assert computation.compute_applications([application.pk]) == 0
    after = fresh(application)
    assert after.computed_discount == after.approved_amount == 123
    assert after.computed_at == decided.computed_at


@pytest.mark.django_db
def test_only_open_applications_are_computed(applicant, programme):
    ids = {}
    for status in S.values:
        application = new_application(applicant, programme, price=100_000_000)
        Application.objects.filter(pk=application.pk).update(status=status)
        ids[status] = application.pk
    assert computation.compute_applications(ids.values()) == len(Application.OPEN_STATUSES)
    computed = set(
        Application.objects.filter(computed_at__isnull=False).values_list("status", flat=True)
    )
    assert computed == set(Application.OPEN_STATUSES)


# --- The breakdown ----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("cap", [300_000_000, 50_000_000])
def test_the_breakdown_can_be_recomputed_by_hand(applicant, jobs, cap):
    programme = ProgrammeFactory(
        max_refund_per_company=cap,
        min_refund=1_000_000,
        rates={
            ("kecil", "domestic"): "0.3333",
            ("kecil", "imported"): "0.2517",
            ("menengah", "domestic"): "0.4000",
            ("menengah", "imported"): "0.2500",
        },
    )
    with jobs():
        application = new_application(applicant, programme, price=123_456_789)
        for overrides in (
            {"price": 98_765_431, "origin": "imported"},
            {"price": 7, "origin": "domestic"},
            {"price": 55_555_555, "payment_method": "cash"},  # excluded
            {"price": 10**13, "origin": "imported"},
        ):
            application_services.item_create(
                application=application, by=applicant, **item_data(**overrides)
            )
    application = fresh(application)
    breakdown = application.breakdown
    rates = {(r["scale"], r["origin"]): Decimal(r["rate"]) for r in breakdown["programme"]["rates"]}
    items = {item.pk: item for item in MachineItem.objects.filter(application=application)}
    assert [row["id"] for row in breakdown["items"]] == sorted(items)
    total = 0
    for row in breakdown["items"]:
        item = items[row["id"]]
        rate = rates[(breakdown["company"]["scale"], row["origin"])]
        assert Decimal(row["rate"]) == rate == item.rate
        assert row["price"] == item.price
        if row["exclusions"]:
            assert row["discount"] == item.discount == 0
        else:
            by_hand = int((Decimal(row["price"]) * rate).to_integral_value(rounding="ROUND_FLOOR"))
            assert row["discount"] == item.discount == by_hand
        total += row["discount"]
    assert [row["exclusions"] for row in breakdown["items"]].count(["payment_not_via_bank"]) == 1
    assert breakdown["eligible_total"] == application.eligible_total == total
    assert breakdown["max_refund_per_company"] == cap
    assert breakdown["cap_applied"] is (total > cap)
    assert breakdown["computed_discount"] == application.computed_discount == min(total, cap)


# --- A programme in chunks --------------------------------------------------------------------


def _bulk_programme(count: int) -> Programme:
    """count open applications of one 100,000,000 item each, inserted in bulk."""
    programme = ProgrammeFactory()
    user = UserFactory(roles=["applicant"])
    companies = Company.objects.bulk_create(
        Company(
            name=f"CV Bulk {n}",
            nib=f"{7000000000000 + n}",
            npwp=f"{20000000000000 + n:015d}",
            kbli="25120",
            workers=12,
            investment_value=500_000_000,
        )
        for n in range(count)
    )
    apps = Application.objects.bulk_create(
        Application(programme=programme, company=company, created_by=user) for company in companies
    )
    today = timezone.localdate()
    MachineItem.objects.bulk_create(
        MachineItem(
            application=app,
            description="Mesin las",
            serial_number=f"BULK-{app.pk}",
            serial_key=rules.serial_key(f"BULK-{app.pk}"),
            origin="domestic",
            supplier_name="PT Las",
            supplier_npwp="012345678901000",
            invoice_number=f"B/{app.pk}",
            invoice_key=rules.invoice_key("012345678901000", f"B/{app.pk}"),
            tax_invoice_number=f"T/{app.pk}",
            invoice_date=today - dt.timedelta(days=30),
            price=100_000_000,
            payment_method="bank_transfer",
            installed_on=today - dt.timedelta(days=10),
        )
        for app in apps
    )
    return programme


@pytest.mark.django_db
def test_recompute_programme_costs_queries_per_chunk_not_per_application(monkeypatch):
    programme = _bulk_programme(2500)

    def queries_with_chunk(size: int) -> int:
        monkeypatch.setattr(computation, "CHUNK", size)
        Application.objects.filter(programme=programme).update(
            computed_at=None, data_version=F("data_version") + 1
        )
        with CaptureQueriesContext(connection) as captured:
            assert computation.recompute_programme(programme.pk) == 2500
        return len(captured.captured_queries)

    one, three, five = queries_with_chunk(2500), queries_with_chunk(1000), queries_with_chunk(500)
    per_chunk = (three - one) // 2
    assert three - one == five - three == 2 * per_chunk  # linear in chunks
    # A few reads, the store and its transaction: about 17 on PostgreSQL, 13 on SQLite.
    assert per_chunk <= 20
    assert one <= per_chunk + 5
    assert not Application.objects.filter(programme=programme, computed_at__isnull=True).exists()
    assert set(
        Application.objects.filter(programme=programme).values_list("computed_discount", flat=True)
    ) == {40_000_000}
    assert set(
        MachineItem.objects.filter(application__programme=programme).values_list("discount", "rate")
    ) == {(40_000_000, Decimal("0.4000"))}


# --- Concurrency (PostgreSQL) ------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_computations_and_a_change_end_with_results_for_the_latest_data(monkeypatch):
    applicant = UserFactory(roles=["applicant"])
    company = CompanyFactory(members=[applicant])
    application = application_services.application_create(
        by=applicant, programme=ProgrammeFactory(), company=company
    )
    item = application_services.item_create(
        application=application, by=applicant, **item_data(price=100_000_000)
    )
    prices = [100_000_000 + n * 1_000_000 for n in range(1, 9)]
    # A slow read between loading the data and storing the results widens the window in
    # which a change lands: a computation that stored what it read regardless would be caught.
    read = computation._earlier_participations

    def slow_read(apps):
        time.sleep(random.uniform(0, 0.03))
        return read(apps)

    monkeypatch.setattr(computation, "_earlier_participations", slow_read)
    computers = 4
    barrier = threading.Barrier(computers + 2)
    changed = threading.Event()
    failures: list[BaseException] = []
    seen: list[tuple] = []

    def compute() -> None:
        rounds = 0
        while not changed.is_set() or rounds < 3:
            computation.compute_applications([application.pk])
            rounds += 1

    def change() -> None:
        try:
            for price in prices:
                application_services.item_update(item=item, by=applicant, price=price)
                time.sleep(random.uniform(0, 0.03))
        finally:
            changed.set()

    def watch() -> None:
        # One statement, one snapshot: results not marked stale are those of the item's price.
        while not changed.is_set():
            seen.extend(
                Application.objects.filter(pk=application.pk, computed_at__isnull=False)
                .values_list("computed_discount", "items__price")
                .order_by()
            )

    def run(work) -> None:
        try:
            barrier.wait(timeout=30)
            work()
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(compute,)) for _ in range(computers)]
    threads += [
        threading.Thread(target=run, args=(change,)),
        threading.Thread(target=run, args=(watch,)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    assert failures == []
    assert seen, "the watcher never saw fresh results"
    assert [(d, p) for d, p in seen if d != p * 4 // 10] == []

    expected = prices[-1] * 4 // 10
    application = fresh(application)
    # Whatever order the threads ran in, results that are not stale are the latest ones.
    if application.computed_at is not None:
        assert application.computed_discount == expected
    computation.compute_applications([application.pk])
    application = fresh(application)
    assert application.computed_at is not None
    assert application.computed_discount == application.eligible_total == expected
    item.refresh_from_db()
    assert (item.price, item.discount) == (prices[-1], expected)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_store_that_meets_a_row_held_by_a_transaction_waits_its_turn_and_stores():
    applicant = UserFactory(roles=["applicant"])
    application = new_application(applicant, ProgrammeFactory(), price=100_000_000)
    # Its computation ran at commit; results are stored only while stale, as a change leaves
    # them.
    Application.objects.filter(pk=application.pk).update(computed_at=None)
    held, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def hold() -> None:
        # A transition, say: it locks the row longer than a store waits, changes no data.
        try:
            with transaction.atomic():
                Application.objects.select_for_update().get(pk=application.pk)
                held.set()
                release.wait(timeout=30)
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    assert held.wait(timeout=30)
    timer = threading.Timer(1.0, release.set)  # past STORE_LOCK_TIMEOUT, within the retries
    timer.start()
    try:
        assert computation.compute_applications([application.pk]) == 1
    finally:
        release.set()
        holder.join(timeout=30)
        timer.cancel()
    assert failures == []
    assert fresh(application).computed_at is not None


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_store_inside_a_callers_transaction_leaves_its_lock_timeout_alone(applicant, programme):
    application = new_application(applicant, programme)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '7s'")
        computation.compute_applications([application.pk])
        cursor.execute("SHOW lock_timeout")
        assert cursor.fetchone()[0] == "7s"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_pipelined_recompute_stores_what_the_sequential_one_does():
    """Outside a transaction on PostgreSQL, chunks are read on a second connection while the
    previous one is stored; the results must be exactly those of one chunk after another."""
    from django.core.management import call_command

    from subsidy.demo.preset import ensure_preset_programme

    call_command("seed_demo", applications=2 * computation.CHUNK + 150, stdout=io.StringIO())
    programme = ensure_preset_programme()
    open_apps = Application.objects.filter(
        programme=programme, status__in=Application.OPEN_STATUSES
    )
    columns = ("id", "eligible_total", "computed_discount", "findings", "breakdown", "scale")

    def stale() -> None:
        open_apps.update(computed_at=None, data_version=F("data_version") + 1)

    stale()
    assert computation.recompute_programme(programme.pk) == open_apps.count()
    pipelined = list(open_apps.order_by("id").values_list(*columns))
    items = list(
        MachineItem.objects.filter(application__in=open_apps)
        .order_by("id")
        .values_list("id", "rate", "discount", "findings")
    )

    stale()
    with transaction.atomic():  # inside a transaction: the sequential path
        assert computation.recompute_programme(programme.pk) == open_apps.count()
    assert list(open_apps.order_by("id").values_list(*columns)) == pipelined
    assert (
        list(
            MachineItem.objects.filter(application__in=open_apps)
            .order_by("id")
            .values_list("id", "rate", "discount", "findings")
        )
        == items
    )
    assert not open_apps.filter(computed_at__isnull=True).exists()
