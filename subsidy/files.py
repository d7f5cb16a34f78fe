"""What an uploaded file is, decided by its content, never by its name."""

import hashlib

from django.conf import settings
from django.http import FileResponse, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from subsidy import storage

# Magic numbers of the accepted formats.
_SIGNATURES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
)
# The longest signature: how much of a file sniff_content_type needs.
SNIFF_BYTES = 16


def sniff_content_type(head: bytes) -> tuple[str, str] | None:
    """(content type, file suffix) of an accepted format, or None."""
    for magic, content_type, suffix in _SIGNATURES:
        if head.startswith(magic):
            return content_type, suffix
    return None


def suffix_for(content_type: str) -> str:
    """The file suffix of an accepted content type ("" for any other)."""
    return next((suffix for _magic, kind, suffix in _SIGNATURES if kind == content_type), "")


def too_large_message() -> str:
    return _("The file is larger than %(limit)s.") % {
        "limit": filesizeformat(settings.DOCUMENT_MAX_BYTES)
    }


def check_upload(file: object) -> tuple[str | None, tuple[str, str] | None]:
    """(why the file is refused or None, (content type, suffix)): size, then content."""
    size = getattr(file, "size", None)
    if not size:
        return _("The file is empty."), None
    if size > settings.DOCUMENT_MAX_BYTES:
        return too_large_message(), None
    file.seek(0)
    sniffed = sniff_content_type(file.read(SNIFF_BYTES))
    file.seek(0)
    if sniffed is None:
        return _("Only PDF, JPEG or PNG files are accepted."), None
    return None, sniffed


def sha256_of(file: object) -> str:
    """The SHA-256 of an uploaded file's content, read in chunks; the file is rewound."""
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


PHOTO_TYPES = ("image/jpeg", "image/png")


def check_photo(file: object) -> tuple[str | None, tuple[str, str] | None]:
    """As check_upload, for a site-visit photo: a JPEG or PNG only."""
    problem, sniffed = check_upload(file)
    if problem is None and sniffed[0] not in PHOTO_TYPES:
        return _("Only JPEG or PNG photos are accepted."), None
    return problem, sniffed


def file_response(
    stored: object, *, content_type: str, name: str, inline: bool
) -> FileResponse | HttpResponseRedirect:
    """A stored file under its sniffed type and a name of ours, never sniffed again by the
    browser. The caller has checked that the user may see it.

    `inline` shows it in the page (the officers' preview beside a machine, framed by the case
    page, so always streamed from here); otherwise it is downloaded: streamed, or, from a bucket
    with DOCUMENTS_S3_REDIRECT, a redirect to a signed URL valid DOCUMENTS_S3_URL_SECONDS that
    makes the store answer with the same name and type.
    """
    if not inline and settings.DOCUMENTS_S3_REDIRECT and storage.is_s3(stored.storage):
        response = HttpResponseRedirect(
            storage.signed_url(stored, filename=name, content_type=content_type)
        )
    else:
        response = FileResponse(
            stored.open("rb"), content_type=content_type, as_attachment=not inline, filename=name
        )
    response["X-Content-Type-Options"] = "nosniff"
    return response
