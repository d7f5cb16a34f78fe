"""Writes to documents: upload and removal of an application's files."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from subsidy import audit
from subsidy.engine import stale
from subsidy.file_names import display_name
from subsidy.files import check_upload, sha256_of
from subsidy.models import (
    Application,
    Document,
    DocumentKind,
    MachineItem,
)
from subsidy.services.applications import lock_with
from subsidy.services.permissions import require_editable, require_member
from subsidy.storage import documents_storage

User = get_user_model()


def _upload_errors(
    application: Application, kind: str, file: UploadedFile, item: MachineItem | None
) -> tuple[dict[str, list[str]], tuple[str, str] | None]:
    """The 400s of an upload: kind, item, size and a content that is PDF, JPEG or PNG."""
    errors: dict[str, list[str]] = {}
    if kind not in DocumentKind.values:
        errors["kind"] = [_("Unknown document kind.")]
    if item is not None and item.application_id != application.pk:
        errors["item"] = [_("This item belongs to another application.")]
    problem, sniffed = check_upload(file)
    if problem:
        errors["file"] = [problem]
    return errors, sniffed


@transaction.atomic
def document_upload(
    *,
    application: Application,
    by: User,
    kind: str,
    file: UploadedFile,
    item: MachineItem | None = None,
) -> Document:
    require_member(application.company, by)
    errors, sniffed = _upload_errors(application, kind, file, item)
    if errors:
        raise ValidationError(errors)
    sha256 = sha256_of(file)
    application = lock_with(application, [])
    require_editable(application)
    content_type, suffix = sniffed
    document = Document(
        application=application,
        item=item,
        kind=kind,
        original_name=display_name(file.name),
        size=file.size,
        content_type=content_type,
        sha256=sha256,
        uploaded_by=by,
    )
    # Stored under kind, reference and a random part with the sniffed suffix
    # (models.document_path); the uploader's name is never used.
    document.file.save(f"upload{suffix}", file, save=False)
    try:
        document.save()
        stale.mark_stale([application.pk])
        audit.record(
            actor=by,
            action="upload",
            object_type="document",
            object_id=document.pk,
            application_id=application.pk,
            changes={
                "kind": [None, kind],
                "item": [None, item.pk if item else None],
                "sha256": [None, document.sha256],
                "size": [None, document.size],
                "content_type": [None, content_type],
            },
        )
    except BaseException:
        # Nothing half-done: a refused or failed upload leaves no file behind.
        documents_storage.delete(document.file.name)
        raise
    return document


@transaction.atomic
def document_delete(*, document: Document, by: User) -> None:
    application = document.application
    require_member(application.company, by)
    application = lock_with(application, [])
    require_editable(application)
    name = document.file.name
    doc_id = document.pk
    changes = {"kind": [document.kind, None], "sha256": [document.sha256, None]}
    document.delete()
    stale.mark_stale([application.pk])
    # The file goes only once the row is gone for good: a rolled-back delete keeps both.
    transaction.on_commit(lambda: documents_storage.delete(name))
    audit.record(
        actor=by,
        action="delete",
        object_type="document",
        object_id=doc_id,
        application_id=application.pk,
        changes=changes,
    )
