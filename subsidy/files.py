"""What an uploaded file is, decided by its content, never by its name."""

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

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
