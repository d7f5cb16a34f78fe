"""The applicant's application pages: task list, machines, documents, check answers, letter."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from subsidy.models import Application, Document, MachineItem
from subsidy.services import applications as application_services
from subsidy.services import documents as document_services
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions
from tests.utils import complete_application, item_data, pdf_upload

CHECKLIST = dict.fromkeys(transitions.CHECKLIST_ITEMS, True)


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def draft(applicant, company, programme, django_capture_on_commit_callbacks) -> Application:
    with django_capture_on_commit_callbacks(execute=True):
        return application_services.application_create(
            by=applicant, programme=programme, company=company
        )


@pytest.fixture
def complete(draft, applicant, django_capture_on_commit_callbacks) -> Application:
    with django_capture_on_commit_callbacks(execute=True):
        return complete_application(draft, applicant, description="Mesin CNC bubut")


@pytest.fixture
def submitted(complete, applicant, django_capture_on_commit_callbacks) -> Application:
    with django_capture_on_commit_callbacks(execute=True):
        return workflow.application_submit(application=complete, by=applicant)


def _machine_form(**overrides) -> dict:
    data = item_data(**overrides)
    data["is_new"] = "true" if data["is_new"] else "false"
    return {k: ("" if v is None else str(v)) for k, v in data.items()}


def _pages(application: Application) -> list[str]:
    item = application.items.first()
    document = application.documents.first()
    pk = application.pk
    return [
        f"/applications/{pk}/",
        f"/applications/{pk}/estimate/",
        f"/applications/{pk}/machines/",
        f"/applications/{pk}/machines/add/",
        f"/applications/{pk}/machines/{item.pk}/",
        f"/applications/{pk}/machines/{item.pk}/edit/",
        f"/applications/{pk}/machines/{item.pk}/delete/",
        f"/applications/{pk}/documents/",
        f"/applications/{pk}/documents/upload/invoice/",
        f"/applications/{pk}/check-answers/",
        f"/applications/{pk}/withdraw/",
        f"/documents/{document.pk}/download/",
    ]


# --- Who sees what ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_page_opens_for_the_owner(complete, applicant):
    client = _client(applicant)
    for path in _pages(complete):
        assert client.get(path).status_code == 200, path


@pytest.mark.django_db
def test_each_page_is_not_found_for_another_companys_applicant(complete, other_applicant):
    client = _client(other_applicant)
    for path in _pages(complete):
        assert client.get(path).status_code == 404, path


@pytest.mark.django_db
def test_each_page_sends_a_visitor_to_log_in(complete, client):
    for path in _pages(complete):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/login/?next="), path


@pytest.mark.django_db
def test_another_companys_applicant_cannot_remove_a_document(complete, other_applicant):
    document = complete.documents.get()
    response = _client(other_applicant).post(
        f"/applications/{complete.pk}/documents/{document.pk}/delete/"
    )
    assert response.status_code == 404
    assert Document.objects.filter(pk=document.pk).exists()


# --- The task list ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_task_list_of_an_empty_draft_shows_what_is_left_to_do(draft, applicant, company):
    response = _client(applicant).get(f"/applications/{draft.pk}/")
    assert response.status_code == 200
    text = response.text
    assert company.name in text
    assert 'id="task-company"' in text
    assert "Data perusahaan" in text
    assert 'task-state-done">Selesai' in text  # the factory's company is complete
    assert 'id="task-machines-state" class="badge task-state task-state-not_started"' in text
    assert "Tambahkan mesin untuk melihat perkiraan." in text
    assert "Permohonan dibuat" in text


@pytest.mark.django_db
def test_task_list_explains_the_estimate_machine_by_machine(
    draft, applicant, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        application_services.item_create(
            application=draft, by=applicant, **item_data(description="Mesin bubut", price=10**8)
        )
        application_services.item_create(
            application=draft,
            by=applicant,
            **item_data(description="Mesin las", payment_method="cash"),
        )
    text = _client(applicant).get(f"/applications/{draft.pk}/").text
    assert "Rp 40.000.000" in text
    assert "Penggantian Rp 40.000.000 (40% dari harga)." in text
    assert "Pembayaran tidak dilakukan melalui bank." in text
    assert 'id="task-machines-state" class="badge task-state task-state-needs_attention"' in text
    assert "Mesin ditambahkan: Mesin las" in text


@pytest.mark.django_db
def test_task_list_says_the_estimate_is_being_computed_and_polls_for_it(draft, applicant):
    # No on-commit callbacks run here: the computation has not happened yet.
    application_services.item_create(application=draft, by=applicant, **item_data())
    text = _client(applicant).get(f"/applications/{draft.pk}/").text
    assert "Penggantian sedang dihitung" in text
    assert f'hx-get="/applications/{draft.pk}/estimate/"' in text


@pytest.mark.django_db
def test_task_list_shows_the_officers_revision_comment_on_top(submitted, applicant, verifier):
    application = workflow.application_start_review(application=submitted, by=verifier)
    workflow.application_request_revision(
        application=application, by=verifier, comment="Faktur mesin kedua tidak terbaca."
    )
    text = _client(applicant).get(f"/applications/{submitted.pk}/").text
    assert "Petugas meminta Anda memperbaiki permohonan" in text
    assert text.index("Faktur mesin kedua tidak terbaca.") < text.index("<h1>")
    assert "Status: Perlu perbaikan" in text


@pytest.mark.django_db
def test_letter_is_offered_and_downloaded_once_approved(
    submitted, applicant, verifier, approver, other_applicant
):
    application = workflow.application_start_review(application=submitted, by=verifier)
    application = workflow.application_pass_review(application=application, by=verifier)
    client = _client(applicant)
    assert "Unduh surat persetujuan" not in client.get(f"/applications/{submitted.pk}/").text
    response = client.get(f"/applications/{submitted.pk}/letter/", follow=True)
    assert "Surat persetujuan tersedia setelah permohonan disetujui." in response.text
    application = workflow.application_recommend(
        application=application, by=verifier, checklist=CHECKLIST
    )
    workflow.application_approve(application=application, by=approver)
    assert "Unduh surat persetujuan" in client.get(f"/applications/{submitted.pk}/").text
    response = client.get(f"/applications/{submitted.pk}/letter/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert _client(other_applicant).get(f"/applications/{submitted.pk}/letter/").status_code == 404


@pytest.mark.django_db
def test_withdraw_asks_first_and_then_withdraws(submitted, applicant):
    client = _client(applicant)
    assert "Tarik permohonan ini?" in client.get(f"/applications/{submitted.pk}/withdraw/").text
    submitted.refresh_from_db()
    assert submitted.status == Application.Status.SUBMITTED
    response = client.post(f"/applications/{submitted.pk}/withdraw/", {"comment": ""}, follow=True)
    assert "Permohonan telah ditarik." in response.text
    submitted.refresh_from_db()
    assert submitted.status == Application.Status.WITHDRAWN
    assert "Tarik permohonan" not in client.get(f"/applications/{submitted.pk}/").text


@pytest.mark.django_db
@pytest.mark.parametrize("count", [1, 10])
def test_task_list_costs_the_same_queries_for_1_or_10_machines_and_documents(
    count, draft, applicant, django_assert_num_queries, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(count):
            item = application_services.item_create(application=draft, by=applicant, **item_data())
            document_services.document_upload(
                application=draft, by=applicant, kind="invoice", file=pdf_upload(), item=item
            )
    client = _client(applicant)
    # Session and user; the application, its machines and documents; what a submission lacks;
    # the history and its notices; the actions; the menu's unread notices: none grows with the
    # machines or documents.
    with django_assert_num_queries(14):
        response = client.get(f"/applications/{draft.pk}/")
    assert response.text.count("Dokumen diunggah: Faktur") == count


# --- Machines --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_saved_machine_shows_its_refund(draft, applicant, django_capture_on_commit_callbacks):
    client = _client(applicant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/applications/{draft.pk}/machines/add/",
            _machine_form(description="Mesin bubut CNC", price=185_000_000),
        )
    item = MachineItem.objects.get(application=draft)
    assert response["Location"] == f"/applications/{draft.pk}/machines/{item.pk}/"
    text = client.get(response["Location"]).text
    assert "Mesin telah disimpan." in text
    assert "Penggantian Rp 74.000.000 (40% dari harga)." in text
    assert item.supplier_npwp == "012345678901000"


@pytest.mark.django_db
def test_saved_machine_paid_in_cash_shows_why_it_is_excluded(
    draft, applicant, django_capture_on_commit_callbacks
):
    client = _client(applicant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/applications/{draft.pk}/machines/add/", _machine_form(payment_method="cash")
        )
    text = client.get(response["Location"]).text
    assert "Mesin ini tidak dihitung:" in text
    assert "Pembayaran tidak dilakukan melalui bank." in text


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, required, future",
    [
        ("id", "Bidang ini harus diisi.", "Tanggal tidak boleh melewati tanggal hari ini."),
        ("en", "This field is required.", "The date may not be in the future."),
    ],
)
def test_machine_form_refuses_bad_input_next_to_the_field_and_stores_nothing(
    language, required, future, draft, applicant
):
    applicant.language = language
    applicant.save(update_fields=["language"])
    client = _client(applicant)
    response = client.post(
        f"/applications/{draft.pk}/machines/add/", _machine_form(serial_number="", price="")
    )
    assert response.status_code == 200
    assert required in response.text
    assert 'href="#id_serial_number"' in response.text  # the error summary links the field
    assert not MachineItem.objects.exists()

    response = client.post(
        f"/applications/{draft.pk}/machines/add/", _machine_form(invoice_date="2999-01-01")
    )
    assert response.status_code == 200
    assert future in response.text
    assert not MachineItem.objects.exists()


@pytest.mark.django_db
def test_machine_edit_and_remove(complete, applicant, django_capture_on_commit_callbacks):
    item = complete.items.get()
    client = _client(applicant)
    form = _machine_form(description="Mesin bubut baru", price=50_000_000)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/applications/{complete.pk}/machines/{item.pk}/edit/", form)
    assert response.status_code == 302
    assert "Penggantian Rp 20.000.000" in client.get(response["Location"]).text
    item.refresh_from_db()
    assert item.description == "Mesin bubut baru"
    response = client.post(f"/applications/{complete.pk}/machines/{item.pk}/delete/", follow=True)
    assert "Mesin telah dihapus." in response.text
    assert not MachineItem.objects.filter(pk=item.pk).exists()


@pytest.mark.django_db
def test_machine_form_after_submission_is_read_only_with_the_services_message(submitted, applicant):
    client = _client(applicant)
    before = MachineItem.objects.count()
    response = client.post(
        f"/applications/{submitted.pk}/machines/add/", _machine_form(), follow=True
    )
    assert "Permohonan hanya dapat diubah selama berstatus Draf atau Perlu perbaikan." in (
        response.text
    )
    assert MachineItem.objects.count() == before
    assert "Tambah mesin" not in client.get(f"/applications/{submitted.pk}/machines/").text


# --- Documents -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_documents_page_marks_the_required_kinds_still_missing(draft, applicant):
    text = _client(applicant).get(f"/applications/{draft.pk}/documents/").text
    assert "Masih kurang" in text
    assert f'href="/applications/{draft.pk}/documents/upload/invoice/">Faktur</a>' in text


@pytest.mark.django_db
def test_upload_stores_the_file_and_it_is_no_longer_missing(draft, applicant):
    client = _client(applicant)
    response = client.post(
        f"/applications/{draft.pk}/documents/upload/invoice/", {"file": pdf_upload("faktur.pdf")}
    )
    assert response.status_code == 302
    text = client.get(response["Location"]).text
    assert "Faktur telah diunggah." in text
    assert "Semua dokumen wajib sudah diunggah." in text
    document = Document.objects.get(application=draft)
    download = client.get(f"/documents/{document.pk}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"%PDF")


@pytest.mark.django_db
def test_upload_by_htmx_answers_with_a_client_redirect(draft, applicant):
    response = _client(applicant).post(
        f"/applications/{draft.pk}/documents/upload/invoice/",
        {"file": pdf_upload()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"/applications/{draft.pk}/documents/"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language, message",
    [
        ("id", "Hanya berkas PDF, JPEG, atau PNG yang diterima."),
        ("en", "Only PDF, JPEG or PNG files are accepted."),
    ],
)
def test_upload_refuses_a_text_file_next_to_the_field(language, message, draft, applicant):
    applicant.language = language
    applicant.save(update_fields=["language"])
    text_file = SimpleUploadedFile("catatan.txt", b"hanya teks", content_type="text/plain")
    response = _client(applicant).post(
        f"/applications/{draft.pk}/documents/upload/invoice/", {"file": text_file}
    )
    assert response.status_code == 200
    assert message in response.text
    assert 'href="#id_file"' in response.text
    assert not Document.objects.exists()


@pytest.mark.django_db
def test_photo_kinds_open_the_phone_camera(draft, applicant):
    client = _client(applicant)
    photo = client.get(f"/applications/{draft.pk}/documents/upload/installation_photo/").text
    assert 'capture="environment"' in photo
    assert 'accept="image/*,application/pdf"' in photo
    invoice = client.get(f"/applications/{draft.pk}/documents/upload/invoice/").text
    assert "capture=" not in invoice


@pytest.mark.django_db
def test_remove_a_document(complete, applicant):
    document = complete.documents.get()
    response = _client(applicant).post(
        f"/applications/{complete.pk}/documents/{document.pk}/delete/", follow=True
    )
    assert "Dokumen telah dihapus." in response.text
    assert not Document.objects.filter(pk=document.pk).exists()


# --- Check answers and submit ----------------------------------------------------------------


@pytest.mark.django_db
def test_check_answers_shows_every_section_with_a_change_link(complete, applicant, company):
    text = _client(applicant).get(f"/applications/{complete.pk}/check-answers/").text
    assert company.name in text
    assert "Mesin CNC bubut" in text
    assert f'href="/applications/{complete.pk}/machines/"' in text
    assert f'href="/applications/{complete.pk}/documents/"' in text
    assert "Saya menyatakan data ini benar." in text


@pytest.mark.django_db
def test_submit_needs_the_declaration(complete, applicant):
    response = _client(applicant).post(f"/applications/{complete.pk}/check-answers/", {})
    assert response.status_code == 200
    assert "Centang pernyataan untuk mengajukan." in response.text
    complete.refresh_from_db()
    assert complete.status == Application.Status.DRAFT


@pytest.mark.django_db
def test_refused_submission_lists_each_missing_thing_with_a_link(draft, applicant, company):
    company.nib = None
    company.save(update_fields=["nib"])
    response = _client(applicant).post(
        f"/applications/{draft.pk}/check-answers/", {"declaration": "on"}
    )
    assert response.status_code == 200
    text = response.text
    assert "Permohonan belum dapat diajukan" in text
    assert "Isi NIB perusahaan." in text
    assert f'<a href="/applications/{draft.pk}/machines/add/">Tambahkan paling sedikit' in text
    assert (
        f'<a href="/applications/{draft.pk}/documents/upload/invoice/">Unggah dokumen: Faktur'
        in (text)
    )
    draft.refresh_from_db()
    assert draft.status == Application.Status.DRAFT


@pytest.mark.django_db
def test_submit_shows_the_reference_and_the_status(
    complete, applicant, django_capture_on_commit_callbacks
):
    client = _client(applicant)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/applications/{complete.pk}/check-answers/", {"declaration": "on"})
    complete.refresh_from_db()
    assert complete.status == Application.Status.SUBMITTED
    assert response["Location"] == f"/applications/{complete.pk}/"
    text = client.get(response["Location"]).text
    assert f"Nomor {complete.reference}; status: Diajukan." in text
    assert f"<h1>{complete.reference}</h1>" in text


@pytest.mark.django_db
def test_the_company_shown_after_submission_is_the_snapshot(submitted, applicant, company):
    company.name = "CV Nama Baru"
    company.save(update_fields=["name"])
    text = _client(applicant).get(f"/applications/{submitted.pk}/check-answers/").text
    assert "CV Nama Baru" not in text
    assert submitted.company_snapshot["name"] in text
