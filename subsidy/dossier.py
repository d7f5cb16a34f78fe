"""The case dossier: one zip with everything an auditor needs to check a case offline.

At its root: `summary.pdf` (the case on paper), `breakdown.csv` (the engine's figures per
machine), `history.json` (the transitions, this case's audit entries and the verdict of the
whole audit chain), `documents/` (every document under a name built from its kind, id and
sniffed type, never the uploader's file name; staff also get the site-visit photos) and
`manifest.csv` (path, SHA-256 and size of every other file).

The zip is written entry by entry into a spooled temporary file and each stored file is
copied in chunks, hashed on the way: memory stays at a few chunks whatever the documents
weigh (tests/subsidy/test_dossier.py measures it).
"""

import csv
import datetime as dt
import hashlib
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from config.json_io import local_timestamps
from subsidy import access, audit, files, formats, selectors
from subsidy.choices import DocumentKind
from subsidy.exports import rows
from subsidy.findings import finding_detail
from subsidy.models import Application, AuditEntry, Document, MachineItem
from subsidy.notices import letters

# Read and written in pieces of this size: the memory a download costs, whatever the files.
CHUNK = 256 * 1024
# A small dossier stays in memory; a larger one spills to a temporary file on disk.
SPOOL_BYTES = 1024 * 1024
# A site-visit photo's "kind" in its name, as the audit trail calls it.
PHOTO_KIND = "site_visit_photo"
# The suffix of a stored file whose content is no longer an accepted format.
UNKNOWN_SUFFIX = ".bin"

# The machine-items export's columns (API.md "Exports") less the case's own three: reference,
# company name and NIB are the dossier's once, in its summary.
CASE_COLUMNS = 3
BREAKDOWN_COLUMNS = rows.ITEM_COLUMNS[CASE_COLUMNS:]


@dataclass(frozen=True)
class Included:
    path: str
    kind: str
    record_id: int
    item_id: int | None
    original_name: str
    bytes: int
    sha256: str
    recorded_sha256: str

    @property
    def altered(self) -> bool:
        """The stored content is not what was uploaded (its SHA-256 at upload differs)."""
        return self.sha256 != self.recorded_sha256


@dataclass(frozen=True)
class LeftOut:
    kind: str
    record_id: int
    original_name: str
    reason: str


@dataclass
class Contents:
    """What went into the zip: the manifest's rows and the files left out, with why."""

    manifest: list[tuple[str, str, int]] = field(default_factory=list)
    documents: list[Included] = field(default_factory=list)
    photos: list[Included] = field(default_factory=list)
    left_out: list[LeftOut] = field(default_factory=list)


class Unreadable(Exception):
    """A stored file that cannot be opened: it is left out and named in the summary."""


class _HashingSink:
    """The zip's destination, hashed as it is written.

    It has no tell() or seek() on purpose: zipfile then writes each entry once, in order,
    with its sizes and CRC after the data, so the SHA-256 of the whole zip is known the moment
    the last byte is written (and recorded in the audit trail) without reading it back.
    """

    def __init__(self, target: object) -> None:
        self.target = target
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.target.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self.target.flush()


class _Archive:
    """A zip being written, with the manifest row of every file put in it."""

    def __init__(self, sink: _HashingSink) -> None:
        self.zip = zipfile.ZipFile(sink, mode="w")
        self.contents = Contents()

    def _info(self, path: str, moment: dt.datetime, compress: bool) -> zipfile.ZipInfo:
        local = formats.local_datetime(moment)
        info = zipfile.ZipInfo(path, date_time=local.timetuple()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    def add_bytes(
        self, path: str, data: bytes, *, moment: dt.datetime, listed: bool = True
    ) -> None:
        self.zip.writestr(self._info(path, moment, compress=True), data)
        if listed:
            self.contents.manifest.append((path, hashlib.sha256(data).hexdigest(), len(data)))

    def add_stored(
        self, stem: str, stored: object, *, size_hint: int, moment: dt.datetime
    ) -> tuple[str, str, int]:
        """Copy a stored file in chunks as `stem` + the suffix its content shows.

        (path, SHA-256, bytes); Unreadable when the file cannot be opened and nothing is
        written. A read failing halfway is not caught: a dossier is whole or not given.
        """
        try:
            source = stored.storage.open(stored.name, "rb")
        except OSError as error:
            raise Unreadable(stored.name) from error
        with source:
            try:
                chunk = source.read(CHUNK)
            except OSError as error:
                raise Unreadable(stored.name) from error
            sniffed = files.sniff_content_type(chunk[: files.SNIFF_BYTES])
            path = stem + (sniffed[1] if sniffed else UNKNOWN_SUFFIX)
            # PDF, JPEG and PNG are compressed already: stored as they are.
            info = self._info(path, moment, compress=False)
            info.file_size = size_hint  # lets zipfile choose ZIP64 for a huge file
            digest = hashlib.sha256()
            size = 0
            with self.zip.open(info, mode="w") as target:
                while chunk:
                    target.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
                    chunk = source.read(CHUNK)
        sha256 = digest.hexdigest()
        self.contents.manifest.append((path, sha256, size))
        return path, sha256, size

    def close(self) -> None:
        self.zip.close()


def dossier_filename(application: Application) -> str:
    return f"dossier-{application.reference or application.pk}.zip"


def _copy_documents(archive: _Archive, application: Application) -> None:
    documents = Document.objects.filter(application=application).order_by("id")
    for document in documents:
        try:
            path, sha256, size = archive.add_stored(
                f"documents/{document.kind}-{document.pk}",
                document.file,
                size_hint=document.size,
                moment=document.uploaded_at,
            )
        except Unreadable:
            archive.contents.left_out.append(
                LeftOut(
                    document.kind,
                    document.pk,
                    document.original_name,
                    _("The stored file is missing or cannot be read."),
                )
            )
            continue
        archive.contents.documents.append(
            Included(
                path,
                document.kind,
                document.pk,
                document.item_id,
                document.original_name,
                size,
                sha256,
                document.sha256,
            )
        )


def _copy_photos(archive: _Archive, application: Application, user: object) -> None:
    """The site-visit photos, for those who may see them (staff; not the applicant)."""
    photos = (
        selectors.site_visit_photos_visible_to(user)
        .filter(visit__application=application)
        .order_by("id")
    )
    kind = PHOTO_KIND
    for photo in photos:
        try:
            path, sha256, size = archive.add_stored(
                f"documents/{kind}-{photo.pk}",
                photo.file,
                size_hint=photo.size,
                moment=photo.uploaded_at,
            )
        except Unreadable:
            archive.contents.left_out.append(
                LeftOut(
                    kind,
                    photo.pk,
                    photo.original_name,
                    _("The stored file is missing or cannot be read."),
                )
            )
            continue
        archive.contents.photos.append(
            Included(path, kind, photo.pk, None, photo.original_name, size, sha256, photo.sha256)
        )


def breakdown_csv(items: QuerySet[MachineItem]) -> bytes:
    """One row per machine: its facts and the engine's rate, refund and finding codes, written
    as the machine-items export writes them (one rule for a cell: subsidy.exports.rows)."""
    lines = [rows.csv_line(BREAKDOWN_COLUMNS)]
    lines.extend(rows.csv_line(row[CASE_COLUMNS:]) for row in rows.item_rows(items))
    # A BOM first, so spreadsheets read it as UTF-8 (API.md "Exports").
    return ("\ufeff" + "".join(lines)).encode("utf-8")


def _moment(value: dt.datetime | None) -> str | None:
    return formats.local_datetime(value).isoformat() if value is not None else None


def _verdict(verdict: audit.Verdict, verified_at: dt.datetime) -> dict:
    return {
        "intact": verdict.intact,
        "entries_checked": verdict.checked,
        "broken_at": verdict.seq,
        "reason": verdict.reason,
        "verified_at": _moment(verified_at),
    }


def history_json(
    application: Application, verdict: audit.Verdict, verified_at: dt.datetime
) -> bytes:
    """The transitions, every audit entry of this case, and the verdict on the whole chain."""
    entries = list(
        AuditEntry.objects.filter(application_id=application.pk)
        .select_related("actor")
        .order_by("seq")
    )

    def actor(entry: AuditEntry) -> str | None:
        return entry.actor.username if entry.actor_id else None

    body = {
        "application": application.pk,
        "reference": application.reference,
        "status": application.status,
        "transitions": [
            {
                "at": _moment(e.at),
                "actor": actor(e),
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "comment": e.comment,
            }
            for e in entries
            if e.object_type == "application" and e.to_status
        ],
        "audit_entries": [
            {
                "seq": e.seq,
                "at": _moment(e.at),
                "actor": actor(e),
                "object_type": e.object_type,
                "object_id": e.object_id,
                "action": e.action,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "comment": e.comment,
                "changes": local_timestamps(e.changes),
                "prev_mac": e.prev_mac,
                "mac": e.mac,
            }
            for e in entries
        ],
        # The whole chain, not only this case's links: an entry of this case deleted or
        # changed shows only as a break in the chain around it.
        "audit_chain": _verdict(verdict, verified_at),
    }
    return json.dumps(body, ensure_ascii=False, indent=2).encode()


# --- The summary ------------------------------------------------------------------------------


def _heading(pdf: letters.LetterPdf, text: str) -> None:
    pdf.ln(3)
    pdf.text_line(text, style="B", size=11)
    pdf.ln(1)


def _table(pdf: letters.LetterPdf, widths: tuple, headings: list[str], rows: list[list]) -> None:
    pdf.set_font("Helvetica", "", 8)
    with pdf.table(
        col_widths=widths,
        text_align="LEFT",
        headings_style=FontFace(emphasis="BOLD", fill_color=(230, 230, 230)),
        line_height=4.4,
        padding=1,
    ) as table:
        table.row([letters.latin1(h) for h in headings])
        for row in rows:
            table.row([letters.latin1(cell) for cell in row])


def _kind_label(kind: str) -> str:
    if kind in DocumentKind.values:
        return str(DocumentKind(kind).label)
    return _("Site visit photo")


def _totals_rows(application: Application) -> list[tuple[str, str]]:
    breakdown = application.breakdown or {}
    cap = breakdown.get("max_refund_per_company", application.programme.max_refund_per_company)
    return [
        (_("Eligible total"), formats.rupiah(application.eligible_total)),
        (
            _("Cap per company (%(note)s)")
            % {"note": _("applied") if breakdown.get("cap_applied") else _("not reached")},
            formats.rupiah(cap),
        ),
        (_("Computed refund"), formats.rupiah(application.computed_discount)),
        (_("Minimum refund"), formats.rupiah(breakdown.get("min_refund"))),
    ]


def summary_pdf(
    application: Application,
    contents: Contents,
    verdict: audit.Verdict,
    *,
    by: object,
    at: dt.datetime,
    language: str,
) -> bytes:
    company = letters.company_in_force(application)
    with translation.override(language):
        reference = application.reference or f"#{application.pk}"
        pdf = letters.LetterPdf(
            reference, footer_text=_("Case dossier %(reference)s, page %(page)s of {nb}")
        )
        pdf.set_title(letters.latin1(f"{_('Case dossier')} {reference}"))
        pdf.set_author("Ditjen IKMA, Kementerian Perindustrian")
        pdf.add_page()
        letters.letterhead(pdf)
        pdf.text_line(_("Case dossier summary"), style="B", size=13, align="C")
        pdf.ln(2)
        programme = application.programme
        pdf.pairs(
            [
                (_("Reference"), reference),
                (_("Programme"), f"{programme.name} ({programme.year})"),
                (_("Status"), str(Application.Status(application.status).label)),
                (_("Submitted at"), formats.long_datetime(application.submitted_at, language)),
                (
                    _("Case officer"),
                    application.case_officer.username if application.case_officer_id else "-",
                ),
                (_("Compiled at"), formats.long_datetime(at, language)),
                (_("Compiled for"), getattr(by, "username", "")),
            ]
        )

        _heading(pdf, _("Company (as submitted)") if application.company_snapshot else _("Company"))
        pdf.pairs(
            [
                *letters.company_rows(company),
                ("KBLI", str(company.get("kbli", ""))),
                (_("Workers"), str(company.get("workers", ""))),
                (_("Investment value"), formats.rupiah(company.get("investment_value"))),
            ]
        )

        _heading(pdf, _("Machines and equipment"))
        letters.machine_table(pdf, application)

        _heading(pdf, _("Refund"))
        if application.computed_at is None:
            pdf.text_line(_("The refund is being computed after a change; figures may change."))
        pdf.pairs(_totals_rows(application), label_width=70)
        blocking = (application.breakdown or {}).get("blocking", [])
        for code in blocking:
            pdf.text_line(f"- {finding_detail(code)}")
        pdf.pairs(
            [
                (_("Approved refund"), formats.rupiah(application.approved_amount) or "-"),
                (_("Disbursed"), formats.rupiah(application.disbursed_amount) or "-"),
                (_("Transfer reference"), application.transfer_reference or "-"),
                (
                    _("Transferred on"),
                    formats.long_date(application.transferred_on, language) or "-",
                ),
                (_("Bank"), application.payout_bank_name),
                (_("Account number"), application.payout_account_number),
                (_("Account name"), application.payout_account_name),
            ],
            label_width=70,
        )

        _heading(pdf, _("Documents in this dossier"))
        included = contents.documents + contents.photos
        # Numbered as in the machine table above (by id).
        numbers = {
            pk: n
            for n, pk in enumerate(application.items.order_by("id").values_list("pk", flat=True), 1)
        }
        if included:
            _table(
                pdf,
                (50, 36, 16, 44, 24),
                [_("File"), _("Kind"), _("Machine"), _("Uploaded as"), _("Size")],
                [
                    [
                        d.path,
                        _kind_label(d.kind),
                        str(numbers.get(d.item_id, "-")),
                        d.original_name,
                        formats.group_thousands(d.bytes) + " B",
                    ]
                    for d in included
                ],
            )
        else:
            pdf.text_line(_("No document."))
        altered = [d for d in included if d.altered]
        if altered:
            _heading(pdf, _("Documents that differ from what was uploaded"))
            for d in altered:
                pdf.text_line(
                    _("%(path)s: its SHA-256 is not the one recorded at upload.") % {"path": d.path}
                )
        if contents.left_out:
            _heading(pdf, _("Documents left out"))
            _table(
                pdf,
                (40, 20, 45, 65),
                [_("Kind"), _("No."), _("Uploaded as"), _("Why")],
                [
                    [_kind_label(d.kind), str(d.record_id), d.original_name, d.reason]
                    for d in contents.left_out
                ],
            )

        _heading(pdf, _("Audit trail"))
        if verdict.intact:
            text = _("The audit trail is intact: %(count)s entries verified.") % {
                "count": formats.group_thousands(verdict.checked)
            }
        else:
            text = _("The audit trail is broken at entry %(seq)s: %(reason)s") % {
                "seq": verdict.seq,
                "reason": verdict.reason,
            }
        pdf.set_font("Helvetica", "B", 10)
        pdf.multi_cell(0, letters.LINE, letters.latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.text_line(
            _("history.json holds this case's entries; manifest.csv the SHA-256 of every file.")
        )
        return bytes(pdf.output())


def _manifest_csv(entries: list[tuple[str, str, int]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("path", "sha256", "bytes"))
    writer.writerows(entries)
    return out.getvalue().encode()


# --- Building and handing out -----------------------------------------------------------------


@dataclass(frozen=True)
class Dossier:
    file: object  # at its start, ready to be read
    filename: str
    sha256: str
    bytes: int
    contents: Contents


def build_dossier(application: Application, *, by: object, language: str = "id") -> Dossier:
    """The zip of one case, as `by` may see it, in a temporary file (memory: a few chunks)."""
    if not access.can_see_application(application, by):
        raise access.not_found()
    application = Application.objects.select_related("company", "programme", "case_officer").get(
        pk=application.pk
    )
    now = timezone.now()
    file = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        sink = _HashingSink(file)
        archive = _Archive(sink)
        _copy_documents(archive, application)
        _copy_photos(archive, application, by)
        archive.add_bytes(
            "breakdown.csv", breakdown_csv(application.items.order_by("id")), moment=now
        )
        verdict = audit.verify()
        archive.add_bytes(
            "history.json", history_json(application, verdict, timezone.now()), moment=now
        )
        archive.add_bytes(
            "summary.pdf",
            summary_pdf(application, archive.contents, verdict, by=by, at=now, language=language),
            moment=now,
        )
        # Last: it lists every other file.
        archive.add_bytes(
            "manifest.csv", _manifest_csv(archive.contents.manifest), moment=now, listed=False
        )
        archive.close()
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return Dossier(
        file, dossier_filename(application), sink.digest.hexdigest(), sink.size, archive.contents
    )


@transaction.atomic
def dossier_download_record(*, application: Application, by: object, dossier: Dossier) -> None:
    """Who took which dossier of which case, when: the zip's SHA-256 identifies the copy."""
    audit.record(
        actor=by,
        action="download",
        object_type="dossier",
        object_id=application.pk,
        application_id=application.pk,
        changes={
            "sha256": [None, dossier.sha256],
            "bytes": [None, dossier.bytes],
            "documents": [None, len(dossier.contents.documents)],
            "left_out": [None, len(dossier.contents.left_out)],
        },
    )


def dossier_response(application: Application, *, by: object, language: str) -> FileResponse:
    """The dossier as a download, recorded in the audit trail once it is built."""
    dossier = build_dossier(application, by=by, language=language)
    try:
        dossier_download_record(application=application, by=by, dossier=dossier)
    except BaseException:
        dossier.file.close()
        raise
    response = FileResponse(
        dossier.file, content_type="application/zip", as_attachment=True, filename=dossier.filename
    )
    response.block_size = 64 * 1024
    response["X-Content-Type-Options"] = "nosniff"
    # Personal and bank data: no shared cache keeps a copy.
    response["Cache-Control"] = "private, no-store"
    return response
