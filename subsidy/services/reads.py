"""Reads of personal files by staff, recorded in the audit trail (issue 13, ASVS V8): which
document, site photo or export file which officer opened, when. An applicant opening their
own company's documents is not recorded; their uploads are."""

from django.db import transaction
from django.http.response import HttpResponseBase

from subsidy import access, audit, file_names, files, scanning
from subsidy.models import Document, SiteVisitPhoto

# A document opened in the case page's frame and one downloaded are both reads (audit.READ).
READ = audit.READ


def staff_read(
    *,
    by: object,
    object_type: str,
    object_id: int,
    application_id: int | None = None,
    inline: bool = False,
    **details: object,
) -> None:
    """One audit entry for a staff member's read of a stored file (nothing for anyone else)."""
    if not access.sees_everything(by):
        return
    with transaction.atomic():
        audit.record(
            actor=by,
            action=READ,
            object_type=object_type,
            object_id=object_id,
            application_id=application_id,
            changes={
                "inline": [None, inline],
                **{name: [None, value] for name, value in details.items()},
            },
        )


def document_file(*, document: Document, by: object, inline: bool, page: bool) -> HttpResponseBase:
    """A document's file for `by`, who may see its application (the caller's queryset said so):
    refused while the scanner has not found it clean (the API's 403, or a page's saying why),
    recorded when staff read it, then served under our name and its sniffed type."""
    if page:
        scanning.require_usable_page(document)
    else:
        scanning.require_usable(document)
    staff_read(
        by=by,
        object_type="document",
        object_id=document.pk,
        application_id=document.application_id,
        inline=inline,
        kind=document.kind,
    )
    return files.file_response(
        document.file,
        content_type=document.content_type,
        name=file_names.served_document_name(document),
        inline=inline,
    )


def photo_file(*, photo: SiteVisitPhoto, by: object, inline: bool) -> HttpResponseBase:
    """A site-visit photo for programme staff (the caller's queryset said so), recorded as a
    read, served under our name."""
    staff_read(
        by=by,
        object_type="site_photo",
        object_id=photo.pk,
        application_id=photo.visit.application_id,
        inline=inline,
    )
    return files.file_response(
        photo.file,
        content_type=photo.content_type,
        name=file_names.served_photo_name(photo),
        inline=inline,
    )
