"""Celery jobs: each takes ids, calls one service, and owns its retries and time limits."""

import logging

from celery import shared_task
from django.conf import settings
from django.db import OperationalError

from subsidy import scanning
from subsidy.engine import computation, stale
from subsidy.exports import jobs as export_jobs
from subsidy.notices import compose as notices
from subsidy.notices import delivery
from subsidy.services import audit_anchors

logger = logging.getLogger(__name__)


# A computation that could not store (rows held too long, a lost connection, a deadlock) must
# not leave results stale for good: nothing else would enqueue it again. Running it again is
# safe: the store is conditional on the version read.
_COMPUTE_RETRY = {
    "autoretry_for": (computation.ComputationBusy, OperationalError),
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "max_retries": 8,
}


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150, **_COMPUTE_RETRY)
def compute_application(application_id: int) -> int:
    """Compute one application's refund if still stale; safe to run twice or concurrently (the
    store is conditional on the version read, and on the results being stale)."""
    return computation.compute_stale([application_id])


# A programme's recompute is queued as chunk jobs of settings.RECOMPUTE_CHUNK_SIZE
# applications, each storing its own: a killed worker costs one chunk (redelivered, or queued
# again by requeue_stale_computations), never the rest of the programme.
@shared_task(acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def recompute_programme(programme_id: int) -> int:
    """Queue the recompute of a programme's stale open applications, a chunk per job."""
    return len(stale.queue_in_chunks(stale.programme_stale_ids(programme_id)))


@shared_task(
    acks_late=True, ignore_result=True, soft_time_limit=300, time_limit=360, **_COMPUTE_RETRY
)
def compute_chunk(application_ids: list[int]) -> int:
    """Compute those of these applications whose results are still stale."""
    return computation.compute_stale(application_ids)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def requeue_stale_computations() -> int:
    """Beat, every minute: queue again computations still stale long after they were queued."""
    return len(stale.requeue_stale_computations())


# The hard limit (90 s) is below the claim's lease (settings.NOTICE_LEASE_SECONDS, 120 s): a
# worker still sending can never see its notice taken over by another.
@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    soft_time_limit=60,
    time_limit=90,
    max_retries=delivery.MAX_ATTEMPTS - 1,
)
def send_notice(self, notice_id: int) -> str:
    """Send one notice once: claim it with a lease, send, mark sent; retry with backoff."""
    notice = delivery.claim(notice_id)
    if notice is None:
        return "skipped"
    try:
        delivery.deliver(notice)
    except Exception as exc:
        # Tries are counted on the row: a requeued or redelivered job does not get five more.
        final = notice.attempts >= delivery.MAX_ATTEMPTS or self.request.retries >= self.max_retries
        delivery.release_after_failure(notice, exc, final=final)
        if final:
            logger.error("notice %s failed for good: %s", notice.key, exc)
            return "failed"
        logger.warning("notice %s failed (try %s), retrying: %s", notice.key, notice.attempts, exc)
        raise self.retry(exc=exc, countdown=delivery.retry_delay(notice.attempts)) from exc
    return "sent"


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=120, time_limit=150)
def requeue_stuck_notices() -> int:
    """Beat: queue again what a dead worker left past its lease, or what was never queued."""
    ids = delivery.stuck_notice_ids()
    for pk in ids:
        send_notice.delay(pk)
    return len(ids)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=300, time_limit=360)
def send_sla_digests() -> int:
    """Beat, daily: one digest per officer of the cases in their queues past the service level."""
    return len(notices.create_sla_digests())


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=300, time_limit=360)
def send_draft_reminders() -> int:
    """Beat, daily: remind applicants of drafts three days before applications close."""
    return len(notices.create_draft_reminders())


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=600, time_limit=660)
def anchor_audit_trail() -> int:
    """Beat, hourly: verify the audit trail and append its head to the anchor file."""
    anchor = audit_anchors.audit_anchor_write()
    return anchor.seq if anchor else 0


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=600, time_limit=660)
def mail_audit_anchor() -> int:
    """Beat, daily: mail the latest anchor (or the broken entry) to the auditors."""
    return audit_anchors.audit_anchor_mail()


# Late acks and a requeue when the worker process dies: a killed export runs again, and its
# message, delivered again, takes the claim over at once (subsidy/exports/jobs.py). The claim
# counts attempts, so one that kills its worker every time is failed after the last rather
# than redelivered for ever. Any other message for an export a live run is writing does
# nothing: no retry timed against the heartbeat; a run that dies without its message coming
# back is found by sweep_exports once its heartbeat is stale.
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    soft_time_limit=settings.EXPORT_SOFT_TIME_LIMIT,
    time_limit=settings.EXPORT_TIME_LIMIT,
)
def run_export(self, export_id: int) -> str:
    """Write one background export (CSV or XLSX) to the private storage, with its progress."""
    return export_jobs.run_export(export_id, delivery=self.request.id or "")


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def sweep_exports() -> int:
    """Beat: queue again exports a dead worker left running (or fail them after their last
    attempt)."""
    swept = export_jobs.sweep_exports()
    return len(swept["requeued"]) + len(swept["failed"])


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=300, time_limit=360)
def delete_expired_exports() -> int:
    """Beat, hourly: delete export files older than EXPORT_KEEP_DAYS (their records stay)."""
    return export_jobs.delete_expired_exports()


# The longest wait between two tries of a scan whose scanner did not answer.
SCAN_RETRY_MAX_SECONDS = 600


@shared_task(
    bind=True,
    acks_late=True,
    ignore_result=True,
    soft_time_limit=180,
    time_limit=210,
    max_retries=12,
)
def scan_document(self, document_id: int, retry: bool = True) -> str:
    """Scan an upload with ClamAV; while the scanner is unreachable, the file stays pending and
    the scan is tried again with a doubling wait (beat's requeue_pending_scans after that, whose
    scans are tried once each: beat itself comes back every 5 minutes)."""
    try:
        return scanning.scan_document(document_id)
    except scanning.ScannerUnavailable as exc:
        if self.request.is_eager or not retry:
            # In process nothing can wait and try again: beat's requeue_pending_scans will.
            logger.warning("document %s stays pending: %s", document_id, exc)
            return "pending"
        delay = min(settings.SCAN_RETRY_SECONDS * 2**self.request.retries, SCAN_RETRY_MAX_SECONDS)
        logger.warning("document %s stays pending, retry in %s s: %s", document_id, delay, exc)
        if self.request.retries >= self.max_retries:
            return "pending"
        raise self.retry(exc=exc, countdown=delay) from exc


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def requeue_pending_scans() -> int:
    """Beat: queue again the scans still pending after SCAN_REQUEUE_MINUTES."""
    if scanning.ping() != "ok":
        # Off, or still down: the scans in flight keep retrying; nothing to add to them.
        return 0
    ids = scanning.stale_pending_ids()
    for pk in ids:
        scan_document.delay(pk, retry=False)
    return len(ids)
