"""The site-visit page: the verifier records a visit with photos in field verification; every
officer reads it; bad input is refused with its reason and changes nothing."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from subsidy.formats import long_datetime
from subsidy.models import Application, AuditEntry, SiteVisit, SiteVisitPhoto
from subsidy.services import site_visits as site_visit_services
from subsidy.workflow import transitions
from tests.factories import ApplicationFactory, CompanyFactory, UserFactory
from tests.subsidy.test_workflow_matrix import put_in_state
from tests.utils import PDF_BYTES, jpeg

S = Application.Status
CHECKLIST = dict.fromkeys(transitions.CHECKLIST_ITEMS, True)
POSITION = "-6.175042, 106.820094"  # the EXIF GPS of tests.utils.jpeg, in decimal degrees


@pytest.fixture
def field_case(programme, company, verifier):
    """A case in field verification, taken by `verifier` (its case officer)."""
    application = ApplicationFactory(programme=programme, company=company)
    return put_in_state(application, S.FIELD_VERIFICATION, case_officer=verifier)


def visit_url(application: Application) -> str:
    return reverse("office:site_visit", args=[application.pk])


def form_data(**overrides: object) -> dict:
    data = {
        "visited_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "place": "Bengkel CV Logam, Jl. Raya Solo 17, Ceper",
        **dict.fromkeys(transitions.CHECKLIST_ITEMS, "on"),
        "notes": "Kedua mesin terpasang dan dipakai.",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def recorded(application: Application, by, photos: int = 1) -> SiteVisit:
    return site_visit_services.site_visit_record(
        application=application,
        by=by,
        visited_on=timezone.localdate(),
        place="Ceper, Klaten",
        checklist=CHECKLIST,
        photos=[jpeg() for _ in range(photos)],
    )


def stored_files(settings) -> list:
    root = settings.PRIVATE_MEDIA_ROOT / "site-visits"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_the_case_officer_sees_the_form_for_the_phones_camera(client, verifier, field_case):
    client.force_login(verifier)
    response = client.get(visit_url(field_case))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'enctype="multipart/form-data"' in body
    photos = body[body.index('name="photos"') - 200 : body.index('name="photos"') + 200]
    assert 'type="file"' in photos
    assert 'accept="image/*"' in photos
    assert 'capture="environment"' in photos
    assert "multiple" in photos
    for name in transitions.CHECKLIST_ITEMS:
        assert f'name="{name}"' in body
    assert "Belum ada kunjungan lapangan yang tercatat." in body


def test_the_case_officer_records_a_visit_and_sees_each_photos_time_and_position(
    client, verifier, field_case, settings
):
    client.force_login(verifier)
    bare = jpeg(gps=False, taken=None)
    bare.name = "tanpa-exif.jpg"
    response = client.post(visit_url(field_case), {**form_data(), "photos": [jpeg(), bare]})
    visit = SiteVisit.objects.get(application=field_case)
    assert response.status_code == 302
    assert response["Location"] == f"{visit_url(field_case)}#visit-{visit.pk}"
    assert visit.recorded_by == verifier
    assert visit.place == "Bengkel CV Logam, Jl. Raya Solo 17, Ceper"
    assert all(getattr(visit, name) for name in transitions.CHECKLIST_ITEMS)
    located, bare_photo = visit.photos.order_by("id")
    assert located.has_exif_location and located.taken_at is not None
    assert not bare_photo.has_exif_location and bare_photo.taken_at is None
    assert len(stored_files(settings)) == 2

    body = client.get(visit_url(field_case)).content.decode()
    assert "Kunjungan lapangan tercatat." in body
    assert f'id="visit-{visit.pk}"' in body
    assert '<a href="geo:-6.175042,106.820094"' in body
    assert POSITION in body
    assert long_datetime(located.taken_at, "id") in body
    # The photo without EXIF is marked, not left blank.
    assert "Foto tidak memuat lokasi" in body
    assert "Foto tidak memuat waktu" in body
    for photo in (located, bare_photo):
        assert f'src="{reverse("office:site_visit_photo", args=[photo.pk])}"' in body
    # The visit is in the trail, with its photos' EXIF.
    entry = AuditEntry.objects.get(object_type="site_visit", object_id=visit.pk)
    assert entry.actor == verifier


@pytest.mark.parametrize(
    ("data", "photo", "field", "message"),
    [
        pytest.param({}, "pdf", "photos", "Hanya foto JPEG atau PNG yang diterima.", id="pdf"),
        pytest.param({}, "text", "photos", "Hanya berkas PDF, JPEG, atau PNG", id="not-a-file"),
        pytest.param(
            {"visited_on": (timezone.localdate() + dt.timedelta(days=1)).isoformat()},
            "jpeg",
            "visited_on",
            "Tanggal tidak boleh melewati tanggal hari ini.",
            id="future-date",
        ),
        pytest.param({"place": "   "}, "jpeg", "place", "", id="missing-place"),
        pytest.param({"visited_on": None}, "jpeg", "visited_on", "", id="missing-date"),
        pytest.param({"visited_on": "kemarin"}, "jpeg", "visited_on", "", id="not-a-date"),
    ],
)
def test_bad_input_is_refused_with_its_reason_and_changes_nothing(
    client, verifier, field_case, settings, data, photo, field, message
):
    files = {
        "jpeg": lambda: jpeg(),
        "pdf": lambda: SimpleUploadedFile("faktur.jpg", PDF_BYTES, content_type="image/jpeg"),
        "text": lambda: SimpleUploadedFile("catatan.jpg", b"bukan foto", content_type="image/jpeg"),
    }
    entries = AuditEntry.objects.count()
    client.force_login(verifier)
    response = client.post(visit_url(field_case), {**form_data(**data), "photos": [files[photo]()]})
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors, form.errors
    if message:
        assert message in " ".join(form.errors[field])
    body = response.content.decode()
    # The error summary at the top links to the field.
    assert f'href="#id_{field}"' in body
    assert SiteVisit.objects.count() == 0
    assert SiteVisitPhoto.objects.count() == 0
    assert stored_files(settings) == []
    assert AuditEntry.objects.count() == entries
    field_case.refresh_from_db()
    assert field_case.status == S.FIELD_VERIFICATION


def test_the_auditor_reads_the_visit_but_cannot_record_one(
    client, auditor, verifier, field_case, settings
):
    visit = recorded(field_case, verifier)
    client.force_login(auditor)
    response = client.get(visit_url(field_case))
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="photos"' not in body
    assert "Anda tidak dapat mencatat kunjungan pada kasus ini" in body
    assert f'id="visit-{visit.pk}"' in body
    assert POSITION in body

    entries = AuditEntry.objects.count()
    response = client.post(visit_url(field_case), {**form_data(), "photos": [jpeg()]})
    assert response.status_code == 403
    assert SiteVisit.objects.count() == 1
    assert SiteVisitPhoto.objects.count() == 1
    assert len(stored_files(settings)) == 1
    assert AuditEntry.objects.count() == entries


@pytest.mark.parametrize("role", ["approver", "finance", "auditor"])
def test_other_officers_may_not_record_a_visit(client, request, role, field_case):
    client.force_login(request.getfixturevalue(role))
    response = client.post(visit_url(field_case), form_data())
    assert response.status_code == 403
    assert SiteVisit.objects.count() == 0


def test_a_verifier_of_the_company_may_not_record_its_visit(client, programme):
    insider = UserFactory(username="orang-dalam", roles=["verifier"])
    case = put_in_state(
        ApplicationFactory(programme=programme, company=CompanyFactory(members=[insider])),
        S.FIELD_VERIFICATION,
    )
    client.force_login(insider)
    response = client.post(visit_url(case), form_data())
    assert response.status_code == 403
    assert "Anda anggota perusahaan ini" in response.content.decode()
    assert SiteVisit.objects.count() == 0


@pytest.mark.parametrize("status", [S.UNDER_REVIEW, S.RECOMMENDED])
def test_outside_field_verification_no_visit_is_recorded(client, verifier, field_case, status):
    Application.objects.filter(pk=field_case.pk).update(status=status)
    client.force_login(verifier)
    page = client.get(visit_url(field_case))
    assert page.status_code == 200
    assert 'name="photos"' not in page.content.decode()
    response = client.post(visit_url(field_case), {**form_data(), "photos": [jpeg()]})
    assert response.status_code == 409
    assert SiteVisit.objects.count() == 0


def test_applicants_and_visitors_see_neither_the_page_nor_the_photos(
    client, applicant, verifier, field_case
):
    visit = recorded(field_case, verifier)
    photo_url = reverse("office:site_visit_photo", args=[visit.photos.get().pk])
    for url in (visit_url(field_case), photo_url):
        assert client.get(url).status_code == 302  # to the log-in page
    client.force_login(applicant)  # a member of the company
    for url in (visit_url(field_case), photo_url):
        assert client.get(url).status_code == 404
    assert client.post(visit_url(field_case), form_data()).status_code == 404
    assert SiteVisit.objects.count() == 1


def test_the_photo_is_shown_inline_to_staff_only(client, verifier, auditor, field_case):
    visit = recorded(field_case, verifier)
    photo_url = reverse("office:site_visit_photo", args=[visit.photos.get().pk])
    client.force_login(auditor)
    response = client.get(photo_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8\xff")


@pytest.mark.parametrize("photos", [1, 6])
def test_the_page_reads_a_fixed_number_of_queries(
    client, verifier, field_case, django_assert_num_queries, photos
):
    recorded(field_case, verifier, photos=photos)
    recorded(field_case, verifier, photos=photos)
    client.force_login(verifier)
    # The same with one photo per visit or six: the visits and their photos in two queries
    # (and the second factor's check).
    with django_assert_num_queries(9):
        assert client.get(visit_url(field_case)).status_code == 200


# --- The case page and the recommend form -------------------------------------------------


def test_the_case_page_links_the_case_officer_to_the_visit(client, verifier, field_case):
    client.force_login(verifier)
    body = client.get(reverse("office:case", args=[field_case.pk])).content.decode()
    assert f'href="{visit_url(field_case)}"' in body
    assert "Catat kunjungan lapangan, dengan foto" in body


def test_the_case_page_shows_the_recorded_visit_read_only(client, auditor, verifier, field_case):
    visit = recorded(field_case, verifier)
    client.force_login(auditor)
    body = client.get(reverse("office:case", args=[field_case.pk])).content.decode()
    assert f'id="visit-{visit.pk}"' in body
    assert "Ceper, Klaten" in body
    assert POSITION in body
    assert f'href="{visit_url(field_case)}"' not in body


@pytest.mark.parametrize("photos", [1, 6])
def test_the_case_page_with_visits_reads_a_fixed_number_of_queries(
    client, verifier, field_case, django_assert_num_queries, photos
):
    recorded(field_case, verifier, photos=photos)
    recorded(field_case, verifier, photos=photos)
    client.force_login(verifier)
    # As without a visit (test_office_case), and one more for the visits' photos.
    with django_assert_num_queries(16):
        assert client.get(reverse("office:case", args=[field_case.pk])).status_code == 200


def test_the_recommend_form_starts_from_the_recorded_visit(client, verifier, field_case):
    visit = site_visit_services.site_visit_record(
        application=field_case,
        by=verifier,
        visited_on=timezone.localdate(),
        place="Ceper, Klaten",
        checklist={**CHECKLIST, "machines_new": False},
    )
    client.force_login(verifier)
    url = reverse("office:case_action", args=[field_case.pk, "recommend"])
    response = client.get(url)
    body = response.content.decode()
    assert "Daftar periksa diisi dari kunjungan lapangan terakhir yang tercatat" in body
    form = response.context["form"]
    assert form.initial == {"site_visit": visit.pk, **CHECKLIST, "machines_new": False}
    assert re.search(r'<input[^>]*name="machines_present"[^>]*checked', body)
    assert not re.search(r'<input[^>]*name="machines_new"[^>]*checked', body)
    assert f'name="site_visit" value="{visit.pk}"' in body
    # Sent as found, the visit's "not new" refuses the recommendation, and nothing changes.
    posted = {"site_visit": visit.pk, "confirm": "on", **dict.fromkeys(CHECKLIST, "on")}
    del posted["machines_new"]
    refused = client.post(url, posted)
    assert refused.status_code == 400
    field_case.refresh_from_db()
    assert field_case.status == S.FIELD_VERIFICATION


def test_recommending_as_the_visit_found_links_the_visit(client, verifier, field_case):
    visit = recorded(field_case, verifier, photos=0)
    client.force_login(verifier)
    url = reverse("office:case_action", args=[field_case.pk, "recommend"])
    response = client.post(
        url, {"site_visit": visit.pk, "confirm": "on", **dict.fromkeys(CHECKLIST, "on")}
    )
    assert response.status_code == 302
    field_case.refresh_from_db()
    assert field_case.status == S.RECOMMENDED
    entry = AuditEntry.objects.get(application_id=field_case.pk, action="recommend")
    assert entry.changes["site_visit"] == [None, visit.pk]


def test_without_a_visit_the_recommend_form_says_to_record_one(client, verifier, field_case):
    client.force_login(verifier)
    response = client.get(reverse("office:case_action", args=[field_case.pk, "recommend"]))
    body = response.content.decode()
    assert "Belum ada kunjungan lapangan yang tercatat untuk kasus ini" in body
    assert f'href="{visit_url(field_case)}"' in body
    assert response.context["form"].initial == {}


# --- One more photo for a recorded visit --------------------------------------------------


def photo_url(application: Application, visit: SiteVisit) -> str:
    return reverse("office:site_visit_photo_add", args=[application.pk, visit.pk])


def test_the_case_officer_adds_a_photo_to_a_recorded_visit(client, verifier, field_case):
    visit = recorded(field_case, verifier, photos=0)
    client.force_login(verifier)
    body = client.get(visit_url(field_case)).content.decode()
    assert f'action="{photo_url(field_case, visit)}"' in body
    response = client.post(photo_url(field_case, visit), {"photo": jpeg()})
    assert response.status_code == 302
    assert response["Location"] == f"{visit_url(field_case)}#visit-{visit.pk}"
    photo = visit.photos.get()
    assert photo.has_exif_location
    body = client.get(visit_url(field_case)).content.decode()
    assert "Foto ditambahkan ke kunjungan." in body
    assert POSITION in body


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        pytest.param(
            lambda: SimpleUploadedFile("faktur.jpg", PDF_BYTES, content_type="image/jpeg"),
            "Hanya foto JPEG atau PNG yang diterima.",
            id="pdf",
        ),
        pytest.param(lambda: None, "Bidang ini harus diisi.", id="no-file"),
    ],
)
def test_a_bad_added_photo_is_refused_and_changes_nothing(
    client, verifier, field_case, settings, upload, message
):
    visit = recorded(field_case, verifier, photos=0)
    entries = AuditEntry.objects.count()
    client.force_login(verifier)
    file = upload()
    response = client.post(photo_url(field_case, visit), {"photo": file} if file else {})
    assert response.status_code == 400
    body = response.content.decode()
    assert message in body
    assert f'href="#id_visit{visit.pk}_photo"' in body
    assert SiteVisitPhoto.objects.count() == 0
    assert stored_files(settings) == []
    assert AuditEntry.objects.count() == entries


def test_the_auditor_may_not_add_a_photo(client, auditor, verifier, field_case, settings):
    visit = recorded(field_case, verifier, photos=0)
    client.force_login(auditor)
    assert (
        f'action="{photo_url(field_case, visit)}"'
        not in client.get(visit_url(field_case)).content.decode()
    )
    response = client.post(photo_url(field_case, visit), {"photo": jpeg()})
    assert response.status_code == 403
    assert SiteVisitPhoto.objects.count() == 0
    assert stored_files(settings) == []


def test_a_visit_of_another_case_is_not_found(client, verifier, field_case, programme):
    other = put_in_state(
        ApplicationFactory(programme=programme, company=CompanyFactory()), S.FIELD_VERIFICATION
    )
    visit = recorded(other, verifier, photos=0)
    client.force_login(verifier)
    assert client.post(photo_url(field_case, visit), {"photo": jpeg()}).status_code == 404
    assert SiteVisitPhoto.objects.count() == 0
