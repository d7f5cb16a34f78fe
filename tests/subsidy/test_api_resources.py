"""Each resource of API.md answers with the contract's fields, filters and actions."""

import datetime as dt
import re

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext
from rest_framework import serializers

from subsidy.api.applications import ApplicationSerializer
from subsidy.api.items import MachineItemSerializer
from subsidy.engine import computation
from subsidy.models import Application, AuditEntry, Notice
from subsidy.selectors import application_list
from subsidy.services import documents as document_services
from tests.factories import CompanyFactory, ProgrammeFactory
from tests.subsidy.test_api_permissions import (
    CHECKLIST,
    company_payload,
    in_state,
    programme_payload,
)
from tests.utils import client_for, item_data, pdf_upload

pytestmark = pytest.mark.django_db

S = Application.Status


@pytest.fixture(autouse=True)
def _default_language():
    yield
    translation.deactivate()


# --- Programmes ----------------------------------------------------------------------------


def test_programme_is_created_with_four_rates_read_back_as_strings(superuser):
    response = client_for(superuser).post(
        "/api/v1/programmes/", programme_payload(2009), format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert sorted((r["scale"], r["origin"], r["rate"]) for r in body["rates"]) == [
        ("kecil", "domestic", "0.4000"),
        ("kecil", "imported", "0.2500"),
        ("menengah", "domestic", "0.4000"),
        ("menengah", "imported", "0.2500"),
    ]
    assert body["budget"] == 5_000_000_000
    assert body["required_documents"] == ["invoice"]


def test_programme_partial_update_keeps_the_rates_it_does_not_send(superuser, programme):
    client = client_for(superuser)

    response = client.patch(
        f"/api/v1/programmes/{programme.pk}/", {"name": "Program Baru"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Program Baru"
    assert len(response.json()["rates"]) == 4


def test_programme_year_is_locked_once_an_application_has_a_reference(superuser, company):
    application = in_state(company, S.SUBMITTED)
    programme = application.programme
    client = client_for(superuser)

    response = client.patch(
        f"/api/v1/programmes/{programme.pk}/", {"year": programme.year + 1}, format="json"
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invalid_transition"
    with translation.override("id"):
        assert body["detail"] == gettext(
            "The programme's year cannot change: its applications already have reference "
            "numbers carrying the year %(year)s."
        ) % {"year": programme.year}
    assert client.get(f"/api/v1/programmes/{programme.pk}/").json()["year"] == programme.year


def test_programme_year_changes_while_no_application_has_a_reference(superuser, company):
    programme = in_state(company, S.DRAFT).programme

    response = client_for(superuser).patch(
        f"/api/v1/programmes/{programme.pk}/", {"year": programme.year + 1}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["year"] == programme.year + 1


def test_programme_rates_are_replaced_only_as_a_set_of_four(superuser, programme):
    client = client_for(superuser)
    rates = programme_payload(programme.year)["rates"]
    rates[0]["rate"] = "0.3500"

    changed = client.patch(f"/api/v1/programmes/{programme.pk}/", {"rates": rates}, format="json")
    refused = client.patch(
        f"/api/v1/programmes/{programme.pk}/", {"rates": rates[:3]}, format="json"
    )

    assert changed.status_code == 200
    assert "0.3500" in [r["rate"] for r in changed.json()["rates"]]
    assert refused.status_code == 400
    assert "rates" in refused.json()["errors"]


def test_budget_shows_committed_disbursed_and_available(applicant, company):
    approved = in_state(company, S.APPROVED)
    programme = approved.programme
    disbursed = in_state(CompanyFactory(members=[applicant]), S.DISBURSED)
    Application.objects.filter(pk=disbursed.pk).update(programme=programme)

    response = client_for(applicant).get(f"/api/v1/programmes/{programme.pk}/budget/")

    committed = approved.approved_amount
    paid = disbursed.disbursed_amount
    assert response.json() == {
        "budget": programme.budget,
        "committed": committed,
        "disbursed": paid,
        "available": programme.budget - committed - paid,
    }


# --- Companies and regions -----------------------------------------------------------------


def test_company_is_created_with_derived_scale_and_region_names(applicant):
    response = client_for(applicant).post("/api/v1/companies/", company_payload(), format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["scale"] == "kecil"
    assert body["npwp"] == "023456789012000"
    assert body["province_name"] == "Jawa Tengah"
    assert body["regency_name"] == "Kabupaten Klaten"
    me = client_for(applicant).get("/api/v1/me/").json()
    assert me["companies"] == [body["id"]]


def test_scale_cannot_be_written(applicant, company):
    response = client_for(applicant).patch(
        f"/api/v1/companies/{company.pk}/", {"scale": "besar", "workers": 25}, format="json"
    )

    assert response.json()["scale"] == "menengah"


def test_a_second_company_with_the_same_nib_is_refused(applicant, other_applicant, company):
    response = client_for(other_applicant).post(
        "/api/v1/companies/", company_payload(nib=company.nib), format="json"
    )

    assert response.status_code == 400
    assert "nib" in response.json()["errors"]


def test_a_member_invites_another_applicant_who_accepts_and_then_sees_the_company(
    applicant, other_applicant, company, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_for(applicant)

    with django_capture_on_commit_callbacks(execute=True):
        invited = client.post(
            f"/api/v1/companies/{company.pk}/members/",
            {"email": other_applicant.email},
            format="json",
        )
    token = re.search(r"/invitations/([^/\s]+)/", mailoutbox[0].body).group(1)
    accepted = client_for(other_applicant).post(f"/api/v1/invitations/{token}/accept/")
    members = client.get(f"/api/v1/companies/{company.pk}/members/")

    assert invited.status_code == 202
    assert accepted.status_code == 200
    assert accepted.json()["id"] == company.pk
    assert [m["username"] for m in members.json()["results"]] == sorted(
        [applicant.username, other_applicant.username]
    )
    assert "email" not in members.json()["results"][0]
    assert client_for(other_applicant).get(f"/api/v1/companies/{company.pk}/").status_code == 200


def test_a_staff_user_cannot_join_by_an_invitation(
    applicant, company, verifier, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client_for(applicant).post(
            f"/api/v1/companies/{company.pk}/members/", {"email": verifier.email}, format="json"
        )
    token = re.search(r"/invitations/([^/\s]+)/", mailoutbox[0].body).group(1)

    response = client_for(verifier).post(f"/api/v1/invitations/{token}/accept/")

    assert response.status_code == 403
    assert not company.members.filter(pk=verifier.pk).exists()


def test_company_list_filters_by_province(verifier, company):
    CompanyFactory(province="31", regency="31.71")

    response = client_for(verifier).get("/api/v1/companies/?province=33")

    assert [c["id"] for c in response.json()["results"]] == [company.pk]


def test_regions_list_every_province_with_its_regencies(applicant):
    response = client_for(applicant).get("/api/v1/regions/")

    provinces = {p["code"]: p for p in response.json()}
    assert len(provinces) == 38
    assert provinces["33"]["name"] == "Jawa Tengah"
    assert {"code": "33.10", "name": "Kabupaten Klaten"} in provinces["33"]["regencies"]
    assert sum(len(p["regencies"]) for p in provinces.values()) == 514


# --- Applications --------------------------------------------------------------------------

APPLICATION_FIELDS = {
    "id",
    "reference",
    "programme",
    "company",
    "status",
    "submitted_at",
    "eligible_total",
    "computed_discount",
    "computed_at",
    "approved_amount",
    "disbursed_amount",
    "payout_bank_name",
    "payout_account_number",
    "payout_account_name",
    "transfer_reference",
    "transferred_on",
    "case_officer",
    "findings",
    "items",
}
ITEM_FIELDS = set(item_data()) | {"id", "rate", "discount", "findings"}


def test_application_has_the_contract_fields(applicant, company, verifier):
    application = in_state(company, S.DISBURSED, case_officer=verifier)

    body = client_for(applicant).get(f"/api/v1/applications/{application.pk}/").json()

    assert APPLICATION_FIELDS <= set(body)
    assert body["reference"] == application.reference
    assert body["case_officer"] == verifier.username
    assert body["payout_account_number"] == company.bank_account_number
    assert set(body["items"][0]) == ITEM_FIELDS
    assert body["items"][0]["rate"] == "0.4000"
    assert body["submitted_at"].endswith("+07:00")


def test_a_new_draft_has_no_reference_and_no_results(applicant, company, programme):
    response = client_for(applicant).post(
        "/api/v1/applications/", {"programme": programme.pk, "company": company.pk}, format="json"
    )

    body = response.json()
    assert body["status"] == "draft"
    assert body["reference"] is None
    assert body["computed_at"] is None
    assert body["items"] == []


def test_a_second_live_application_for_the_same_programme_is_409(applicant, company, programme):
    client = client_for(applicant)
    data = {"programme": programme.pk, "company": company.pk}
    client.post("/api/v1/applications/", data, format="json")

    response = client.post("/api/v1/applications/", data, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "duplicate_application"


@pytest.fixture
def three_cases(applicant, company):
    """A submitted case in Jawa Tengah, a draft of a Jakarta company, one under review."""
    jakarta = CompanyFactory(
        members=[applicant], province="31", regency="31.71", name="PT Logam Betawi"
    )
    return {
        "submitted": in_state(company, S.SUBMITTED),
        "draft": in_state(jakarta, S.DRAFT),
        "under_review": in_state(company, S.UNDER_REVIEW),
    }


def _ids(client, query: str) -> set[int]:
    response = client.get(f"/api/v1/applications/?{query}")
    assert response.status_code == 200, response.content
    return {a["id"] for a in response.json()["results"]}


def test_application_filters(verifier, three_cases):
    client = client_for(verifier)
    submitted, draft, review = (three_cases[k] for k in ("submitted", "draft", "under_review"))
    submitted_day = timezone.localtime(submitted.submitted_at).date()

    assert _ids(client, "status=submitted") == {submitted.pk}
    assert _ids(client, "status=submitted&status=draft") == {submitted.pk, draft.pk}
    assert _ids(client, f"programme={draft.programme_id}") == {draft.pk}
    assert _ids(client, f"company={draft.company_id}") == {draft.pk}
    assert _ids(client, "province=31") == {draft.pk}
    assert _ids(client, "scale=kecil") == {submitted.pk, draft.pk, review.pk}
    assert _ids(client, "scale=besar") == set()
    assert _ids(client, f"submitted_after={submitted_day}") == {submitted.pk, review.pk}
    later = submitted_day + dt.timedelta(days=1)
    assert _ids(client, f"submitted_after={later}") == set()
    assert _ids(client, f"submitted_before={submitted_day}") == {submitted.pk, review.pk}
    assert _ids(client, f"search={submitted.reference.lower()}") == {submitted.pk}
    assert _ids(client, "search=betawi") == {draft.pk}
    assert _ids(client, f"search={draft.company.nib}") == {draft.pk}


def test_applications_are_listed_newest_first_with_pages(verifier, three_cases):
    client = client_for(verifier)

    first = client.get("/api/v1/applications/?page_size=2").json()
    second = client.get(first["next"]).json()

    ids = [a["id"] for a in first["results"] + second["results"]]
    assert first["count"] == 3
    assert ids == sorted(ids, reverse=True)
    assert second["next"] is None
    assert second["previous"] is not None


# --- Items, documents ----------------------------------------------------------------------


def test_item_results_are_read_only(applicant, company, django_capture_on_commit_callbacks):
    application = in_state(company, S.DRAFT)
    client = client_for(applicant)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/applications/{application.pk}/items/",
            item_data(price=200_000_000, discount=1, rate="1.0000"),
            format="json",
        )
    item = client.get(
        f"/api/v1/applications/{application.pk}/items/{response.json()['id']}/"
    ).json()

    assert response.status_code == 201
    assert item["rate"] == "0.4000"
    assert item["discount"] == 80_000_000
    assert item["findings"] == []


def test_upload_then_download_the_same_bytes(applicant, company):
    application = in_state(company, S.DRAFT)
    client = client_for(applicant)
    content = b"%PDF-1.4\nfaktur pajak\n%%EOF\n"

    uploaded = client.post(
        f"/api/v1/applications/{application.pk}/documents/",
        {"kind": "tax_invoice", "file": pdf_upload("faktur.pdf", content)},
        format="multipart",
    ).json()
    listed = client.get(f"/api/v1/applications/{application.pk}/documents/").json()["results"]
    download = client.get(uploaded["download_url"])

    assert uploaded["kind"] == "tax_invoice"
    assert uploaded["content_type"] == "application/pdf"
    assert uploaded["size"] == len(content)
    assert [d["id"] for d in listed] == [uploaded["id"]]
    assert b"".join(download.streaming_content) == content
    # Served under a name of ours (kind, application, document), never the uploader's.
    assert download["Content-Disposition"] == (
        f'attachment; filename="faktur-pajak-permohonan-{application.pk}-{uploaded["id"]}.pdf"'
    )


def test_a_document_may_belong_to_an_item_of_its_application(applicant, company):
    application = in_state(company, S.DRAFT)
    item = application.items.get()

    response = client_for(applicant).post(
        f"/api/v1/applications/{application.pk}/documents/",
        {"kind": "installation_photo", "file": pdf_upload(), "item": item.pk},
        format="multipart",
    )

    assert response.status_code == 201
    assert response.json()["item"] == item.pk


# --- Breakdown, transitions, history, letter ----------------------------------------------


def test_breakdown_explains_the_computation(applicant, company):
    application = in_state(company, S.SUBMITTED)

    body = client_for(applicant).get(f"/api/v1/applications/{application.pk}/breakdown/").json()

    assert body["stale"] is False
    assert body["eligible_total"] == application.eligible_total
    assert body["computed_discount"] == application.computed_discount
    assert body["items"]
    assert body["programme"]
    assert "cap_applied" in body
    assert "blocking" in body


def test_breakdown_of_a_stale_application_says_so(applicant, company):
    application = in_state(company, S.DRAFT, computed_at=None)

    body = client_for(applicant).get(f"/api/v1/applications/{application.pk}/breakdown/").json()

    assert body["stale"] is True
    assert body["computed_at"] is None


def test_available_actions_name_the_payload_they_require(verifier, company):
    application = in_state(company, S.UNDER_REVIEW)

    actions = client_for(verifier).get(f"/api/v1/applications/{application.pk}/transitions/")

    by_name = {a["action"]: a for a in actions.json()}
    assert set(by_name) == {"request_revision", "pass_review", "reject"}
    assert by_name["reject"]["requires"] == "comment"
    assert by_name["reject"]["to_status"] == "rejected"
    assert by_name["pass_review"]["requires"] is None


def test_a_transition_returns_the_application_in_its_new_state(verifier, company):
    application = in_state(company, S.FIELD_VERIFICATION)

    response = client_for(verifier).post(
        f"/api/v1/applications/{application.pk}/transitions/",
        {"action": "recommend", "checklist": CHECKLIST, "comment": "Semua mesin terpasang"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["status"] == "recommended"
    assert Application.objects.get(pk=application.pk).checklist == CHECKLIST


def test_history_lists_changes_transitions_and_notices_oldest_first(
    applicant, verifier, company, django_capture_on_commit_callbacks
):
    application = in_state(company, S.DRAFT)
    document_services.document_upload(
        application=application, by=applicant, kind="invoice", file=pdf_upload()
    )
    client = client_for(applicant)
    url = f"/api/v1/applications/{application.pk}/transitions/"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "submit"}, format="json")
    client_for(verifier).post(url, {"action": "start_review"}, format="json")

    history = client.get(f"/api/v1/applications/{application.pk}/history/").json()

    assert [h["action"] for h in history] == ["upload", "submit", "notice", "start_review"]
    submit = history[1]
    assert (submit["from_status"], submit["to_status"]) == ("draft", "submitted")
    assert submit["actor"] == applicant.username
    assert set(submit) == {
        "at",
        "actor",
        "action",
        "from_status",
        "to_status",
        "comment",
        "changes",
    }
    assert [h["at"] for h in history] == sorted(h["at"] for h in history)


def test_letter_is_a_pdf_once_approved(applicant, company):
    application = in_state(company, S.APPROVED)

    response = client_for(applicant).get(f"/api/v1/applications/{application.pk}/letter/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert application.reference in response["Content-Disposition"]


# --- Notifications -------------------------------------------------------------------------


def test_notifications_are_the_callers_newest_first_and_can_be_marked_read(applicant, company):
    application = in_state(company, S.SUBMITTED)
    for n, kind in enumerate(["submitted", "revision_requested", "approved"]):
        Notice.objects.create(
            key=f"n{n}",
            recipient=applicant,
            application=application,
            kind=kind,
            title=kind,
            body=kind,
        )
    client = client_for(applicant)

    listed = client.get("/api/v1/notifications/").json()["results"]
    first = client.post(f"/api/v1/notifications/{listed[0]['id']}/read/").json()
    again = client.post(f"/api/v1/notifications/{listed[0]['id']}/read/").json()

    assert [n["kind"] for n in listed] == ["approved", "revision_requested", "submitted"]
    assert set(listed[0]) == {
        "id",
        "kind",
        "application",
        "title",
        "body",
        "created_at",
        "read_at",
    }
    assert listed[0]["read_at"] is None
    assert first["read_at"] is not None
    assert again["read_at"] == first["read_at"]


# --- The hand-written renderings equal the declared fields' -------------------------------


def test_item_and_application_render_as_their_declared_fields_would(verifier, company):
    application = in_state(company, S.DISBURSED, case_officer=verifier, transferred_on="2026-01-05")
    Application.objects.filter(pk=application.pk).update(
        findings=[{"code": "below_minimum"}, {"code": "duplicate_serial", "item": 3}]
    )
    computation.compute_applications([application.pk])
    row = application_list(verifier).get(pk=application.pk)
    request = type("Request", (), {"user": verifier})()
    serializer = ApplicationSerializer(context={"request": request})
    item_serializer = MachineItemSerializer()

    for item in row.item_list:
        generic = serializers.ModelSerializer.to_representation(item_serializer, item)
        assert item_serializer.to_representation(item) == generic
    generic = serializers.ModelSerializer.to_representation(serializer, row)
    assert serializer.to_representation(row) == generic
    assert set(generic) == set(ApplicationSerializer.Meta.fields)


def test_audit_entries_of_other_applications_stay_out_of_the_history(applicant, company):
    mine = in_state(company, S.DRAFT)
    other = in_state(CompanyFactory(members=[applicant]), S.DRAFT)
    document_services.document_upload(
        application=other, by=applicant, kind="invoice", file=pdf_upload()
    )

    history = client_for(applicant).get(f"/api/v1/applications/{mine.pk}/history/").json()

    assert history == []
    assert AuditEntry.objects.filter(application_id=other.pk).exists()


def test_programme_of_another_year_is_listed_for_applicants(applicant):
    ProgrammeFactory(year=2031)

    years = [p["year"] for p in client_for(applicant).get("/api/v1/programmes/").json()["results"]]

    assert 2031 in years
