"""Notices (DOMAIN.md "Notices"): created in the transition's transaction, sent once after commit.

Sending claims the notice with a lease (a conditional update to `sending`), so a duplicate
delivery, a retry or two workers never send it twice. Each e-mail carries a Message-ID
derived from the notice key, so the one duplicate SMTP allows (a worker killed after the
server accepted the message, before the mark) is the same message to every mail client.
"""

import datetime as dt
import functools
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.db.models import F, JSONField, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import APPLICANT, VERIFIER
from config.errors import ServiceError

from .models import Application, Notice
from .selectors import cases_past_service_level

PENDING, SENDING, SENT = Notice.Status.PENDING, Notice.Status.SENDING, Notice.Status.SENT
MAX_ATTEMPTS = 5
# Retry n (1-based) waits 30 s x 2^(n-1), at most half an hour: 30, 60, 120, 240 s.
MAX_BACKOFF_SECONDS = 1800

ACTION_KINDS = {
    "submit": Notice.Kind.SUBMITTED,
    "request_revision": Notice.Kind.REVISION_REQUESTED,
    "approve": Notice.Kind.APPROVED,
    "reject": Notice.Kind.REJECTED,
    "disburse": Notice.Kind.DISBURSED,
}


def lease() -> dt.timedelta:
    """A claim older than this is a worker that died mid-send: the notice may be sent again.

    Read at each call (settings.NOTICE_LEASE_SECONDS) so a test or a worker started with
    another value uses it; it must exceed send_notice's hard time limit.
    """
    return dt.timedelta(seconds=settings.NOTICE_LEASE_SECONDS)


def retry_delay(attempts: int) -> int:
    """Seconds to wait before the next try after `attempts` failed ones (exponential backoff)."""
    return min(30 * 2 ** max(attempts - 1, 0), MAX_BACKOFF_SECONDS)


def rupiah(amount: int | None) -> str:
    if amount is None:
        return ""
    return "Rp" + f"{amount:,}".replace(",", ".")


def case_url(application_id: int) -> str:
    return f"{settings.SITE_URL}/api/v1/applications/{application_id}/"


def _titles() -> dict[str, str]:
    return {
        Notice.Kind.SUBMITTED: _("Application %(reference)s received"),
        Notice.Kind.REVISION_REQUESTED: _("Application %(reference)s needs revision"),
        Notice.Kind.APPROVED: _("Application %(reference)s approved"),
        Notice.Kind.REJECTED: _("Application %(reference)s rejected"),
        Notice.Kind.DISBURSED: _("Refund for %(reference)s transferred"),
        Notice.Kind.REMINDER: _("Reminder: %(subject)s"),
    }


def _status_label(status: str) -> str:
    try:
        return str(Application.Status(status).label)
    except ValueError:
        return status


def render(kind: str, language: str, context: dict) -> tuple[str, str]:
    """(title, plain text) in the recipient's language: the in-app notice and the e-mail."""
    with translation.override(language):
        # A header may not hold a line break (BadHeaderError): fold whitespace.
        title = " ".join((_titles()[kind] % context).split())
        ctx = {**context, "title": title, "kind": kind}
        if "status" in context:
            ctx["status_label"] = _status_label(context["status"])
        if context.get("cases"):
            ctx["cases"] = [{**c, "status_label": _status_label(c["status"])} for c in ctx["cases"]]
        text = render_to_string(f"notices/{kind}.txt", ctx).strip() + "\n"
    return title, text


def render_html(notice: Notice) -> str:
    """The HTML alternative, from the text stored with the notice (rendered once, at creation)."""
    with translation.override(notice.language):
        return render_to_string(
            "notices/notice.html",
            {
                "title": notice.title,
                "text": notice.body,
                "url": notice.context.get("url", ""),
                "language": notice.language,
            },
        )


@dataclass(frozen=True)
class _Draft:
    key: str
    recipient: object
    application: Application | None
    kind: str
    context: dict


def _language(user: object) -> str:
    language = getattr(user, "language", "") or "id"
    return language if language in dict(settings.LANGUAGES) else "id"


def _create(drafts: list[_Draft]) -> list[Notice]:
    """Insert notices (an existing key means it was already made) and send them after commit."""
    created = []
    for d in drafts:
        language = _language(d.recipient)
        title, text = render(d.kind, language, d.context)
        notice, made = Notice.objects.get_or_create(
            key=d.key,
            defaults={
                "recipient": d.recipient,
                "application": d.application,
                "kind": d.kind,
                "language": language,
                "title": title[:200],
                "body": text,
                "context": d.context,
            },
        )
        if made:
            created.append(notice)
    from .tasks import send_notice

    for notice in created:
        transaction.on_commit(lambda pk=notice.pk: send_notice.delay(pk))
    return created


def _applicants(application: Application):
    return application.company.members.filter(is_active=True, groups__name=APPLICANT).distinct()


def on_transition(
    *, application: Application, action: str, by: object, comment: str, seq: int
) -> None:
    """Tell every applicant of the company about a decision on their case."""
    kind = ACTION_KINDS.get(action)
    if kind is None:
        return
    application.refresh_from_db()
    approved = kind == Notice.Kind.APPROVED
    context = {
        "reference": application.reference or f"#{application.pk}",
        "application": application.pk,
        "company": application.company.name,
        "status": application.status,
        "comment": comment,
        "amount": application.approved_amount if approved else None,
        "amount_text": rupiah(application.approved_amount) if approved else "",
        "transfer_reference": application.transfer_reference,
        "transferred_on": application.transferred_on.isoformat()
        if application.transferred_on
        else "",
        "disbursed_text": rupiah(application.disbursed_amount),
        "programme_year": application.programme.year,
        "url": case_url(application.pk),
    }
    # The audit sequence number names the transition: one notice per recipient and transition.
    _create(
        [
            _Draft(f"t{seq}:u{user.pk}", user, application, kind, context)
            for user in _applicants(application)
        ]
    )


def create_sla_digests(today: dt.date | None = None) -> list[Notice]:
    """One digest per verifier per day listing their cases waiting past the service level."""
    today = today or timezone.localdate()
    cases = cases_past_service_level().filter(case_officer__isnull=False)
    by_officer: dict[int, list[Application]] = {}
    for case in cases:
        by_officer.setdefault(case.case_officer_id, []).append(case)
    officers = (
        get_user_model()
        .objects.filter(pk__in=by_officer, is_active=True, groups__name=VERIFIER)
        .distinct()
        .order_by("pk")
    )
    drafts = []
    for officer in officers:
        items = [
            {
                "reference": c.reference or f"#{c.pk}",
                "company": c.company.name,
                "status": c.status,
                "since": timezone.localtime(c.status_changed_at).date().isoformat(),
                "url": case_url(c.pk),
            }
            for c in by_officer[officer.pk]
        ]
        with translation.override(_language(officer)):
            subject = _("%(n)s cases waiting longer than %(days)s days") % {
                "n": len(items),
                "days": settings.CASE_SLA_DAYS,
            }
        context = {"subject": subject, "cases": items, "date": today.isoformat(), "digest": True}
        drafts.append(
            _Draft(
                f"digest:u{officer.pk}:{today.isoformat()}",
                officer,
                None,
                Notice.Kind.REMINDER,
                context,
            )
        )
    with transaction.atomic():
        return _create(drafts)


def create_draft_reminders(today: dt.date | None = None) -> list[Notice]:
    """Three days before applications close, remind applicants of drafts never submitted."""
    today = today or timezone.localdate()
    closes = today + dt.timedelta(days=3)
    drafts = []
    apps = Application.objects.filter(
        status=Application.Status.DRAFT,
        submitted_at__isnull=True,
        programme__application_closes=closes,
    ).select_related("company", "programme")
    for app in apps:
        for user in _applicants(app):
            with translation.override(_language(user)):
                subject = _("your draft for programme %(year)s closes on %(closes)s") % {
                    "year": app.programme.year,
                    "closes": closes.isoformat(),
                }
            context = {
                "subject": subject,
                "reference": f"#{app.pk}",
                "application": app.pk,
                "company": app.company.name,
                "closes": closes.isoformat(),
                "url": case_url(app.pk),
                "digest": False,
            }
            drafts.append(
                _Draft(
                    f"draft:a{app.pk}:{closes.isoformat()}:u{user.pk}",
                    user,
                    app,
                    Notice.Kind.REMINDER,
                    context,
                )
            )
    with transaction.atomic():
        return _create(drafts)


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
        from .letters import approval_letter_pdf, letter_filename

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


def notice_mark_read(*, notice: Notice, by: object) -> Notice:
    """Mark one of the caller's in-app notices as read (the first reading time is kept)."""
    if notice.recipient_id != getattr(by, "pk", None):
        raise ServiceError("not_found", _("Not found."))
    Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=timezone.now())
    notice.refresh_from_db(fields=["read_at"])
    return notice
