"""The names files are stored and downloaded under, and the uploader's name kept for display.

An uploader's file name is never a name on disk, in the bucket or in a download: those are made
from the document's kind and its application's reference (its number while it has none), with
the suffix of the type its content was sniffed as. So a JPEG uploaded as `evil.html` is stored
as `documents/faktur-IKM-2026-000123-<random>.jpg` and downloads as `faktur-IKM-2026-000123-7.jpg`.
The name the uploader gave is kept only as text to show, without control characters, bidi
overrides or folders.
"""

import re
import unicodedata

from subsidy.choices import DocumentKind
from subsidy.files import suffix_for
from subsidy.storage import random_name

# Indonesian words, ASCII only: file names every system and browser keeps as they are.
KIND_WORDS = {
    DocumentKind.NIB: "nib",
    DocumentKind.NPWP: "npwp",
    DocumentKind.INVOICE: "faktur",
    DocumentKind.TAX_INVOICE: "faktur-pajak",
    DocumentKind.PAYMENT_PROOF: "bukti-bayar",
    DocumentKind.INSTALLATION_PHOTO: "foto-pemasangan",
    DocumentKind.MAKER_STATEMENT: "pernyataan-pembuat",
    DocumentKind.OTHER: "dokumen",
}
PHOTO_WORD = "foto-kunjungan"

# Characters that change how text is shown rather than what it says: embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069) and the direction marks.
_BIDI = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C])
DISPLAY_MAX = 255


def application_label(application: object) -> str:
    """The reference (IKM-2026-000123) or, before one is issued, `permohonan-<id>`."""
    reference = getattr(application, "reference", None)
    label = reference or f"permohonan-{application.pk}"
    return re.sub(r"[^A-Za-z0-9-]+", "-", label).strip("-") or f"permohonan-{application.pk}"


def _document_stem(document: object) -> str:
    word = KIND_WORDS.get(document.kind, "dokumen")
    return f"{word}-{application_label(document.application)}"


def stored_document_name(document: object) -> str:
    return random_name("documents", _document_stem(document), suffix_for(document.content_type))


def served_document_name(document: object) -> str:
    return f"{_document_stem(document)}-{document.pk}{suffix_for(document.content_type)}"


def _photo_stem(photo: object) -> str:
    return f"{PHOTO_WORD}-{application_label(photo.visit.application)}"


def stored_photo_name(photo: object) -> str:
    return random_name("site-visits", _photo_stem(photo), suffix_for(photo.content_type))


def served_photo_name(photo: object) -> str:
    return f"{_photo_stem(photo)}-{photo.pk}{suffix_for(photo.content_type)}"


def display_name(raw: str | None) -> str:
    """The uploader's file name as text to show: its last path part only, without control
    characters (CR, LF, NUL, ...) or bidi overrides, spaces collapsed, at most 255 characters."""
    text = (raw or "").translate(_BIDI)
    text = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    text = re.split(r"[/\\]", text)[-1]
    text = " ".join(text.split())
    if text in {".", ".."}:
        return ""
    return text[-DISPLAY_MAX:]
