"""The computation job on a real worker (Redis broker, PostgreSQL), as in production."""

import time

import pytest

from subsidy.models import Application
from subsidy.services import applications as application_services
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.utils import item_data

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _wait_computed(application_id: int, timeout: float = 60) -> Application:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        application = Application.objects.get(pk=application_id)
        if application.computed_at is not None:
            return application
        time.sleep(0.2)
    raise AssertionError("the worker did not compute the application in time")


def test_two_quick_changes_end_with_results_for_the_latest_state(real_worker):
    real_worker.start(concurrency=2)
    applicant = UserFactory(roles=["applicant"])
    company = CompanyFactory(members=[applicant])
    application = application_services.application_create(
        by=applicant, programme=ProgrammeFactory(), company=company
    )
    item = application_services.item_create(
        application=application, by=applicant, **item_data(price=100_000_000)
    )
    # Two changes in quick succession: both jobs race on two worker processes.
    application_services.item_update(item=item, by=applicant, price=200_000_000)
    application_services.item_update(item=item, by=applicant, price=300_000_000)

    application = _wait_computed(application.pk)
    time.sleep(1)  # let any straggling older job finish; it must not overwrite
    application.refresh_from_db()
    assert application.computed_at is not None
    assert application.eligible_total == 120_000_000
    assert application.computed_discount == 120_000_000
