"""Site visits: recorded by a verifier during field verification, photos with EXIF time and GPS."""

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from config.errors import ServiceError
from subsidy.models import Application, AuditEntry, SiteVisit, SiteVisitPhoto
from subsidy.photos import read_exif
from subsidy.services import site_visits as site_visit_services
from subsidy.workflow import actions as workflow
from tests.subsidy.test_api_permissions import in_state
from tests.utils import PDF_BYTES, client_for, jpeg

pytestmark = pytest.mark.django_db

S = Application.Status
JAKARTA = ZoneInfo("Asia/Jakarta")
CHECKLIST = {
    "machines_present": True,
    "machines_new": True,
    "machines_installed": True,
    "not_transferred": True,
}


# The expected decimal degrees, worked by hand: 6 + 10/60 + 30.15/3600 = 6.175041666...
LATITUDE = Decimal("-6.175042")
LONGITUDE = Decimal("106.820094")  # 106 + 49/60 + 12.34/3600 = 106.8200944...


# --- Reading EXIF ---------------------------------------------------------------------------


def test_exif_time_and_gps_are_read_as_decimal_degrees():
    exif = read_exif(jpeg(), JAKARTA)

    assert exif.latitude == LATITUDE
    assert exif.longitude == LONGITUDE
    assert isinstance(exif.latitude, Decimal)
    assert exif.taken_at == dt.datetime(2026, 3, 5, 10, 15, 30, tzinfo=JAKARTA)
    assert exif.has_location


@pytest.mark.parametrize(
    "photo",
    [
        pytest.param(lambda: jpeg(gps=False, taken=None), id="no-exif"),
        pytest.param(lambda: jpeg(fmt="PNG", gps=False, taken=None), id="png"),
        pytest.param(
            lambda: SimpleUploadedFile("x.jpg", b"\xff\xd8\xff\xe0 broken"), id="unreadable"
        ),
    ],
)
def test_a_photo_without_exif_has_neither_time_nor_position(photo):
    exif = read_exif(photo(), JAKARTA)

    assert (exif.taken_at, exif.latitude, exif.longitude) == (None, None, None)
    assert not exif.has_location


def test_a_bad_gps_reference_or_zero_denominator_is_no_position():
    photo = jpeg()
    image = Image.open(photo)
    exif = image.getexif()
    exif.get_ifd(0x8825)[1] = "Q"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)

    read = read_exif(io.BytesIO(buffer.getvalue()), JAKARTA)

    assert (read.latitude, read.longitude) == (None, None)
    assert read.taken_at is not None


# --- Services -------------------------------------------------------------------------------


@pytest.fixture
def visiting(company):
    return in_state(company, S.FIELD_VERIFICATION)


def record(application, by, **overrides):
    values = {
        "visited_on": timezone.localdate(),
        "place": "Jl. Pemuda No. 1, Klaten",
        "checklist": CHECKLIST,
        "notes": "Tiga mesin terpasang.",
    }
    values.update(overrides)
    return site_visit_services.site_visit_record(application=application, by=by, **values)


def test_a_verifier_records_a_visit_with_photos_and_it_is_audited(visiting, verifier):
    visit = record(visiting, verifier, photos=[jpeg(), jpeg(gps=False, taken=None)])

    with_gps, without = SiteVisitPhoto.objects.filter(visit=visit).order_by("id")
    assert (with_gps.latitude, with_gps.longitude) == (LATITUDE, LONGITUDE)
    assert with_gps.has_exif_location
    assert (without.taken_at, without.latitude, without.has_exif_location) == (None, None, False)
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_type, entry.object_id) == ("create", "site_visit", visit.pk)
    assert entry.changes["photos"][1][0]["latitude"] == str(LATITUDE)


@pytest.mark.parametrize("status", [S.UNDER_REVIEW, S.RECOMMENDED, S.SUBMITTED])
def test_a_visit_outside_field_verification_is_refused(company, verifier, status):
    application = in_state(company, status)

    with pytest.raises(ServiceError) as caught:
        record(application, verifier, photos=[jpeg()])

    assert (caught.value.code, caught.value.status) == ("invalid_transition", 409)
    assert not SiteVisit.objects.exists()
    assert not SiteVisitPhoto.objects.exists()


def test_recommend_without_a_checklist_uses_the_latest_visit(visiting, verifier):
    record(visiting, verifier, visited_on=timezone.localdate() - dt.timedelta(days=3))
    latest = record(visiting, verifier, checklist={**CHECKLIST, "machines_new": False})

    with pytest.raises(ServiceError) as caught:
        workflow.application_recommend(application=visiting, by=verifier)
    # The latest visit found a used machine: recommending on it is refused.
    assert (caught.value.code, caught.value.status) == ("invalid", 400)

    SiteVisit.objects.filter(pk=latest.pk).update(machines_new=True)
    recommended = workflow.application_recommend(application=visiting, by=verifier)

    assert recommended.status == S.RECOMMENDED
    assert recommended.checklist == CHECKLIST
    entry = AuditEntry.objects.filter(action="recommend").get()
    assert entry.changes["site_visit"] == [None, latest.pk]


def test_recommend_without_a_checklist_or_visit_is_still_a_400(visiting, verifier):
    with pytest.raises(ServiceError) as caught:
        workflow.application_recommend(application=visiting, by=verifier)

    assert (caught.value.code, caught.value.status) == ("invalid", 400)


# --- Through the API -----------------------------------------------------------------------


def url(application) -> str:
    return f"/api/v1/applications/{application.pk}/site-visits/"


def form(**photos) -> dict:
    return {
        "visited_on": timezone.localdate().isoformat(),
        "place": "Bengkel CV Maju Jaya, Klaten",
        "machines_present": "true",
        "machines_new": "true",
        "machines_installed": "true",
        "not_transferred": "true",
        "notes": "Sesuai faktur.",
        **photos,
    }


def test_a_visit_with_an_exif_gps_photo_is_read_back_through_the_api(visiting, verifier, auditor):
    response = client_for(verifier).post(
        url(visiting), form(photos=[jpeg(), jpeg(gps=False, taken=None)]), format="multipart"
    )
    assert response.status_code == 201, response.content

    listed = client_for(auditor).get(url(visiting))
    assert listed.status_code == 200
    [visit] = listed.json()["results"]
    assert visit["recorded_by"] == verifier.username
    assert visit["machines_new"] is True
    with_gps, without = visit["photos"]
    assert with_gps["latitude"] == "-6.175042"
    assert with_gps["longitude"] == "106.820094"
    assert with_gps["taken_at"] == "2026-03-05T10:15:30+07:00"
    assert with_gps["has_exif_location"] is True
    assert without["latitude"] is None
    assert without["taken_at"] is None
    assert without["has_exif_location"] is False

    download = client_for(auditor).get(with_gps["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "image/jpeg"
    assert b"".join(download.streaming_content).startswith(b"\xff\xd8\xff")


def test_a_json_visit_then_a_photo_added(visiting, verifier):
    # JSON carries booleans as booleans (the form's "true" is text there, refused).
    payload = {**form(), **CHECKLIST, "machines_new": False}
    created = client_for(verifier).post(url(visiting), payload, format="json")
    assert created.status_code == 201, created.content
    visit = created.json()
    assert (visit["machines_new"], visit["photos"]) == (False, [])

    added = client_for(verifier).post(
        f"{url(visiting)}{visit['id']}/photos/", {"file": jpeg()}, format="multipart"
    )

    assert added.status_code == 201, added.content
    assert added.json()["latitude"] == "-6.175042"
    detail = client_for(verifier).get(f"{url(visiting)}{visit['id']}/").json()
    assert [p["id"] for p in detail["photos"]] == [added.json()["id"]]


def test_applicants_neither_see_nor_record_visits(visiting, applicant, other_applicant, verifier):
    photo = SiteVisitPhoto.objects.get(
        visit=record(visiting, verifier, photos=[jpeg()]), has_exif_location=True
    )
    own = client_for(applicant)
    assert own.get(url(visiting)).status_code == 403
    assert own.post(url(visiting), form(), format="multipart").status_code == 403
    assert own.get(f"/api/v1/site-visit-photos/{photo.pk}/download/").status_code == 404
    stranger = client_for(other_applicant)
    assert stranger.get(url(visiting)).status_code == 404
    assert stranger.post(url(visiting), form(), format="multipart").status_code == 404
    assert SiteVisit.objects.count() == 1


def test_an_approver_may_read_but_not_record(visiting, approver):
    client = client_for(approver)
    assert client.get(url(visiting)).status_code == 200
    response = client.post(url(visiting), form(), format="multipart")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_recording_outside_field_verification_is_a_409(company, verifier):
    application = in_state(company, S.UNDER_REVIEW)

    response = client_for(verifier).post(url(application), form(), format="multipart")

    assert response.status_code == 409
    assert response.json()["code"] == "invalid_transition"
    assert not SiteVisit.objects.exists()


def test_a_pdf_is_no_photo(visiting, verifier):
    pdf = SimpleUploadedFile("foto.pdf", PDF_BYTES, content_type="application/pdf")

    response = client_for(verifier).post(url(visiting), form(photos=[pdf]), format="multipart")

    assert response.status_code == 400
    assert "photos" in response.json()["errors"]
    assert not SiteVisit.objects.exists()
