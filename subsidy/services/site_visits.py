"""Writes to site visits: a verifier records a visit during field verification, with photos.

Who may record a visit, and when, is who may recommend the case and when (the visit is what
the recommendation rests on): the workflow's own checks for `recommend` answer 404, 403 and
409, in the contract's order around the 400s of the visit's data.
"""

from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from subsidy import audit
from subsidy.file_names import display_name
from subsidy.files import check_photo, sha256_of
from subsidy.models import Application, SiteVisit, SiteVisitPhoto
from subsidy.photos import read_exif
from subsidy.services.applications import lock_with
from subsidy.services.inputs import _full_clean
from subsidy.storage import documents_storage
from subsidy.workflow.payloads import checklist_answers
from subsidy.workflow.transitions import CHECKLIST_ITEMS, Transition, require_state, resolve

User = get_user_model()

# The workflow action whose actors and state a site visit shares.
VISIT_ACTION = "recommend"
VISIT_FIELDS = ["visited_on", "place", *CHECKLIST_ITEMS, "notes"]
# The photos one request may carry (the API's and the page's limit).
MAX_PHOTOS = 20


def _photo_errors(files: Iterable[UploadedFile]) -> list[str]:
    problems = []
    for file in files:
        problem, _sniffed = check_photo(file)
        if problem:
            problems.append(f"{(file.name or '')[-100:]}: {problem}")
    return problems


def require_visitor(application: Application, by: User) -> Transition:
    """404 and 403 as for recommending; the caller checks its data (400) before the state."""
    return resolve(by, application, VISIT_ACTION)


def _lock_in_state(application: Application, transition: Transition) -> Application:
    """Under the application's row lock no transition slips in between the check and the write."""
    application = lock_with(application, [])
    require_state(transition, application)
    return application


def _store_photo(visit: SiteVisit, by: User, file: UploadedFile) -> SiteVisitPhoto:
    _problem, (content_type, suffix) = check_photo(file)
    exif = read_exif(file, ZoneInfo(settings.TIME_ZONE))
    photo = SiteVisitPhoto(
        visit=visit,
        original_name=display_name(file.name),
        size=file.size,
        content_type=content_type,
        sha256=sha256_of(file),
        taken_at=exif.taken_at,
        latitude=exif.latitude,
        longitude=exif.longitude,
        has_exif_location=exif.has_location,
        uploaded_by=by,
    )
    # Stored under the reference and a random part with the sniffed suffix
    # (models.site_visit_photo_path); the uploader's name is never used.
    photo.file.save(f"photo{suffix}", file, save=False)
    try:
        photo.save()
    except BaseException:
        documents_storage.delete(photo.file.name)
        raise
    return photo


def _photo_changes(photo: SiteVisitPhoto) -> dict:
    return {
        "id": photo.pk,
        "sha256": photo.sha256,
        "taken_at": photo.taken_at.isoformat() if photo.taken_at else None,
        "latitude": str(photo.latitude) if photo.latitude is not None else None,
        "longitude": str(photo.longitude) if photo.longitude is not None else None,
    }


def _remove_files(photos: list[SiteVisitPhoto]) -> None:
    """Nothing half-done: a failed record or upload leaves no file behind."""
    for photo in photos:
        documents_storage.delete(photo.file.name)


@transaction.atomic
def site_visit_record(
    *,
    application: Application,
    by: User,
    visited_on: object,
    place: str,
    checklist: object,
    notes: str = "",
    photos: Iterable[UploadedFile] = (),
) -> SiteVisit:
    transition = require_visitor(application, by)
    answers = checklist_answers(checklist)
    photos = list(photos)
    visit = SiteVisit(
        application=application,
        recorded_by=by,
        visited_on=visited_on,
        place=(place or "").strip(),
        notes=(notes or "").strip(),
        **answers,
    )
    errors = {}
    problems = _photo_errors(photos)
    if problems:
        errors["photos"] = problems
    _full_clean(visit, errors, exclude=["application", "recorded_by"])
    application = _lock_in_state(application, transition)
    visit.application = application
    visit.save()
    stored: list[SiteVisitPhoto] = []
    try:
        for file in photos:
            stored.append(_store_photo(visit, by, file))
        audit.record(
            actor=by,
            action="create",
            object_type="site_visit",
            object_id=visit.pk,
            application_id=application.pk,
            changes={
                **audit.diff({}, audit.snapshot(visit, VISIT_FIELDS)),
                "photos": [None, [_photo_changes(p) for p in stored]],
            },
        )
    except BaseException:
        _remove_files(stored)
        raise
    return visit


@transaction.atomic
def site_visit_add_photo(*, visit: SiteVisit, by: User, file: UploadedFile) -> SiteVisitPhoto:
    application = visit.application
    transition = require_visitor(application, by)
    problem, _sniffed = check_photo(file)
    if problem:
        raise ValidationError({"file": [problem]})
    _lock_in_state(application, transition)
    photo = _store_photo(visit, by, file)
    try:
        audit.record(
            actor=by,
            action="upload",
            object_type="site_visit_photo",
            object_id=photo.pk,
            application_id=application.pk,
            changes={"visit": [None, visit.pk], "photo": [None, _photo_changes(photo)]},
        )
    except BaseException:
        _remove_files([photo])
        raise
    return photo
