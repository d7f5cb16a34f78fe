"""Celery jobs: each takes ids, calls one service, and owns its retries and time limits."""

import logging

from celery import shared_task
from django.db import OperationalError

from subsidy.engine import computation
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
    """Compute one application's refund; safe to run twice or concurrently (versioned store)."""
    return computation.compute_applications([application_id])


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900, **_COMPUTE_RETRY)
def recompute_programme(programme_id: int) -> int:
    """Recompute every open application of a programme after its settings changed."""
    return computation.recompute_programme(programme_id)


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
