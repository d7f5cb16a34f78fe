"""Background exports on the officers' pages: asked for with the workbench's filters, a progress
bar polled by htmx while the job runs, the file while it is kept, the reason when it failed."""

import datetime as dt
import io

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from subsidy.models import Application, Export
from tests.subsidy.test_api_permissions import in_state

S = Application.Status
NEW = reverse("office:export_new")
EXPORTS = reverse("office:exports")
pytestmark = pytest.mark.django_db


@pytest.fixture
def cases(company, other_company):
    return [
        in_state(company, S.SUBMITTED),
        in_state(other_company, S.SUBMITTED),
        in_state(other_company, S.APPROVED),
    ]


def _ask(client, capture, query: str, kind: str = "applications", fmt: str = "xlsx"):
    with capture(execute=True):
        return client.post(NEW, {"query": query, "kind": kind, "format": fmt})


def test_an_export_keeps_the_workbenchs_filters_and_leaves_out_page_and_sort(
    client, auditor, cases, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    programme = cases[0].programme_id
    query = f"status=submitted&programme={programme}&has_findings=false&sort=-days&page=2&search="

    response = _ask(client, django_capture_on_commit_callbacks, query)

    assert response.status_code == 302
    assert response["Location"] == EXPORTS
    export = Export.objects.get()
    assert export.created_by == auditor
    assert (export.kind, export.format) == ("applications", "xlsx")
    assert export.filters == {
        "status": ["submitted"],
        "programme": programme,
        "has_findings": False,
    }
    assert export.status == "done"
    assert export.rows == 1


def test_the_exports_page_shows_the_bar_the_download_and_the_record(
    client, auditor, cases, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    _ask(client, django_capture_on_commit_callbacks, "status=submitted")
    export = Export.objects.get()

    page = client.get(EXPORTS).content.decode()

    assert '<progress max="100" value="100"' in page
    assert reverse("office:export_download", args=[export.pk]) in page
    assert export.sha256 in page
    assert "status=submitted" in page
    # Done: the status cell no longer polls.
    assert 'hx-trigger="every 1s"' not in page

    download = client.get(reverse("office:export_download", args=[export.pk]))
    content = b"".join(download.streaming_content)
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    assert workbook.active.max_row == 1 + 2
    assert download["Content-Disposition"].startswith("attachment;")


def test_a_running_export_polls_its_status_every_second_until_done(
    client, verifier, cases, django_capture_on_commit_callbacks
):
    client.force_login(verifier)
    _ask(client, django_capture_on_commit_callbacks, "")
    export = Export.objects.get()
    Export.objects.filter(pk=export.pk).update(status="running", progress=37)
    status_url = reverse("office:export_status", args=[export.pk])

    page = client.get(EXPORTS).content.decode()
    assert f'hx-get="{status_url}" hx-trigger="every 1s"' in page
    assert '<progress max="100" value="37"' in page
    fragment = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'value="37"' in fragment
    assert "<html" not in fragment

    Export.objects.filter(pk=export.pk).update(status="done", progress=100)
    fragment = client.get(status_url, HTTP_HX_REQUEST="true").content.decode()
    assert 'value="100"' in fragment
    assert "hx-trigger" not in fragment


def test_a_failed_export_shows_its_reason(
    client, auditor, cases, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    _ask(client, django_capture_on_commit_callbacks, "")
    export = Export.objects.get()
    Export.objects.filter(pk=export.pk).update(
        status="failed", failure="worker_lost", sha256="", progress=40
    )

    page = client.get(EXPORTS).content.decode()
    assert str(Export.Failure.WORKER_LOST.label) in page
    assert reverse("office:export_download", args=[export.pk]) not in page
    response = client.get(reverse("office:export_download", args=[export.pk]))
    assert response.status_code == 409


def test_after_seven_days_the_page_says_expired_and_download_answers_410(
    client, auditor, cases, django_capture_on_commit_callbacks
):
    client.force_login(auditor)
    _ask(client, django_capture_on_commit_callbacks, "")
    export = Export.objects.get()
    Export.objects.filter(pk=export.pk).update(finished_at=timezone.now() - dt.timedelta(days=8))

    response = client.get(reverse("office:export_download", args=[export.pk]))
    assert response.status_code == 410
    assert "7" in response.content.decode()
    page = client.get(EXPORTS).content.decode()
    assert reverse("office:export_download", args=[export.pk]) not in page


def test_a_bad_filter_is_refused_with_its_message_and_nothing_recorded(
    client, verifier, cases, django_capture_on_commit_callbacks
):
    client.force_login(verifier)

    response = _ask(client, django_capture_on_commit_callbacks, "kbli_division=2")

    assert response.status_code == 302
    assert not Export.objects.exists()
    page = client.get(EXPORTS).content.decode()
    assert "kbli_division" in page
    assert "alert-danger" in page


def test_staff_see_their_own_exports_and_auditors_everyones(
    client, verifier, approver, auditor, cases, django_capture_on_commit_callbacks
):
    client.force_login(verifier)
    _ask(client, django_capture_on_commit_callbacks, "", fmt="csv")
    mine = Export.objects.get()
    client.force_login(approver)
    _ask(client, django_capture_on_commit_callbacks, "", kind="items")
    theirs = Export.objects.exclude(pk=mine.pk).get()

    client.force_login(verifier)
    page = client.get(EXPORTS).content.decode()
    assert f"#{mine.pk} ·" in page
    assert f"#{theirs.pk} ·" not in page
    assert client.get(reverse("office:export_download", args=[theirs.pk])).status_code == 404
    assert client.get(reverse("office:export_status", args=[theirs.pk])).status_code == 404

    client.force_login(auditor)
    page = client.get(EXPORTS).content.decode()
    assert f"#{mine.pk} ·" in page
    assert f"#{theirs.pk} ·" in page
    assert verifier.username in page
    assert approver.username in page


def test_an_applicant_has_no_exports_page(client, applicant):
    client.force_login(applicant)

    assert client.get(EXPORTS).status_code == 404
    assert (
        client.post(NEW, {"query": "", "kind": "applications", "format": "csv"}).status_code == 404
    )
    assert not Export.objects.exists()


def test_the_workbench_offers_the_xlsx_export_with_its_current_filters(client, auditor, cases):
    client.force_login(auditor)

    page = client.get(reverse("office:workbench"), {"status": "submitted", "page": "1"})

    body = page.content.decode()
    assert f'action="{NEW}"' in body
    assert 'name="query" value="status=submitted"' in body
    assert 'name="kind" value="applications"' in body
    assert 'name="kind" value="items"' in body
