"""What an accepted format may not hold: JavaScript or actions in a PDF, a decompression bomb.

A PDF is refused when any of its objects names /JS, /JavaScript, /AA (actions run on events)
or /Launch, written plainly or with #xx escapes (/J#53 is /JS). Names are read as PDF tokens
outside the streams' data, and inside object streams (/Type /ObjStm, where PDF 1.5 hides
dictionaries in compressed data), which are inflated to check them. Every Flate stream is
inflated with a bound: a file whose streams grow past PDF_INFLATE_MAX_BYTES in all is refused
as a decompression bomb, the data never held whole. An /OpenAction that opens a page is
allowed; one that runs JavaScript names /JS or /JavaScript and is refused with them.

An image is refused when its header claims more than MAX_IMAGE_PIXELS pixels (Pillow reads
only the header: nothing is decoded). An image Pillow cannot read at all is left to the
formats' own checks (files.sniff_content_type), as before.
"""

import re
import warnings
import zlib

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

# Names whose presence means the PDF can run code or act on its own.
ACTIVE_NAMES = frozenset({b"JS", b"JavaScript", b"AA", b"Launch"})
# A PDF name: a solidus then regular characters (PDF 32000-1, 7.2.2 and 7.3.5).
_NAME = re.compile(rb"/([^\x00\t\n\x0c\r ()<>\[\]{}/%]*)")
_HEX_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# A stream's data starts after its dictionary's ">>" and the keyword; it ends at endstream.
_STREAM = re.compile(rb">>[\x00\t\n\x0c\r ]*stream(?:\r\n|\n|\r)")
_ENDSTREAM = b"endstream"
_OBJ = re.compile(rb"\bobj\b")
# The only filter undone to read an object stream's dictionaries.
_FLATE = frozenset({b"FlateDecode", b"Fl"})
_FILTERS = frozenset(
    {
        b"ASCIIHexDecode",
        b"AHx",
        b"ASCII85Decode",
        b"A85",
        b"LZWDecode",
        b"LZW",
        b"RunLengthDecode",
        b"RL",
        b"CCITTFaxDecode",
        b"CCF",
        b"JBIG2Decode",
        b"DCTDecode",
        b"DCT",
        b"JPXDecode",
        b"Crypt",
    }
)
# Inflated in pieces of this size, so a bomb is stopped after one piece past the bound.
_INFLATE_PIECE = 1024 * 1024


class PdfRefused(Exception):
    """Why a PDF is refused, in the user's language."""


def pdf_names(data: bytes) -> set[bytes]:
    """The names in a piece of PDF syntax, #xx escapes decoded."""
    return {
        _HEX_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), match.group(1))
        for match in _NAME.finditer(data)
    }


def _split_streams(data: bytes) -> tuple[list[bytes], list[tuple[bytes, bytes]]]:
    """(the syntax outside stream data, [(a stream's dictionary, its raw data)])."""
    outside: list[bytes] = []
    streams: list[tuple[bytes, bytes]] = []
    position = 0
    while True:
        start = _STREAM.search(data, position)
        if start is None:
            outside.append(data[position:])
            return outside, streams
        syntax = data[position : start.start() + 2]
        outside.append(syntax)
        end = data.find(_ENDSTREAM, start.end())
        if end < 0:
            end = len(data)
        # The dictionary: what follows the last "obj" keyword before the stream.
        objects = list(_OBJ.finditer(syntax))
        dictionary = syntax[objects[-1].end() :] if objects else syntax
        streams.append((dictionary, data[start.end() : end]))
        position = end + len(_ENDSTREAM)


def _inflate(raw: bytes, budget: int, *, keep: bool) -> tuple[int, bytes | None]:
    """(bytes inflated, the data if kept; None when it is not zlib data). Inflated a piece at a
    time: PdfRefused as soon as it grows past budget, never held whole."""
    inflater = zlib.decompressobj()
    pieces = []
    size = 0
    pending = raw
    try:
        while not inflater.eof:
            piece = inflater.decompress(pending, _INFLATE_PIECE)
            stalled = not piece and inflater.unconsumed_tail == pending
            pending = inflater.unconsumed_tail
            if stalled or (not piece and not pending):
                break
            size += len(piece)
            if size > budget:
                raise PdfRefused(bomb_message())
            if keep:
                pieces.append(piece)
    except zlib.error:
        if not size:
            return 0, None
    return size, b"".join(pieces)


def bomb_message() -> str:
    return _(
        "The PDF holds compressed data that expands beyond %(limit)s; it is refused. "
        "Save or print it again as a plain PDF."
    ) % {"limit": filesizeformat(settings.PDF_INFLATE_MAX_BYTES)}


def active_content_message() -> str:
    return _(
        "The PDF contains JavaScript or automatic actions, which are not accepted. "
        "Print it to a new PDF (or scan the paper) and upload that."
    )


def unreadable_objects_message() -> str:
    return _(
        "The PDF hides part of its content in a form that cannot be checked; it is refused. "
        "Print it to a new PDF (or scan the paper) and upload that."
    )


def check_pdf(data: bytes) -> None:
    """PdfRefused when the PDF can run code, hides objects we cannot read, or inflates past
    PDF_INFLATE_MAX_BYTES."""
    outside, streams = _split_streams(data)
    names: set[bytes] = set()
    for syntax in outside:
        names |= pdf_names(syntax)
    budget = settings.PDF_INFLATE_MAX_BYTES
    for dictionary, raw in streams:
        keys = pdf_names(dictionary)
        objects = b"ObjStm" in keys
        if not keys & _FLATE:
            if objects and keys & _FILTERS:
                raise PdfRefused(unreadable_objects_message())
            if objects:
                names |= pdf_names(raw)
            continue
        if objects and keys & _FILTERS:
            raise PdfRefused(unreadable_objects_message())
        size, inflated = _inflate(raw, budget, keep=objects)
        if inflated is None:
            if objects:
                raise PdfRefused(unreadable_objects_message())
            continue
        budget -= size
        if objects:
            names |= pdf_names(inflated)
    if names & ACTIVE_NAMES:
        raise PdfRefused(active_content_message())


def image_problem(file: object) -> str | None:
    """Why an image is refused (too many pixels claimed), or None; read from its header only."""
    limit = settings.MAX_IMAGE_PIXELS
    message = _(
        "The image is too large: at most %(limit)s megapixels are accepted. "
        "Send a smaller photo or scan."
    ) % {"limit": limit // 1_000_000}
    file.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(file) as image:
                width, height = image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return message
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    finally:
        file.seek(0)
    if width * height > limit:
        return message
    return None


def pdf_problem(file: object) -> str | None:
    """Why a PDF is refused, or None. The upload is at most DOCUMENT_MAX_BYTES: read whole."""
    file.seek(0)
    try:
        data = file.read(settings.DOCUMENT_MAX_BYTES + 1)
    finally:
        file.seek(0)
    try:
        check_pdf(data)
    except PdfRefused as refused:
        return str(refused)
    return None
