"""The admin shows superusers everything and lets nobody change what the services own."""

import pytest
from django.urls import reverse

from subsidy.models import (
    Application,
    AuditChainHead,
    AuditEntry,
    Company,
    Document,
    MachineItem,
    Notice,
    Programme,
    ReferenceCounter,
)
from subsidy.services import documents as document_services
from tests.subsidy.test_api_permissions import in_state
from tests.utils import pdf_upload

pytestmark = pytest.mark.django_db

MODELS = [
    Programme,
    ReferenceCounter,
    Company,
    Application,
    MachineItem,
    Document,
    AuditEntry,
    AuditChainHead,
    Notice,
]


@pytest.fixture
def everything(applicant, company) -> Application:
    """At least one row of every model; returns a submitted application."""
    application = in_state(company, Application.Status.SUBMITTED)
    document_services.document_upload(
        application=in_state(company, Application.Status.DRAFT),
        by=applicant,
        kind="invoice",
        file=pdf_upload(),
    )  # a document, its audit entry and the chain head
    ReferenceCounter.objects.create(programme=application.programme, last_number=1)
    Notice.objects.create(
        key="admin:1",
        recipient=applicant,
        application=application,
        kind=Notice.Kind.SUBMITTED,
        title="Diterima",
        body="Diterima",
    )
    return application


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def _url(model, view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_superuser_opens_the_list_and_the_page_of_every_model(admin_client, everything, model):
    obj = model.objects.first()
    assert obj is not None

    listing = admin_client.get(_url(model, "changelist"))
    page = admin_client.get(_url(model, "change", obj.pk))

    assert listing.status_code == 200
    assert page.status_code == 200


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_nothing_can_be_added_or_deleted_in_the_admin(admin_client, everything, model):
    obj = model.objects.first()

    add = admin_client.get(_url(model, "add"))
    delete = admin_client.post(_url(model, "delete", obj.pk), {"post": "yes"})

    assert add.status_code == 403
    assert delete.status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()


def test_audit_entries_cannot_be_deleted_even_in_bulk(admin_client, everything):
    entries = AuditEntry.objects.count()
    assert entries > 0

    listing = admin_client.get(_url(AuditEntry, "changelist"))
    response = admin_client.post(
        _url(AuditEntry, "changelist"),
        {
            "action": "delete_selected",
            "_selected_action": list(AuditEntry.objects.values_list("pk", flat=True)),
            "post": "yes",
        },
    )

    assert b"delete_selected" not in listing.content
    assert response.status_code in (200, 302)
    assert AuditEntry.objects.count() == entries


def test_application_status_cannot_be_changed_in_the_admin(admin_client, everything):
    application = everything

    page = admin_client.get(_url(Application, "change", application.pk))
    response = admin_client.post(
        _url(Application, "change", application.pk),
        {"status": "approved", "approved_amount": 300_000_000, "computed_discount": 1},
    )

    assert b'name="status"' not in page.content
    assert response.status_code == 403
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert application.approved_amount is None


def test_programme_page_shows_its_rates_read_only(admin_client, everything):
    programme = everything.programme

    page = admin_client.get(_url(Programme, "change", programme.pk))

    assert b"0.4000" in page.content
    assert b'name="rates-0-rate"' not in page.content


def test_document_page_links_to_the_permission_checked_download(admin_client, everything):
    document = Document.objects.get()

    page = admin_client.get(_url(Document, "change", document.pk))

    assert f"/api/v1/documents/{document.pk}/download/".encode() in page.content
    assert document.file.name.encode() not in page.content


def test_staff_roles_without_django_staff_status_cannot_open_the_admin(client, verifier):
    client.force_login(verifier)

    response = client.get(_url(Application, "changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
