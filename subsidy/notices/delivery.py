"""Sending a notice exactly once: claim it with a lease, send, mark it sent.

A worker that dies mid-send leaves a claim older than its lease; the notice is then sent
again, with the same Message-ID, so the mail server or the reader can tell.
"""

import datetime as dt
import functools
import hashlib

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import connection
from django.db.models import F, JSONField, Q
from django.utils import timezone

from subsidy.models import Notice
from subsidy.notices.compose import render_html
from subsidy.notices.letters import approval_letter_pdf, letter_filename

PENDING, SENDING, SENT = Notice.Status.PENDING, Notice.Status.SENDING, Notice.Status.SENT


MAX_ATTEMPTS = 5


# Retry n (1-based) waits 30 s x 2^(n-1), at most half an hour: 30, 60, 120, 240 s.
MAX_BACKOFF_SECONDS = 1800


def lease() -> dt.timedelta:
    """A claim older than this is a worker that died mid-send: the notice may be sent again.

    Read at each call (settings.NOTICE_LEASE_SECONDS) so a test or a worker started with
    another value uses it; it must exceed send_notice's hard time limit.
    """
    return dt.timedelta(seconds=settings.NOTICE_LEASE_SECONDS)


def retry_delay(attempts: int) -> int:
    """Seconds to wait before the next try after `attempts` failed ones (exponential backoff)."""
    return min(30 * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


def message_id(notice: Notice) -> str:
    """Stable across retries and workers: the same notice is the same message."""
    digest = hashlib.sha256(notice.key.encode()).hexdigest()[:32]
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip(" >") or "localhost"
    return f"<notice-{digest}@{domain}>"


# PostgreSQL: one statement that claims the notice and returns it with the recipient's
# address, committed without waiting for the WAL flush. Waiting for the disk on each of a
# send's two commits, and the round trips of a transaction around them, were most of its
# time. Only a crash of the database server can lose such a commit, within a fraction of a
# second; that sets the notice back, and it is sent again with the same Message-ID, exactly
# as when a worker is killed before its mark. Visibility and row locks are those of any
# commit, so two workers still cannot both claim it. The notice itself is created durably,
# in the transition's transaction. set_config(..., true) holds for this statement's own
# transaction only: the session keeps its synchronous commits.
_ASYNC_COMMIT = (
    "WITH relaxed AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true))"
)


def _async_commit_here() -> bool:
    # Inside an outer transaction the setting would hold for all of it: keep it synchronous.
    return connection.vendor == "postgresql" and not connection.in_atomic_block


@functools.cache
def _claim_sql() -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(f"n.{quote(f.column)}" for f in Notice._meta.concrete_fields)
    # Only identifiers from the models are interpolated; every value is a parameter.
    return f"""{_ASYNC_COMMIT}
UPDATE {quote(Notice._meta.db_table)} AS n
   SET status = %s, claimed_at = %s, attempts = n.attempts + 1
  FROM relaxed, {quote(get_user_model()._meta.db_table)} AS u
 WHERE n.id = %s AND u.id = n.recipient_id
   AND (n.status = %s OR (n.status = %s AND n.claimed_at < %s))
RETURNING {columns}, u.email"""  # noqa: S608


def _claim_in_one_statement(notice_id: int, now: dt.datetime) -> Notice | None:
    with connection.cursor() as cursor:
        cursor.execute(
            _claim_sql(),
            [SENDING, now, notice_id, PENDING, SENDING, now - lease()],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    *values, email = row
    fields = Notice._meta.concrete_fields
    values = [
        f.from_db_value(v, None, connection) if isinstance(f, JSONField) else v
        for f, v in zip(fields, values, strict=True)
    ]
    notice = Notice.from_db(connection.alias, [f.attname for f in fields], values)
    # Only the address is needed to send; the rest of the user is loaded if ever read.
    notice.recipient = get_user_model().from_db(
        connection.alias, ["id", "email"], [notice.recipient_id, email]
    )
    return notice


def claim(notice_id: int) -> Notice | None:
    """Take the notice for sending, or None if it is sent, failed or leased by another worker."""
    now = timezone.now()
    if _async_commit_here():
        return _claim_in_one_statement(notice_id, now)
    # One conditional UPDATE: of two workers racing, the database lets exactly one match.
    claimed = Notice.objects.filter(
        Q(status=PENDING) | Q(status=SENDING, claimed_at__lt=now - lease()), pk=notice_id
    ).update(status=SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return None
    return Notice.objects.select_related("recipient").get(pk=notice_id)


def _mark_sent(notice: Notice, last_error: str) -> bool:
    """Sent, if our claim still holds (a claim taken over after the lease is not ours)."""
    now = timezone.now()
    if _async_commit_here():
        quote = connection.ops.quote_name
        with connection.cursor() as cursor:
            cursor.execute(
                f"""{_ASYNC_COMMIT}
UPDATE {quote(Notice._meta.db_table)} AS n
   SET status = %s, sent_at = %s, last_error = %s
  FROM relaxed
 WHERE n.id = %s AND n.status = %s AND n.claimed_at = %s""",  # noqa: S608
                [SENT, now, last_error, notice.pk, SENDING, notice.claimed_at],
            )
            return cursor.rowcount == 1
    marked = Notice.objects.filter(
        pk=notice.pk, status=SENDING, claimed_at=notice.claimed_at
    ).update(status=SENT, sent_at=now, last_error=last_error)
    return marked == 1


def build_email(notice: Notice) -> EmailMultiAlternatives | None:
    """The e-mail of a notice: its stored title and text, an HTML alternative, the letter."""
    email = notice.recipient.email
    if not email:
        return None
    message = EmailMultiAlternatives(
        subject=notice.title,
        body=notice.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email],
        headers={"Message-ID": message_id(notice), "Content-Language": notice.language},
    )
    message.attach_alternative(render_html(notice), "text/html")
    if notice.kind == Notice.Kind.APPROVED and notice.application_id:
        message.attach(
            letter_filename(notice.application),
            approval_letter_pdf(notice.application, language=notice.language),
            "application/pdf",
        )
    return message


def deliver(notice: Notice) -> bool:
    """Send the claimed notice's e-mail, then mark it sent (only if our claim still holds)."""
    message = build_email(notice)
    if message is not None:
        message.send(fail_silently=False)
    return _mark_sent(notice, "" if message is not None else "no e-mail address: in-app only")


def release_after_failure(notice: Notice, error: BaseException, final: bool) -> None:
    """Back to `pending` for the retry, or `failed` after the last try, with the error."""
    Notice.objects.filter(pk=notice.pk, status=SENDING, claimed_at=notice.claimed_at).update(
        status=Notice.Status.FAILED if final else PENDING,
        last_error=f"{type(error).__name__}: {error}"[:2000],
    )


def stuck_notice_ids(now: dt.datetime | None = None) -> list[int]:
    """Notices to queue again: a dead worker's past its lease, a lost enqueue or a lost retry.

    Queuing a notice twice is harmless (the claim sends it once); the thresholds only keep
    a backlog that is merely slow from being queued again and again.
    """
    now = now or timezone.now()
    held = lease()
    dead_worker = Q(status=SENDING, claimed_at__lt=now - held)
    never_queued = Q(status=PENDING, claimed_at__isnull=True, created_at__lt=now - 5 * held)
    # A retry is due `retry_delay(attempts)` after the failed try (claimed, then released).
    retry_lost = Q(pk__in=[])
    for attempts in range(1, MAX_ATTEMPTS):
        overdue = now - held - dt.timedelta(seconds=retry_delay(attempts))
        retry_lost |= Q(status=PENDING, attempts=attempts, claimed_at__lt=overdue)
    return list(
        Notice.objects.filter(dead_worker | never_queued | retry_lost)
        .order_by("pk")
        .values_list("pk", flat=True)[:10_000]
    )
