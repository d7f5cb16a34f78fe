"""The bank's CSV uploaded twice at once on PostgreSQL: every case is disbursed exactly once."""

import io

import pytest

from accounts.roles import FINANCE
from subsidy.models import Application, AuditEntry
from subsidy.services.transfers import transfers_record_csv
from tests.factories import ProgrammeFactory, UserFactory
from tests.subsidy.test_workflow_concurrency import run_in_threads
from tests.web.test_office_finance import approved

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

S = Application.Status
THREADS = 4


def test_parallel_uploads_of_one_file_record_each_transfer_once():
    finance = UserFactory(username="fajar", roles=[FINANCE])
    programme = ProgrammeFactory()
    cases = [approved(programme) for _ in range(5)]
    text = "reference,transfer_reference,transferred_on\n" + "".join(
        f"{case.reference},TRX-{number},2026-01-05\n" for number, case in enumerate(cases)
    )

    results = run_in_threads(
        THREADS,
        lambda _index: transfers_record_csv(file=io.BytesIO(text.encode()), by=finance),
    )

    recorded = [row.reference for rows in results for row in rows if row.recorded]
    assert sorted(recorded) == sorted(case.reference for case in cases)
    refused = [row for rows in results for row in rows if not row.recorded]
    assert len(refused) == len(cases) * (THREADS - 1)
    for case in cases:
        case.refresh_from_db()
        assert case.status == S.DISBURSED and case.disbursed_amount == case.approved_amount
    disbursals = AuditEntry.objects.filter(
        action="disburse", application_id__in=[c.pk for c in cases]
    )
    assert disbursals.count() == len(cases)
