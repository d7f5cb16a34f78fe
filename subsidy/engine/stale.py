"""Marking results stale, and finding the applications a change makes stale.

A change marks what it invalidates and queues the computation after commit; the locks
taken here in a fixed order let edits and transitions that touch each other's
applications wait for one another instead of deadlocking.
"""

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from subsidy import jobs
from subsidy.models import Application, MachineItem

logger = logging.getLogger(__name__)

# Applications the beat job queues again per run, at most (the rest at its next run).
REQUEUE_LIMIT = 20_000


def lock_in_order(query: QuerySet) -> QuerySet:
    """Lock the applications of `query` in id order (inside a transaction); return the query.

    A plain UPDATE locks rows in whatever order its plan visits them; two transactions
    marking overlapping sets could then each wait for the other. Rows taken in id order by
    everyone who locks several applications cannot form such a cycle.
    """
    # Evaluated for its locks; the query itself is returned, not a list of ids, so a
    # programme of any size stays one UPDATE without a parameter per row.
    list(query.select_for_update().order_by("pk").values_list("pk", flat=True))
    return query


def lock_claim_keys(*, invoice_keys: Iterable[str], serial_keys: Iterable[str]) -> None:
    """Serialise transactions that claim the same invoice or serial (PostgreSQL).

    Two applicants adding the same invoice at the same moment would each look for rivals
    before the other committed, and neither would mark the other's application stale. A
    transaction-scoped advisory lock per key, taken first and in sorted order (before any row
    lock), makes the second wait and then see the first's item.
    """
    if connection.vendor != "postgresql":
        return  # SQLite serialises writers already.
    names = sorted(
        {f"invoice:{k}" for k in invoice_keys if k} | {f"serial:{k}" for k in serial_keys if k}
    )
    if names:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(name, 0)) "
                "FROM unnest(%s::text[]) AS name ORDER BY name",
                [names],
            )


def mark_stale(application_ids: Iterable[int]) -> list[int]:
    """Mark open applications' results stale and enqueue their computation after commit."""
    ids = sorted(set(application_ids))
    if not ids:
        return []
    lock_in_order(
        Application.objects.filter(pk__in=ids, status__in=Application.OPEN_STATUSES)
    ).update(computed_at=None, data_version=F("data_version") + 1, compute_queued_at=timezone.now())
    for pk in ids:
        jobs.enqueue_after_commit(jobs.COMPUTE_APPLICATION, pk)
    return ids


def queue_in_chunks(ids: list[int]) -> list[list[int]]:
    """Queue the computation of these applications as jobs of RECOMPUTE_CHUNK_SIZE each (each
    computes and commits its own, so a killed worker costs one); returns the chunks queued
    (not those the broker refused).

    Called by jobs (no transaction of theirs): the staleness they read is committed, so the
    chunks are queued at once."""
    size = settings.RECOMPUTE_CHUNK_SIZE
    chunks = [ids[start : start + size] for start in range(0, len(ids), size)]
    return [chunk for chunk in chunks if jobs.enqueue(jobs.COMPUTE_CHUNK, chunk)]


def programme_stale_ids(programme_id: int) -> list[int]:
    """A programme's open applications whose results are stale, in id order."""
    return list(
        Application.objects.filter(
            programme_id=programme_id,
            status__in=Application.OPEN_STATUSES,
            computed_at__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def requeue_stale_computations(now: dt.datetime | None = None) -> list[int]:
    """Beat: queue again the computations of open applications still stale
    COMPUTE_REQUEUE_SECONDS after they were queued (or never queued); returns the ids queued.

    Queuing one twice is harmless (a chunk computes only what is still stale, and the store is
    conditional on the version read); the threshold only keeps a long queue from being queued
    again and again.
    """
    now = now or timezone.now()
    due = now - dt.timedelta(seconds=settings.COMPUTE_REQUEUE_SECONDS)
    ids = list(
        Application.objects.filter(
            Q(compute_queued_at__isnull=True) | Q(compute_queued_at__lt=due),
            computed_at__isnull=True,
            status__in=Application.OPEN_STATUSES,
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:REQUEUE_LIMIT]
    )
    queued = [pk for chunk in queue_in_chunks(ids) for pk in chunk]
    # Only what the broker took waits COMPUTE_REQUEUE_SECONDS again; the rest stays due.
    for start in range(0, len(queued), 1000):
        Application.objects.filter(
            pk__in=queued[start : start + 1000], computed_at__isnull=True
        ).update(compute_queued_at=now)
    if ids:
        logger.warning(
            "stale computations queued again: %s of %s application(s)", len(queued), len(ids)
        )
    return queued


def applications_sharing_claims(
    *, invoice_keys: Iterable[str], serial_keys: Iterable[str], exclude_application: int | None
) -> list[int]:
    """Open applications holding an item with one of these invoice or serial keys."""
    invoice_keys = {k for k in invoice_keys if k}
    serial_keys = {k for k in serial_keys if k}
    if not invoice_keys and not serial_keys:
        return []
    query = MachineItem.objects.filter(
        Q(invoice_key__in=invoice_keys) | Q(serial_key__in=serial_keys),
        application__status__in=Application.OPEN_STATUSES,
    )
    if exclude_application is not None:
        query = query.exclude(application_id=exclude_application)
    return sorted(set(query.values_list("application_id", flat=True)))


def applications_counting_participation(*, company_id: int, year: int) -> list[int]:
    """Open applications of a company in programmes after `year`.

    They count the company's disbursed applications of earlier programmes
    (participation_limit_reached), so a disbursement in `year` changes their results.
    """
    return sorted(
        Application.objects.filter(
            company_id=company_id,
            programme__year__gt=year,
            status__in=Application.OPEN_STATUSES,
        ).values_list("pk", flat=True)
    )
