"""Every read of a stored file by staff is an audit entry (who, which file, when); an applicant
opening their own company's documents is not; the case's history leaves the reads out."""

import pytest
from django.test import Client
from django.urls import reverse

from subsidy import audit
from subsidy.models import Application, AuditEntry
from subsidy.services import site_visits as site_visit_services
from tests.subsidy.test_api_permissions import in_state
from tests.subsidy.test_site_visits import CHECKLIST
from tests.utils import client_for, jpeg
from tests.web.office_cases import case_with_machines

S = Application.Status


def reads() -> list[tuple]:
    return list(
        AuditEntry.objects.filter(action="read")
        .order_by("seq")
        .values_list("actor__username", "object_type", "object_id", "application_id")
    )


@pytest.fixture
def case(programme, company, applicant):
    return case_with_machines(programme, company, applicant, machines=1)


def test_a_verifier_downloading_and_previewing_a_document_is_recorded(case, verifier):
    document = case.documents.order_by("id").first()

    downloaded = client_for(verifier).get(f"/api/v1/documents/{document.pk}/download/")
    browser = Client()
    browser.force_login(verifier)
    previewed = browser.get(reverse("office:document", args=[document.pk]))

    assert downloaded.status_code == previewed.status_code == 200
    assert reads() == [(verifier.username, "document", document.pk, case.pk)] * 2
    inline = [e.changes["inline"][1] for e in AuditEntry.objects.filter(action="read")]
    assert inline == [False, True]
    assert AuditEntry.objects.filter(action="read").first().changes["kind"] == [
        None,
        document.kind,
    ]
    assert audit.verify().intact


def test_an_applicant_reading_their_own_documents_is_not_a_staff_read(case, applicant):
    document = case.documents.order_by("id").first()
    browser = Client()
    browser.force_login(applicant)

    assert (
        browser.get(reverse("applicant:document_download", args=[document.pk])).status_code == 200
    )
    assert (
        client_for(applicant).get(f"/api/v1/documents/{document.pk}/download/").status_code == 200
    )
    assert reads() == []


def test_a_refused_read_records_nothing(case, other_applicant):
    document = case.documents.order_by("id").first()
    response = client_for(other_applicant).get(f"/api/v1/documents/{document.pk}/download/")
    assert response.status_code == 404
    assert reads() == []


def test_the_case_history_leaves_the_reads_out(case, verifier, auditor):
    document = case.documents.order_by("id").first()
    client_for(verifier).get(f"/api/v1/documents/{document.pk}/download/")

    history = client_for(auditor).get(f"/api/v1/applications/{case.pk}/history/").json()
    assert "read" not in {entry["action"] for entry in history}
    assert len(reads()) == 1


def test_site_photos_read_by_staff_are_recorded(company, verifier, auditor):
    application = in_state(company, S.FIELD_VERIFICATION)
    visit = site_visit_services.site_visit_record(
        application=application,
        by=verifier,
        visited_on=application.created_at.date(),
        place="Bengkel, Klaten",
        checklist=CHECKLIST,
        notes="",
        photos=[jpeg()],
    )
    photo = visit.photos.get()
    browser = Client()
    browser.force_login(verifier)

    assert browser.get(reverse("office:site_visit_photo", args=[photo.pk])).status_code == 200
    assert (
        client_for(auditor).get(f"/api/v1/site-visit-photos/{photo.pk}/download/").status_code
        == 200
    )
    assert reads() == [
        (verifier.username, "site_photo", photo.pk, application.pk),
        (auditor.username, "site_photo", photo.pk, application.pk),
    ]
