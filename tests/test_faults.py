"""Faults, measured (issue 14): Redis stopped while applicants submit and officers approve, a
worker SIGKILLed mid-recompute, the database connection dropped mid-request. Each test prints
one `fault ...:` line with its figures; `.ci/faults` runs them.

The Redis here is the test's own (tests/workers.RedisServer, a free loopback port), so stopping
it disturbs no one; the worker is real (tests/fault_worker.py logs every computation it stores).
"""

import collections
import datetime as dt
import os
import signal
import threading
import time

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from accounts.roles import APPLICANT, APPROVER, VERIFIER
from subsidy import jobs
from subsidy.demo.seeding import seed_demo
from subsidy.engine import stale
from subsidy.models import Application, AuditEntry, Notice, Programme
from subsidy.notices import delivery
from subsidy.services import applications as application_services
from subsidy.services import programmes as programme_services
from subsidy.workflow import actions as workflow
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.subsidy.test_notices_worker import read_mails, wait_until
from tests.utils import client_for, complete_application
from tests.workers import RealWorker, RedisServer, restore_broker, use_broker

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

FAULT_APP = "tests.fault_worker"
CHECKLIST = {
    "machines_present": True,
    "machines_new": True,
    "machines_installed": True,
    "not_transferred": True,
}


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fault_worker(tmp_path, transactional_db, own_redis):
    if connection.vendor != "postgresql":
        pytest.skip("a real worker needs PostgreSQL to share the test database")
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    worker = RealWorker(mail_dir, tmp_path, redis_url=own_redis.url)
    worker.store_log = tmp_path / "stored.log"
    worker.store_log.touch()
    worker.extra_env = {"FAULT_STORE_LOG": str(worker.store_log)}
    yield worker
    worker.stop()


def _stored_per_version(worker: RealWorker) -> collections.Counter:
    return collections.Counter(
        tuple(map(int, line.split())) for line in worker.store_log.read_text().splitlines()
    )


def _ready(programme: Programme) -> Application:
    applicant = UserFactory(roles=[APPLICANT])
    application = application_services.application_create(
        by=applicant, programme=programme, company=CompanyFactory(members=[applicant])
    )
    return complete_application(application, applicant)


def _recommended(programme: Programme, verifier) -> Application:
    application = _ready(programme)
    owner = application.company.members.first()
    application = workflow.application_submit(application=application, by=owner)
    application = workflow.application_start_review(application=application, by=verifier)
    application = workflow.application_pass_review(application=application, by=verifier)
    return workflow.application_recommend(application=application, by=verifier, checklist=CHECKLIST)


def test_redis_stopped_while_applicants_submit_and_officers_approve(fault_worker, own_redis):
    """Requests succeed or answer 503 while Redis is down; once it is back and the beat jobs
    have run, every computation and notice caught up: none lost, none doubled."""
    per_phase = 6
    programme = ProgrammeFactory(budget=10_000_000_000)
    verifier = UserFactory(roles=[VERIFIER])
    approver = UserFactory(roles=[APPROVER])
    # Prepared in process (eager): drafts ready to submit and cases ready to approve.
    drafts = [_ready(programme) for _ in range(3 * per_phase)]
    cases = [_recommended(programme, verifier) for _ in range(3 * per_phase)]
    started = timezone.now()

    saved = use_broker(fault_worker.queue, own_redis.url)
    try:
        fault_worker.start(concurrency=2, app_module=FAULT_APP)
        approver_client = client_for(approver)
        statuses: list[int] = []
        submitted: list[int] = []

        def phase(number: int) -> None:
            for n in range(number * per_phase, (number + 1) * per_phase):
                draft, case = drafts[n], cases[n]
                owner = client_for(draft.company.members.first())
                response = owner.post(
                    f"/api/v1/applications/{draft.pk}/transitions/",
                    {"action": "submit"},
                    format="json",
                )
                statuses.append(response.status_code)
                if response.status_code == 200:
                    submitted.append(draft.pk)
                response = approver_client.post(
                    f"/api/v1/applications/{case.pk}/transitions/",
                    {"action": "approve"},
                    format="json",
                )
                statuses.append(response.status_code)

        phase(0)  # Redis up
        own_redis.stop()
        phase(1)  # Redis down
        own_redis.start()
        # Celery's worker may exit when its broker connection drops with a message unacked
        # (kombu's restore of unacked messages fails on the dead connection): its supervisor
        # (docker-compose's restart policy, systemd) starts it again, as here.
        restarts = 0

        def supervise() -> None:
            nonlocal restarts
            if fault_worker.process.poll() is not None:
                restarts += 1
                fault_worker.start(concurrency=2, app_module=FAULT_APP)

        phase(2)  # Redis back

        notices = Notice.objects.filter(created_at__gte=started)
        requeued: set[int] = set()
        beat_runs = 0

        def beat() -> None:
            # The beat jobs, as they run every minute, each time as if minutes had passed.
            nonlocal beat_runs
            beat_runs += 1
            later = timezone.now() + dt.timedelta(minutes=15)
            requeued.update(stale.requeue_stale_computations(now=later))
            for pk in delivery.stuck_notice_ids(now=later):
                jobs.enqueue(jobs.SEND_NOTICE, pk)

        last_beat = 0.0

        def caught_up() -> bool:
            nonlocal last_beat
            supervise()
            if time.monotonic() - last_beat > 5:
                last_beat = time.monotonic()
                beat()
            return (
                not Application.objects.filter(pk__in=submitted, computed_at__isnull=True).exists()
                and not notices.exclude(status="sent").exists()
            )

        wait_until(caught_up, 120, "computations and notices to catch up")
    finally:
        restore_broker(saved)
        jobs.broker_back()

    stored = _stored_per_version(fault_worker)
    lost_computations = Application.objects.filter(
        pk__in=submitted, computed_at__isnull=True
    ).count() + sum(1 for pk in submitted if not any(key[0] == pk for key in stored))
    mails = collections.Counter(
        message["Message-ID"] for message in read_mails(fault_worker.mail_dir)
    )
    expected_ids = {delivery.message_id(notice) for notice in notices}
    lost_notices = len(expected_ids - set(mails))
    doubled = sum(n - 1 for n in stored.values() if n > 1) + sum(
        n - 1 for key, n in mails.items() if key in expected_ids and n > 1
    )
    ok = statuses.count(200)
    unavailable = statuses.count(503)
    print(
        f"\nfault redis-down: requests={len(statuses)} ok={ok} 503={unavailable} "
        f"other={len(statuses) - ok - unavailable} submitted={len(submitted)} "
        f"requeued_by_beat={len(requeued)} beat_runs={beat_runs} notices={len(expected_ids)} "
        f"worker_restarts={restarts} "
        f"lost={lost_computations + lost_notices} doubled={doubled}"
    )
    assert len(statuses) - ok - unavailable == 0, statuses
    assert lost_computations == 0
    assert lost_notices == 0
    assert doubled == 0
    assert requeued, "the computations of the submissions made while Redis was down"


def test_a_worker_killed_mid_recompute_costs_one_chunk(fault_worker, own_redis, settings):
    """A programme of a few thousand applications recomputed in chunks; the whole worker
    SIGKILLed midway and restarted: every application computed once."""
    chunk = 250
    fault_worker.extra_env["RECOMPUTE_CHUNK_SIZE"] = str(chunk)
    settings.RECOMPUTE_CHUNK_SIZE = chunk
    report = seed_demo(applications=3000, compute=False, items_per_application=1)
    programme = Programme.objects.get(pk=report.programme_id)
    superuser = UserFactory(is_superuser=True, is_staff=True)
    open_apps = Application.objects.filter(
        programme=programme, status__in=Application.OPEN_STATUSES
    )
    total = open_apps.count()

    saved = use_broker(fault_worker.queue, own_redis.url)
    try:
        fault_worker.start(concurrency=1, app_module=FAULT_APP)
        started = time.monotonic()
        programme_services.programme_update(
            programme=programme, by=superuser, max_participations=programme.max_participations + 1
        )  # marks every open application stale, queues the recompute

        def computed() -> int:
            return open_apps.filter(computed_at__isnull=False).count()

        wait_until(lambda: computed() >= 2 * chunk, 120, "two chunks stored")
        fault_worker.kill()
        at_kill = computed()
        fault_worker.start(concurrency=1, app_module=FAULT_APP)

        # The restarted worker takes the chunks still queued; the one the dead worker held
        # waits for the visibility timeout, so the beat job finds it.
        last, still = -1, 0
        while still < 3 and time.monotonic() - started < 240:
            now = computed()
            still = still + 1 if now == last else 0
            last = now
            time.sleep(1)
        left_to_beat = total - computed()
        requeued = stale.requeue_stale_computations(
            now=timezone.now() + dt.timedelta(seconds=settings.COMPUTE_REQUEUE_SECONDS + 1)
        )
        wait_until(lambda: computed() == total, 120, "every application computed")
        elapsed = time.monotonic() - started
    finally:
        restore_broker(saved)

    stored = _stored_per_version(fault_worker)
    versions = dict(open_apps.values_list("pk", "data_version"))
    # Lost: an open application whose current version has no stored computation (the database
    # says so: marking stale clears computed_at and moves data_version, and the store writes
    # only while the version it read is current). Doubled: a version the worker stored twice
    # (its log). `seen` counts the final computations in the worker's log: informative only.
    lost = open_apps.filter(computed_at__isnull=True).count()
    seen = sum(1 for pk, version in versions.items() if stored[(pk, version)])
    doubled = sum(n - 1 for n in stored.values() if n > 1)
    print(
        f"\nfault recompute-kill: applications={total} chunk={chunk} computed_at_kill={at_kill} "
        f"left_after_restart={left_to_beat} requeued_by_beat={len(requeued)} "
        f"lost={lost} doubled={doubled} seen_in_worker_log={seen} seconds={elapsed:.1f}"
    )
    assert 0 < at_kill < total
    assert left_to_beat <= chunk, "a kill costs at most the chunk in flight"
    assert lost == 0
    assert doubled == 0


def _terminate_own_backend() -> None:
    """Kill this process's database session from another connection, as a restart or a
    network cut would."""
    pid = connection.connection.info.backend_pid
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    ) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])


def test_the_database_connection_dropped_mid_request_answers_503_and_writes_nothing(
    transactional_db, monkeypatch
):
    if connection.vendor != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    programme = ProgrammeFactory()
    drafts = [_ready(programme) for _ in range(3)]
    real_next_reference = workflow._next_reference

    def cut_then_continue(programme):
        # Inside the submission's transaction: its application row is locked and marked.
        _terminate_own_backend()
        return real_next_reference(programme)

    monkeypatch.setattr(workflow, "_next_reference", cut_then_continue)
    entries_before = AuditEntry.objects.count()
    statuses, bodies = [], []
    for draft in drafts:
        owner = client_for(draft.company.members.first())
        owner.raise_request_exception = False
        response = owner.post(
            f"/api/v1/applications/{draft.pk}/transitions/", {"action": "submit"}, format="json"
        )
        statuses.append(response.status_code)
        bodies.append(response.json())
        connection.close()  # the test's own handle on the dead session

    partial = (
        Application.objects.filter(pk__in=[d.pk for d in drafts])
        .exclude(status="draft", reference__isnull=True)
        .count()
        + AuditEntry.objects.count()
        - entries_before
        + Notice.objects.filter(application__in=drafts).count()
    )
    print(
        f"\nfault pg-drop: requests={len(statuses)} 503={statuses.count(503)} "
        f"other={len(statuses) - statuses.count(503)} partial_writes={partial}"
    )
    assert statuses == [503] * len(drafts), bodies
    assert all(body["code"] == "unavailable" and body["detail"] for body in bodies)
    assert partial == 0


def test_a_frozen_redis_holds_a_request_seconds_not_for_ever(own_redis, db):
    """Redis accepting connections but never answering (SIGSTOP): the publish gives up at its
    socket timeout, and the next ones are not tried for a while; the work is left to beat."""
    saved = use_broker("fault-frozen", own_redis.url)
    jobs.broker_back()
    outcomes: list[tuple[bool, float]] = []

    def enqueue_twice() -> None:
        for pk in (1, 2):
            began = time.monotonic()
            outcomes.append((jobs.enqueue(jobs.COMPUTE_APPLICATION, pk), time.monotonic() - began))

    try:
        assert jobs.enqueue(jobs.COMPUTE_APPLICATION, 0) is True
        os.kill(own_redis.process.pid, signal.SIGSTOP)
        try:
            caller = threading.Thread(target=enqueue_twice, daemon=True)
            caller.start()
            caller.join(timeout=120)
        finally:
            os.kill(own_redis.process.pid, signal.SIGCONT)
    finally:
        restore_broker(saved)
        jobs.broker_back()

    assert not caller.is_alive(), "a publish to a frozen Redis never gave up"
    (first, first_seconds), (second, second_seconds) = outcomes
    print(
        f"\nfault redis-frozen: first_enqueue={first} seconds={first_seconds:.2f} "
        f"next_enqueue={second} seconds={second_seconds:.3f}"
    )
    assert (first, second) == (False, False)
