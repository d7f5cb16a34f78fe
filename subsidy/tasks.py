"""Celery jobs: each takes ids, calls one service, and owns its retries and time limits."""

import logging

from celery import shared_task

from . import computation, notices

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def compute_application(application_id: int) -> int:
    """Compute one application's refund; safe to run twice or concurrently (versioned store)."""
    return computation.compute_applications([application_id])


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def recompute_programme(programme_id: int) -> int:
    """Recompute every open application of a programme after its settings changed."""
    return computation.recompute_programme(programme_id)


@shared_task(
    bind=True,
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
    max_retries=notices.MAX_ATTEMPTS - 1,
)
def send_notice(self, notice_id: int) -> str:
    """Send one notice once: claim it with a lease, send, mark sent; retry with backoff."""
    notice = notices.claim(notice_id)
    if notice is None:
        return "skipped"
    try:
        notices.deliver(notice)
    except Exception as exc:
        final = self.request.retries >= self.max_retries
        notices.release_after_failure(notice, exc, final=final)
        if final:
            logger.error("notice %s failed for good: %s", notice.key, exc)
            return "failed"
        raise self.retry(exc=exc, countdown=min(30 * 2**self.request.retries, 1800)) from exc
    return "sent"


@shared_task(acks_late=True, soft_time_limit=120, time_limit=150)
def requeue_stuck_notices() -> int:
    """Beat: queue again what a dead worker left in `sending` past its lease, or never queued."""
    ids = notices.stuck_notice_ids()
    for pk in ids:
        send_notice.delay(pk)
    return len(ids)


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def send_sla_digests() -> int:
    """Beat, daily: one digest per verifier of their cases waiting past the service level."""
    return len(notices.create_sla_digests())


@shared_task(acks_late=True, soft_time_limit=300, time_limit=360)
def send_draft_reminders() -> int:
    """Beat, daily: remind applicants of drafts three days before applications close."""
    return len(notices.create_draft_reminders())
