"""The "Download dossier" button on the officers' case page and the applicant's application."""

import io
import zipfile

import pytest
from django.urls import reverse

from subsidy.models import Application, AuditEntry
from tests.web.office_cases import submitted_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def submitted(django_capture_on_commit_callbacks, programme, company, applicant) -> Application:
    return submitted_case(
        lambda: django_capture_on_commit_callbacks(execute=True), programme, company, applicant
    )


def dossier_url(application: Application) -> str:
    return reverse("applicant:application_dossier", args=[application.pk])


def _zip(response) -> zipfile.ZipFile:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_the_case_page_offers_the_dossier_and_the_auditor_downloads_it(client, auditor, submitted):
    client.force_login(auditor)

    body = client.get(reverse("office:case", args=[submitted.pk])).text

    assert f'href="{dossier_url(submitted)}"' in body
    assert "Unduh dosir (ZIP)" in body
    archive = _zip(client.get(dossier_url(submitted)))
    assert {"summary.pdf", "breakdown.csv", "history.json", "manifest.csv"} <= set(
        archive.namelist()
    )
    history = client.get(reverse("office:case", args=[submitted.pk])).text
    assert "Dosir permohonan diunduh" in history


def test_the_applicant_downloads_the_dossier_from_the_application_page(
    client, applicant, submitted
):
    client.force_login(applicant)

    body = client.get(reverse("applicant:application", args=[submitted.pk])).text

    assert f'href="{dossier_url(submitted)}"' in body
    response = client.get(dossier_url(submitted))
    assert response["Content-Disposition"] == (
        f'attachment; filename="dossier-{submitted.reference}.zip"'
    )
    assert "summary.pdf" in _zip(response).namelist()
    entry = AuditEntry.objects.get(object_type="dossier")
    assert (entry.actor, entry.action) == (applicant, "download")
    assert entry.application_id == submitted.pk
    timeline = client.get(reverse("applicant:application", args=[submitted.pk])).text
    assert "Dosir permohonan diunduh" in timeline


def test_another_companys_applicant_gets_404_and_anonymous_the_login(
    client, other_applicant, submitted
):
    response = client.get(dossier_url(submitted))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))

    client.force_login(other_applicant)
    assert client.get(dossier_url(submitted)).status_code == 404
    assert not AuditEntry.objects.filter(object_type="dossier").exists()
