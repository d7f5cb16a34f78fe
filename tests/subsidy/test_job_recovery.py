"""Jobs that cannot be queued, or whose worker died, are found again: the broker down after a
commit, stale computations queued again by the beat job, a programme recomputed in chunks, and
the visibility timeout kept above every task's time limit."""

import datetime as dt
import logging

import pytest
from django.core.checks import Error
from django.db.models import F
from django.utils import timezone

from accounts.roles import APPLICANT
from config.celery_app import app
from subsidy import checks, jobs, tasks
from subsidy.engine import computation, stale
from subsidy.models import Application
from subsidy.services import applications as application_services
from subsidy.services import programmes as programme_services
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.utils import client_for, complete_application
from tests.workers import _reset_connections

# Nothing listens on the discard port: connecting is refused at once.
DEAD_BROKER = "redis://127.0.0.1:9/0"


@pytest.fixture
def broker_down():
    saved = {
        key: app.conf.get(key) for key in ("broker_url", "result_backend", "task_always_eager")
    }
    app.conf.update(broker_url=DEAD_BROKER, result_backend=DEAD_BROKER, task_always_eager=False)
    _reset_connections()
    jobs.broker_back()
    yield
    app.conf.update(**saved)
    _reset_connections()
    jobs.broker_back()


def _ready_application(programme=None) -> Application:
    applicant = UserFactory(roles=[APPLICANT])
    application = application_services.application_create(
        by=applicant,
        programme=programme or ProgrammeFactory(),
        company=CompanyFactory(members=[applicant]),
    )
    application = complete_application(application, applicant)
    # Its computation ran after commit in production; the test's transaction never commits.
    computation.compute_applications([application.pk])
    application.refresh_from_db()
    return application


def _stale(*applications: Application, queued_ago: int | None) -> None:
    queued = None if queued_ago is None else timezone.now() - dt.timedelta(seconds=queued_ago)
    Application.objects.filter(pk__in=[a.pk for a in applications]).update(
        computed_at=None, data_version=F("data_version") + 1, compute_queued_at=queued
    )


def test_with_the_broker_down_a_committed_submission_answers_its_success(
    db, broker_down, django_capture_on_commit_callbacks, caplog
):
    application = _ready_application()
    owner = client_for(application.company.members.first())

    with caplog.at_level(logging.ERROR, logger="subsidy.jobs"):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            response = owner.post(
                f"/api/v1/applications/{application.pk}/transitions/",
                {"action": "submit"},
                format="json",
            )

    assert response.status_code == 200, response.content
    assert callbacks, "the submission queued its jobs after commit"
    application.refresh_from_db()
    assert application.status == "submitted"
    assert application.reference
    # Its computation could not be queued: left stale, and findable by the beat job.
    assert application.computed_at is None
    assert application.compute_queued_at is not None
    assert any("could not queue" in record.message for record in caplog.records)


def test_enqueue_says_false_when_the_broker_refuses_then_leaves_it_alone_a_while(
    db, broker_down, monkeypatch
):
    assert jobs.enqueue(jobs.COMPUTE_APPLICATION, 1) is False

    def must_not_publish(*args):
        raise AssertionError("published while the broker was known to be down")

    monkeypatch.setattr(app.tasks[jobs.COMPUTE_APPLICATION], "delay", must_not_publish)
    assert jobs.enqueue(jobs.COMPUTE_APPLICATION, 2) is False
    jobs.broker_back()
    with pytest.raises(AssertionError, match="published"):
        jobs.enqueue(jobs.COMPUTE_APPLICATION, 3)


def test_the_beat_job_queues_again_only_what_stayed_stale_past_the_threshold(db, settings):
    settings.COMPUTE_REQUEUE_SECONDS = 180
    programme = ProgrammeFactory()
    waiting, lost, never_queued, fresh = (_ready_application(programme) for _ in range(4))
    _stale(waiting, queued_ago=10)
    _stale(lost, queued_ago=181)
    _stale(never_queued, queued_ago=None)
    fresh.refresh_from_db()
    assert fresh.computed_at is not None

    requeued = stale.requeue_stale_computations()  # eager here: computed at once

    assert requeued == sorted([lost.pk, never_queued.pk])
    states = dict(Application.objects.values_list("pk", "computed_at"))
    assert states[lost.pk] is not None
    assert states[never_queued.pk] is not None
    assert states[waiting.pk] is None
    # Later, the waiting one's turn comes too; nothing is left.
    later = timezone.now() + dt.timedelta(seconds=181)
    assert stale.requeue_stale_computations(now=later) == [waiting.pk]
    assert stale.requeue_stale_computations(now=later) == []
    assert not Application.objects.filter(computed_at__isnull=True).exists()


def test_what_the_broker_refused_stays_due_for_the_next_beat(db, broker_down, settings):
    programme = ProgrammeFactory()
    lost = _ready_application(programme)
    _stale(lost, queued_ago=settings.COMPUTE_REQUEUE_SECONDS + 1)
    queued_at = Application.objects.get(pk=lost.pk).compute_queued_at

    assert stale.requeue_stale_computations() == []

    assert Application.objects.get(pk=lost.pk).compute_queued_at == queued_at


def test_a_programme_recompute_is_queued_in_chunks_that_each_store_their_own(
    db, settings, superuser, monkeypatch
):
    settings.RECOMPUTE_CHUNK_SIZE = 2
    programme = ProgrammeFactory()
    applications = [_ready_application(programme) for _ in range(5)]
    queued: list[list[int]] = []
    real_enqueue = jobs.enqueue

    def recording(task_name, *args):
        if task_name == jobs.COMPUTE_CHUNK:
            queued.append(list(args[0]))
        return real_enqueue(task_name, *args)

    monkeypatch.setattr(jobs, "enqueue", recording)
    _stale(*applications, queued_ago=0)

    assert tasks.recompute_programme(programme.pk) == 3

    ids = sorted(a.pk for a in applications)
    assert queued == [ids[0:2], ids[2:4], ids[4:5]]
    assert not Application.objects.filter(pk__in=ids, computed_at__isnull=True).exists()


def test_a_chunk_delivered_again_computes_only_what_is_still_stale(db):
    programme = ProgrammeFactory()
    done, left = _ready_application(programme), _ready_application(programme)
    _stale(left, queued_ago=0)

    assert tasks.compute_chunk([done.pk, left.pk]) == 1
    assert tasks.compute_chunk([done.pk, left.pk]) == 0


def test_the_programme_change_marks_when_its_recompute_was_queued(db, superuser):
    programme = ProgrammeFactory()
    application = _ready_application(programme)
    before = timezone.now()

    programme_services.programme_update(
        programme=programme, by=superuser, max_participations=programme.max_participations + 1
    )

    application.refresh_from_db()
    assert application.compute_queued_at is not None
    assert application.compute_queued_at >= before


def test_the_visibility_timeout_is_checked_against_every_task_time_limit(monkeypatch):
    assert checks.visibility_timeout_above_task_limits() == []
    monkeypatch.setitem(app.conf.broker_transport_options, "visibility_timeout", 3000)

    [error] = checks.visibility_timeout_above_task_limits()

    assert isinstance(error, Error)
    assert error.id == "subsidy.E001"
    assert "subsidy.tasks.run_export" in error.msg


def test_the_visibility_timeout_is_above_the_longest_task_time_limit():
    timeout = app.conf.broker_transport_options["visibility_timeout"]
    assert timeout > max(task.time_limit or 0 for task in app.tasks.values())
