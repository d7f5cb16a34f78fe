"""What an accepted format may not hold: JavaScript or actions in a PDF, decompression bombs.

Every file here is made in the test, a few hundred bytes at most (a bomb's compressed form)."""

import io
import struct
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from fpdf import FPDF
from PIL import Image

from subsidy import content_checks, files
from tests.utils import PDF_BYTES

ACTIVE = "JavaScript or automatic actions"


@pytest.fixture(autouse=True)
def _english():
    """The messages are checked in English (Indonesian is the default)."""
    with translation.override("en"):
        yield


def pdf(*objects: bytes) -> bytes:
    """A PDF with these objects numbered from 1 (no cross-reference table: not needed here)."""
    body = b"".join(b"%d 0 obj\n%s\nendobj\n" % (n, o) for n, o in enumerate(objects, 1))
    return b"%PDF-1.7\n" + body + b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"


def stream(dictionary: bytes, data: bytes) -> bytes:
    return b"<< %s /Length %d >>\nstream\n%s\nendstream" % (dictionary, len(data), data)


def object_stream(objects: bytes, filters: bytes = b"/Filter /FlateDecode") -> bytes:
    data = zlib.compress(objects) if b"Flate" in filters else objects
    if b"ASCIIHex" in filters:
        data = zlib.compress(objects).hex().encode() + b">"
    return stream(b"/Type /ObjStm /N 1 /First 4 " + filters, data)


PAGE = b"<< /Type /Page /MediaBox [0 0 100 100] >>"
CATALOG = b"<< /Type /Catalog /Pages 3 0 R >>"


def problem(data: bytes) -> str | None:
    return files.check_upload(SimpleUploadedFile("x.pdf", data))[0]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            pdf(b"<< /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>"),
            id="open-action-javascript",
        ),
        # The same names with #xx escapes: /J#53 is /JS, /#4Aava#53cript is /JavaScript.
        pytest.param(
            pdf(b"<< /Type /Catalog /OpenAction 2 0 R >>", b"<< /S /#4Aava#53cript /J#53 (x) >>"),
            id="hex-escaped-names",
        ),
        pytest.param(pdf(CATALOG, PAGE + b"<< /AA << /O 4 0 R >> >>"), id="additional-actions"),
        pytest.param(pdf(CATALOG, b"<< /S /Launch /F (cmd.exe) >>"), id="launch"),
        # PDF 1.5 hides dictionaries in compressed object streams: inflated and read too.
        pytest.param(
            pdf(CATALOG, object_stream(b"2 0 << /S /JavaScript /JS (app.alert(1)) >>")),
            id="javascript-in-compressed-object-stream",
        ),
    ],
)
def test_a_pdf_that_can_run_code_is_refused_with_a_clear_message(data):
    assert ACTIVE in problem(data)


def test_an_object_stream_behind_a_filter_that_is_not_undone_is_refused():
    data = pdf(CATALOG, object_stream(b"2 0 << >>", b"/Filter [/ASCIIHexDecode /FlateDecode]"))

    assert "cannot be checked" in problem(data)


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(PDF_BYTES, id="minimal"),
        # Opening at a page is an action that runs nothing.
        pytest.param(pdf(b"<< /Type /Catalog /OpenAction [3 0 R /Fit] >>", PAGE), id="goto-page"),
        # A longer name that starts like one refused is another name.
        pytest.param(pdf(b"<< /JSX 1 /AAB 2 /Launcher 3 >>"), id="similar-names"),
        # A page's drawing operators are not objects: "/JS" there runs nothing.
        pytest.param(
            pdf(CATALOG, stream(b"/Filter /FlateDecode", zlib.compress(b"/JS gs (x) Tj"))),
            id="name-in-content-stream",
        ),
        pytest.param(pdf(CATALOG, object_stream(b"2 0 << /Type /Font >>")), id="object-stream"),
    ],
)
def test_a_pdf_without_active_content_is_accepted(data):
    assert problem(data) is None


def test_a_pdf_written_by_a_pdf_library_is_accepted():
    document = FPDF()
    document.add_page()
    document.set_font("Helvetica", size=12)
    document.cell(text="Faktur INV/001: Rp 100.000.000")

    assert problem(bytes(document.output())) is None


def test_a_pdf_stream_that_inflates_past_the_limit_is_refused_without_holding_it(settings):
    settings.PDF_INFLATE_MAX_BYTES = 1024 * 1024
    # 8 MB of zeros in about 8 KB: eight times the limit.
    bomb = zlib.compress(b"\0" * (8 * 1024 * 1024), 9)
    assert len(bomb) < 16 * 1024
    data = pdf(CATALOG, stream(b"/Filter /FlateDecode", bomb))

    assert "expands beyond 1.0\xa0MB" in problem(data)
    with translation.override("id"):
        assert "mengembang melebihi 1,0\xa0MB" in problem(data)


def test_streams_count_together_toward_the_inflate_limit(settings):
    settings.PDF_INFLATE_MAX_BYTES = 1024 * 1024
    part = stream(b"/Filter /FlateDecode", zlib.compress(b"\0" * (600 * 1024)))

    assert problem(pdf(CATALOG, part)) is None
    assert "expands beyond" in problem(pdf(CATALOG, part, part))


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims the size; its one data chunk holds a few bytes only."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def jpeg_claiming(width: int, height: int) -> bytes:
    """A JPEG whose start-of-frame claims the size, and nothing to decode."""
    frame = struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8\xff\xc0" + frame + b"\xff\xd9"


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(png_claiming(100_000, 100_000), id="png-100000x100000"),
        pytest.param(jpeg_claiming(65_000, 65_000), id="jpeg-65000x65000"),
        # Past the setting but under Pillow's own refusal (twice it): its warning is an error.
        pytest.param(png_claiming(7_000, 7_000), id="png-49-megapixels"),
    ],
)
def test_an_image_claiming_too_many_pixels_is_refused_without_decoding(data, settings, monkeypatch):
    assert settings.MAX_IMAGE_PIXELS == 40_000_000

    # Decoding 10^10 pixels would take minutes and 30 GB: the header alone must decide.
    def decoding(*args: object, **kwargs: object) -> None:
        raise AssertionError("the pixels were decoded")

    monkeypatch.setattr(Image.Image, "load", decoding)
    monkeypatch.setattr(Image.Image, "verify", decoding)

    refused, sniffed = files.check_upload(SimpleUploadedFile("foto.png", data))

    assert "too large: at most 40 megapixels" in refused
    assert sniffed is None


def test_the_same_refusal_holds_for_a_site_visit_photo():
    refused, _sniffed = files.check_photo(SimpleUploadedFile("x.png", png_claiming(10**5, 10**5)))

    assert "too large" in refused


def test_a_real_photo_is_accepted_and_pillow_limit_is_the_setting(settings):
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "green").save(buffer, "JPEG")

    assert files.check_upload(SimpleUploadedFile("x.jpg", buffer.getvalue()))[0] is None
    assert Image.MAX_IMAGE_PIXELS == settings.MAX_IMAGE_PIXELS


def test_pdf_names_decode_hex_escapes_and_stop_at_delimiters():
    names = content_checks.pdf_names(b"<</J#53(x)/Java#53cript/AA[/Launch]>>")

    assert names == {b"JS", b"JavaScript", b"AA", b"Launch"}
