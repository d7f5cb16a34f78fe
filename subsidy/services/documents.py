"""Writes to documents: upload and removal of an application's files."""

import hashlib

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from subsidy import audit
from subsidy.engine import stale
from subsidy.files import check_upload
from subsidy.models import (
    Application,
    Document,
    DocumentKind,
    MachineItem,
    private_storage,
)
from subsidy.services.applications import lock_with
from subsidy.services.permissions import require_editable, require_member

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


def _sha256(file: UploadedFile) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


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
    sha256 = _sha256(file)
    application = lock_with(application, _document_twins(application, sha256))
    require_editable(application)
    content_type, suffix = sniffed
    document = Document(
        application=application,
        item=item,
        kind=kind,
        original_name=(file.name or "")[-255:],
        size=file.size,
        content_type=content_type,
        sha256=sha256,
        uploaded_by=by,
    )
    # The stored name is random (models.document_path); the suffix follows the content.
    document.file.save(f"upload{suffix}", file, save=False)
    try:
        document.save()
        _mark_with_document_twins(application, document.sha256)
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
        private_storage.delete(document.file.name)
        raise
    return document


@transaction.atomic
def document_delete(*, document: Document, by: User) -> None:
    application = document.application
    require_member(application.company, by)
    application = lock_with(application, _document_twins(application, document.sha256))
    require_editable(application)
    name = document.file.name
    doc_id = document.pk
    changes = {"kind": [document.kind, None], "sha256": [document.sha256, None]}
    document.delete()
    _mark_with_document_twins(application, changes["sha256"][0])
    # The file goes only once the row is gone for good: a rolled-back delete keeps both.
    transaction.on_commit(lambda: private_storage.delete(name))
    audit.record(
        actor=by,
        action="delete",
        object_type="document",
        object_id=doc_id,
        application_id=application.pk,
        changes=changes,
    )


def _document_twins(application: Application, sha256: str) -> list[int]:
    return stale.applications_sharing_documents(
        sha256s=[sha256], exclude_company=application.company_id
    )


def _mark_with_document_twins(application: Application, sha256: str) -> None:
    """The application, and other companies' applications holding the same file.

    duplicate_document is flagged on both sides, so the other side must be recomputed when a
    twin appears (to gain the flag) or disappears (to lose it).
    """
    stale.mark_stale([application.pk, *_document_twins(application, sha256)])
