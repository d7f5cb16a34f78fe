"""Malware scanning of uploaded documents with ClamAV (clamd), and the quarantine around it.

With CLAMAV_ADDRESS set, an upload is stored as "pending": listed to its applicant as being
checked, never downloadable, shown or counted as a required document, until a Celery job
(subsidy.tasks.scan_document, queued after the upload commits) has streamed it to clamd:
- clean: usable from then on;
- infected: its file is deleted from storage, the row stays (so the applicant, the history
  and the dossier can name it), the finding is recorded in the audit trail and the
  applicants are told in their language;
- clamd unreachable or in error: the file stays pending and the job retries with backoff; a
  beat job queues again scans still pending after SCAN_REQUEUE_MINUTES. Never clean by
  default.
Without CLAMAV_ADDRESS (the embedded default) nothing is scanned: uploads are usable at once
and marked "not scanned" wherever officers see them; preflight and /healthz say "off".

Files are read through the storage API in chunks (INSTREAM), never through a local path.
Site-visit photos (taken by officers on the ministry's devices) are not scanned; they get the
same content checks as documents (subsidy/files.py).
"""

import datetime as dt
import logging

from clamav_client.clamd import ClamdError, ClamdNetworkSocket, ClamdUnixSocket
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ServiceError
from subsidy import audit
from subsidy.models import Document
from subsidy.notices import compose

logger = logging.getLogger(__name__)

Status = Document.ScanStatus


class ScannerUnavailable(Exception):
    """clamd did not answer, or answered with an error: the file stays pending."""


def enabled() -> bool:
    return bool(settings.CLAMAV_ADDRESS)


def initial_status() -> str:
    """A new upload's status: pending while it waits for its scan, or not scanned at all."""
    return Status.PENDING if enabled() else Status.NOT_SCANNED


def _client(timeout: float) -> ClamdNetworkSocket:
    """A client for CLAMAV_ADDRESS: a Unix socket path, or host:port."""
    address = settings.CLAMAV_ADDRESS
    if address.startswith(("/", "unix://")):
        return ClamdUnixSocket(address, timeout=timeout)
    host, _sep, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise ScannerUnavailable(
            f"CLAMAV_ADDRESS={address!r} is neither a socket path nor host:port."
        )
    return ClamdNetworkSocket(host.strip("[]"), int(port), timeout=timeout)


def ping(timeout: float = 2.0) -> str:
    """'off', 'ok', or a one-line reason naming CLAMAV_ADDRESS (preflight and /healthz)."""
    if not enabled():
        return "off"
    try:
        reply = _client(timeout).ping()
    except (ClamdError, OSError, ScannerUnavailable) as exc:
        return (
            f"ClamAV unreachable at {settings.CLAMAV_ADDRESS}: {str(exc).rstrip('.')}. "
            "Check CLAMAV_ADDRESS and that clamd is running."
        )
    if reply != "PONG":
        return f"ClamAV at {settings.CLAMAV_ADDRESS} answered {reply!r} to PING."
    return "ok"


def scan_stream(stream: object) -> str | None:
    """The name of what clamd found in the stream, or None when it is clean.

    The stream is sent in chunks (INSTREAM): memory stays small whatever the file weighs.
    ScannerUnavailable when clamd cannot be reached or reports an error (a size limit, a
    read failure): an answer that is not OK or FOUND is never taken for clean.
    """
    try:
        replies = _client(settings.CLAMAV_TIMEOUT).instream(stream)
    except (ClamdError, OSError) as exc:
        raise ScannerUnavailable(f"{type(exc).__name__}: {exc}") from exc
    status, reason = replies.get("stream", ("ERROR", "no answer"))
    if status == "FOUND":
        return reason or "unnamed"
    if status == "OK":
        return None
    raise ScannerUnavailable(f"clamd answered {status}: {reason}")


def scan_document(document_id: int) -> str:
    """Scan one pending document and record the result; its status afterwards.

    The scan runs outside any transaction (no row is locked while clamd reads); the result is
    stored only if the row is still pending with the same file, so a job run twice, or a
    document removed meanwhile, changes nothing.
    """
    document = Document.objects.filter(pk=document_id).first()
    if document is None:
        return "gone"
    if document.scan_status != Status.PENDING:
        return document.scan_status
    name = document.file.name
    with document.file.open("rb") as stream:
        found = scan_stream(stream)
    return _record_result(document_id, name, found)


@transaction.atomic
def _record_result(document_id: int, name: str, found: str | None) -> str:
    document = (
        Document.objects.select_for_update(of=("self",))
        .select_related("application")
        .filter(pk=document_id, scan_status=Status.PENDING, file=name)
        .first()
    )
    if document is None:
        current = Document.objects.filter(pk=document_id).values_list("scan_status", flat=True)
        return current.first() or "gone"
    document.scan_status = Status.INFECTED if found else Status.CLEAN
    document.scan_signature = (found or "")[:200]
    document.scanned_at = timezone.now()
    fields = ["scan_status", "scan_signature", "scanned_at"]
    if found:
        # Out of reach at once: the row keeps the name only for the log, the file goes after
        # commit (a rolled-back result keeps it, still pending).
        storage = document.file.storage
        transaction.on_commit(lambda: storage.delete(name))
        document.file.name = ""
        fields.append("file")
    document.save(update_fields=fields)
    if found:
        compose.on_document_refused(document)
    audit.record(
        actor=None,
        action="scan",
        object_type="document",
        object_id=document.pk,
        application_id=document.application_id,
        changes={
            "scan_status": [Status.PENDING, document.scan_status],
            **({"signature": [None, found], "file": [name, None]} if found else {}),
        },
    )
    if found:
        logger.warning(
            "document %s of application %s refused: %s", document.pk, document.application_id, found
        )
    return document.scan_status


def stale_pending_ids(now: dt.datetime | None = None) -> list[int]:
    """Pending scans older than SCAN_REQUEUE_MINUTES: their job was lost or gave up."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(minutes=settings.SCAN_REQUEUE_MINUTES)
    return list(
        Document.objects.filter(scan_status=Status.PENDING, uploaded_at__lt=cutoff)
        .order_by("id")
        .values_list("pk", flat=True)[:1000]
    )


def unusable_reason(document: Document) -> str:
    """Why the document cannot be opened yet or at all; "" when it can."""
    if document.scan_status == Status.PENDING:
        return _("This document is still being checked for malware. Try again in a few minutes.")
    if document.scan_status == Status.INFECTED:
        return _("This document was refused: malware was found in it (%(name)s).") % {
            "name": document.scan_signature
        }
    return ""


def require_usable(document: Document) -> None:
    """The API's refusal (403) of a document being checked or refused."""
    reason = unusable_reason(document)
    if reason:
        code = "document_being_checked" if document.scan_status == Status.PENDING else "forbidden"
        raise ServiceError(code, reason)


def require_usable_page(document: Document) -> None:
    """The same for a page: a 403 page that says why (templates/403.html)."""
    reason = unusable_reason(document)
    if reason:
        raise PermissionDenied(reason)
