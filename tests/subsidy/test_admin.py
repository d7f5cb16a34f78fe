"""The admin shows superusers everything and lets nobody change what the services own."""

from decimal import Decimal

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
def test_nothing_can_be_deleted_and_only_programmes_added_in_the_admin(
    admin_client, everything, model
):
    obj = model.objects.first()

    add = admin_client.get(_url(model, "add"))
    delete = admin_client.post(_url(model, "delete", obj.pk), {"post": "yes"})

    assert add.status_code == (200 if model is Programme else 403)
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


def test_programme_page_shows_its_rates_to_edit(admin_client, everything):
    programme = everything.programme

    page = admin_client.get(_url(Programme, "change", programme.pk))

    assert page.status_code == 200
    assert b'name="rate_kecil_domestic" value="0.4000"' in page.content
    assert b'name="rate_menengah_imported" value="0.2500"' in page.content


def _programme_form(**overrides: object) -> dict:
    data = {
        "year": "2031",
        "name": "Restrukturisasi Mesin dan/atau Peralatan IKM 2031",
        "application_opens": "2031-04-01",
        "application_closes": "2031-09-30",
        "purchase_from": "2030-08-01",
        "purchase_to": "2031-08-31",
        "install_by": "2031-09-15",
        "budget": "12000000000",
        "min_refund": "5000000",
        "max_refund_per_company": "300000000",
        "max_participations": "3",
        "required_documents": ["invoice", "npwp"],
        "rate_kecil_domestic": "0.45",
        "rate_kecil_imported": "0.35",
        "rate_menengah_domestic": "0.4",
        "rate_menengah_imported": "0.25",
    }
    data.update(overrides)
    return data


def test_superuser_sets_up_next_years_programme_in_the_admin(admin_client, superuser):
    response = admin_client.post(_url(Programme, "add"), _programme_form())

    assert response.status_code == 302
    programme = Programme.objects.get(year=2031)
    assert programme.budget == 12_000_000_000
    assert programme.required_documents == ["invoice", "npwp"]
    assert {(r.scale, r.origin): str(r.rate) for r in programme.rates.all()} == {
        ("kecil", "domestic"): "0.4500",
        ("kecil", "imported"): "0.3500",
        ("menengah", "domestic"): "0.4000",
        ("menengah", "imported"): "0.2500",
    }
    entry = AuditEntry.objects.get(object_type="programme", object_id=programme.pk)
    assert (entry.action, entry.actor) == ("create", superuser)
    assert entry.changes["rates"][1]["kecil/domestic"] == "0.4500"


def test_admin_refuses_a_minimum_above_the_cap_and_stores_nothing(admin_client):
    response = admin_client.post(_url(Programme, "add"), _programme_form(min_refund="400000000"))

    assert response.status_code == 200
    message = (
        "Batas maksimum per perusahaan tidak boleh lebih kecil daripada potongan harga minimum."
    )
    # The API's sentence, on the field it concerns.
    assert response.context["adminform"].form.errors["max_refund_per_company"] == [message]
    assert message in response.content.decode()
    assert not Programme.objects.exists()
    assert not AuditEntry.objects.filter(object_type="programme").exists()


def test_admin_refuses_a_rate_above_one_on_its_field(admin_client):
    response = admin_client.post(_url(Programme, "add"), _programme_form(rate_kecil_domestic="1.5"))

    assert response.status_code == 200
    assert "rate_kecil_domestic" in response.context["adminform"].form.errors
    assert not Programme.objects.exists()


def test_admin_change_goes_through_the_service_and_its_audit(admin_client, superuser, programme):
    data = _programme_form(
        year=str(programme.year),
        name=programme.name,
        application_opens=programme.application_opens.isoformat(),
        application_closes=programme.application_closes.isoformat(),
        purchase_from=programme.purchase_from.isoformat(),
        purchase_to=programme.purchase_to.isoformat(),
        install_by=programme.install_by.isoformat(),
        budget="9000000000",
        required_documents=["invoice"],
        rate_kecil_domestic="0.4",
        rate_kecil_imported="0.25",
        rate_menengah_domestic="0.4",
        rate_menengah_imported="0.2",
    )

    response = admin_client.post(_url(Programme, "change", programme.pk), data)

    assert response.status_code == 302
    programme.refresh_from_db()
    assert programme.budget == 9_000_000_000
    assert programme.rates.get(scale="menengah", origin="imported").rate == Decimal("0.2")
    entry = AuditEntry.objects.get(object_type="programme", action="update")
    assert set(entry.changes) == {"budget", "rates"}
    assert entry.actor == superuser


def test_admin_lists_programme_money_in_rupiah(admin_client, programme):
    listing = admin_client.get(_url(Programme, "changelist"))

    assert "Rp 10.000.000.000" in listing.content.decode()
    assert "Rp 300.000.000" in listing.content.decode()


def test_admin_programme_form_speaks_indonesian(admin_client, superuser):
    superuser.language = "id"
    superuser.save(update_fields=["language"])

    page = admin_client.get(_url(Programme, "add"), HTTP_ACCEPT_LANGUAGE="id")

    assert "Tarif: industri kecil, mesin dalam negeri" in page.content.decode()


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
