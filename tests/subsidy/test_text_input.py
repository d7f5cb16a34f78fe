"""Text people type: bounded, and free of control and text-direction characters no one types
(line breaks only where a text has lines). One validator (subsidy.validators) for models and
API alike."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from subsidy import validators
from subsidy.models import Application, Company, MachineItem, Programme
from tests.subsidy.test_api_permissions import company_payload, in_state, programme_payload
from tests.utils import client_for, item_data

pytestmark = pytest.mark.django_db

HIDDEN = {
    "nul": "\x00",
    "tab": "\t",
    "escape": "\x1b[31m",
    "delete": "\x7f",
    "c1": "\x85",
    "right-to-left override": "\u202e",
    "left-to-right mark": "\u200e",
    "right-to-left isolate": "\u2067",
    "arabic letter mark": "\u061c",
    "line separator": "\u2028",
}
MESSAGE_ID = "Hapus karakter kontrol atau pengatur arah teks"


@pytest.fixture(autouse=True)
def _indonesian():
    translation.activate("id")
    yield
    translation.deactivate()


@pytest.mark.parametrize("char", HIDDEN.values(), ids=HIDDEN.keys())
@pytest.mark.parametrize("validator", [validators.single_line, validators.multi_line])
def test_the_validator_refuses_controls_and_direction_marks(validator, char):
    with pytest.raises(ValidationError) as caught:
        validator(f"CV Maju{char}Jaya")

    assert caught.value.code == "hidden_character"
    assert MESSAGE_ID in caught.value.messages[0]


@pytest.mark.parametrize("text", ["Jl. Merdeka 1\nSemarang", "Jl. Merdeka 1\r\nSemarang"])
def test_line_breaks_are_refused_on_one_line_and_kept_in_multi_line_text(text):
    validators.multi_line(text)
    with pytest.raises(ValidationError):
        validators.single_line(text)


@pytest.mark.parametrize(
    "text", ["CV Maju Jaya", "PT Ṣinar Jāya", "Toko 日本", "مصنع", "Émile & Söhne", ""]
)
def test_ordinary_text_of_any_script_passes(text):
    validators.single_line(text)
    validators.multi_line(text)


@pytest.mark.parametrize("char", HIDDEN.values(), ids=HIDDEN.keys())
@pytest.mark.parametrize("field", ["name", "bank_name", "bank_account_name", "address"], ids=str)
def test_company_text_with_a_hidden_character_is_refused(applicant, field, char):
    response = client_for(applicant).post(
        "/api/v1/companies/", {**company_payload(), field: f"CV{char}X"}, format="json"
    )

    assert response.status_code == 400
    assert MESSAGE_ID in response.json()["errors"][field][0]
    assert not Company.objects.exists()


def test_an_address_keeps_its_lines(applicant):
    response = client_for(applicant).post(
        "/api/v1/companies/",
        {**company_payload(), "address": "Jl. Merdeka 1\nKel. Sukamaju\nSemarang"},
        format="json",
    )

    assert response.status_code == 201
    assert Company.objects.get().address.count("\n") == 2


@pytest.mark.parametrize(("length", "status"), [(500, 201), (501, 400), (100_000, 400)])
def test_an_address_is_bounded(applicant, length, status):
    response = client_for(applicant).post(
        "/api/v1/companies/", {**company_payload(), "address": "a" * length}, format="json"
    )

    assert response.status_code == status


@pytest.mark.parametrize(
    "field",
    [
        "description",
        "brand",
        "model",
        "serial_number",
        "supplier_name",
        "invoice_number",
        "tax_invoice_number",
    ],
)
@pytest.mark.parametrize("char", ["\u202e", "\x00", "\n"], ids=["rlo", "nul", "newline"])
def test_item_text_with_a_hidden_character_is_refused(applicant, company, field, char):
    draft = in_state(company, Application.Status.DRAFT)
    before = MachineItem.objects.count()

    response = client_for(applicant).post(
        f"/api/v1/applications/{draft.pk}/items/",
        item_data(**{field: f"XK{char}77"}),
        format="json",
    )

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert MachineItem.objects.count() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"action": "reject", "comment": "Tidak\u202e lengkap"}, "comment"),
        ({"action": "reject", "comment": "x" * 2001}, "comment"),
    ],
)
def test_a_transition_comment_is_bounded_and_plain(verifier, company, payload, field):
    application = in_state(company, Application.Status.UNDER_REVIEW)

    response = client_for(verifier).post(
        f"/api/v1/applications/{application.pk}/transitions/", payload, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_transition_comment_keeps_its_lines(verifier, company):
    application = in_state(company, Application.Status.UNDER_REVIEW)

    response = client_for(verifier).post(
        f"/api/v1/applications/{application.pk}/transitions/",
        {"action": "reject", "comment": "Dokumen kurang:\n- faktur\n- foto"},
        format="json",
    )

    assert response.status_code == 200


def test_a_transfer_reference_is_one_plain_line(finance, company):
    application = in_state(company, Application.Status.APPROVED)

    response = client_for(finance).post(
        f"/api/v1/applications/{application.pk}/transitions/",
        {"action": "disburse", "transfer_reference": "TRF\n1", "transferred_on": "2026-01-05"},
        format="json",
    )

    assert response.status_code == 400
    assert "transfer_reference" in response.json()["errors"]


@pytest.mark.parametrize(("year", "status"), [(0, 400), (1999, 400), (2000, 201), (2101, 400)])
def test_a_programme_year_lies_between_2000_and_2100(superuser, year, status):
    response = client_for(superuser).post(
        "/api/v1/programmes/", programme_payload(year), format="json"
    )

    assert response.status_code == status
    if status == 400:
        assert "year" in response.json()["errors"]


def test_a_programme_name_is_one_plain_line(superuser):
    response = client_for(superuser).post(
        "/api/v1/programmes/", {**programme_payload(2001), "name": "Program\u202e"}, format="json"
    )

    assert response.status_code == 400
    assert "name" in response.json()["errors"]
    assert not Programme.objects.filter(year=2001).exists()


def test_the_models_use_the_same_validator(company):
    company.name = "CV\u202eX"
    company.address = "a" * 501

    with pytest.raises(ValidationError) as caught:
        company.full_clean(exclude=["members"])

    assert set(caught.value.message_dict) >= {"name", "address"}
