"""Notices (DOMAIN.md "Notices"): created in the transition's transaction, sent once after commit.

Sending claims the notice with a lease (a conditional update to `sending`), so a duplicate
delivery, a retry or two workers never send it twice. Each e-mail carries a Message-ID
derived from the notice key, so the one duplicate SMTP allows (a worker killed after the
server accepted the message, before the mark) is the same message to every mail client.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import APPLICANT, VERIFIER
from config.errors import ServiceError

from .models import Application, Notice
from .selectors import cases_past_service_level

# A claim older than this is a worker that died mid-send: the notice may be sent again.
LEASE = dt.timedelta(seconds=getattr(settings, "NOTICE_LEASE_SECONDS", 120))
MAX_ATTEMPTS = 5

ACTION_KINDS = {
    "submit": Notice.Kind.SUBMITTED,
    "request_revision": Notice.Kind.REVISION_REQUESTED,
    "approve": Notice.Kind.APPROVED,
    "reject": Notice.Kind.REJECTED,
    "disburse": Notice.Kind.DISBURSED,
}


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


def render(kind: str, language: str, context: dict) -> tuple[str, str, str]:
    """(title, plain text, HTML) in the recipient's language."""
    with translation.override(language):
        title = _titles()[kind] % context
        ctx = {**context, "title": title, "kind": kind}
        text = render_to_string(f"notices/{kind}.txt", ctx).strip() + "\n"
        html = render_to_string("notices/notice.html", {**ctx, "text": text})
    return title, text, html


@dataclass(frozen=True)
class _Draft:
    key: str
    recipient: object
    application: Application | None
    kind: str
    context: dict


def _create(drafts: list[_Draft]) -> list[Notice]:
    """Insert notices (an existing key means it was already made) and send them after commit."""
    created = []
    for d in drafts:
        language = getattr(d.recipient, "language", "id") or "id"
        title, text, _html = render(d.kind, language, d.context)
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


def on_transition(
    *, application: Application, action: str, by: object, comment: str, seq: int
) -> None:
    """Tell every applicant of the company about a decision on their case."""
    kind = ACTION_KINDS.get(action)
    if kind is None:
        return
    application.refresh_from_db()
    context = {
        "reference": application.reference or f"#{application.pk}",
        "application": application.pk,
        "company": application.company.name,
        "status": application.status,
        "comment": comment,
        "amount": application.approved_amount if kind == Notice.Kind.APPROVED else None,
        "amount_text": rupiah(application.approved_amount) if kind == Notice.Kind.APPROVED else "",
        "transfer_reference": application.transfer_reference,
        "transferred_on": application.transferred_on.isoformat()
        if application.transferred_on
        else "",
        "disbursed_text": rupiah(application.disbursed_amount),
        "programme_year": application.programme.year,
        "url": case_url(application.pk),
    }
    recipients = application.company.members.filter(
        is_active=True, groups__name=APPLICANT
    ).distinct()
    _create([_Draft(f"t{seq}:u{user.pk}", user, application, kind, context) for user in recipients])


def create_sla_digests(today: dt.date | None = None) -> list[Notice]:
    """One digest per verifier per day listing their cases waiting past the service level."""
    from django.contrib.auth import get_user_model

    today = today or timezone.localdate()
    cases = cases_past_service_level().filter(case_officer__isnull=False)
    by_officer: dict[int, list[Application]] = {}
    for case in cases:
        by_officer.setdefault(case.case_officer_id, []).append(case)
    officers = (
        get_user_model()
        .objects.filter(pk__in=by_officer, is_active=True, groups__name=VERIFIER)
        .distinct()
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
        with translation.override(officer.language or "id"):
            subject = _("%(n)s cases waiting longer than %(days)s days") % {
                "n": len(items),
                "days": settings.CASE_SLA_DAYS,
            }
        context = {"subject": subject, "cases": items, "date": today.isoformat(), "digest": True}
        drafts.append(
            _Draft(f"digest:u{officer.pk}:{today.isoformat()}", officer, None, "reminder", context)
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
        for user in app.company.members.filter(is_active=True, groups__name=APPLICANT).distinct():
            with translation.override(user.language or "id"):
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
                    "reminder",
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


def claim(notice_id: int) -> Notice | None:
    """Take the notice for sending, or None if it is sent, failed or leased by another worker."""
    now = timezone.now()
    claimed = Notice.objects.filter(
        Q(status=Notice.Status.PENDING)
        | Q(status=Notice.Status.SENDING, claimed_at__lt=now - LEASE),
        pk=notice_id,
    ).update(status=Notice.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1)
    if claimed != 1:
        return None
    return Notice.objects.select_related("recipient", "application").get(pk=notice_id)


def build_email(notice: Notice) -> EmailMultiAlternatives | None:
    email = notice.recipient.email
    if not email:
        return None
    title, text, html = render(notice.kind, notice.language, notice.context)
    message = EmailMultiAlternatives(
        subject=title,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email],
        headers={"Message-ID": message_id(notice)},
    )
    message.attach_alternative(html, "text/html")
    if notice.kind == Notice.Kind.APPROVED and notice.application_id:
        from .letters import approval_letter_pdf

        reference = notice.context.get("reference", "")
        message.attach(
            f"surat-persetujuan-{reference}.pdf",
            approval_letter_pdf(notice.application),
            "application/pdf",
        )
    return message


def deliver(notice: Notice) -> None:
    """Send the claimed notice's e-mail, then mark it sent (only if our claim still holds)."""
    message = build_email(notice)
    if message is not None:
        message.send(fail_silently=False)
    Notice.objects.filter(
        pk=notice.pk, status=Notice.Status.SENDING, claimed_at=notice.claimed_at
    ).update(status=Notice.Status.SENT, sent_at=timezone.now(), last_error="")


def release_after_failure(notice: Notice, error: BaseException, final: bool) -> None:
    Notice.objects.filter(pk=notice.pk, status=Notice.Status.SENDING).update(
        status=Notice.Status.FAILED if final else Notice.Status.PENDING,
        last_error=f"{type(error).__name__}: {error}"[:2000],
    )


def stuck_notice_ids(now: dt.datetime | None = None) -> list[int]:
    """Notices whose worker died mid-send, or whose enqueue was lost, to be queued again."""
    now = now or timezone.now()
    return list(
        Notice.objects.filter(
            Q(status=Notice.Status.SENDING, claimed_at__lt=now - LEASE)
            | Q(status=Notice.Status.PENDING, created_at__lt=now - LEASE)
        ).values_list("pk", flat=True)[:10_000]
    )


def notice_mark_read(*, notice: Notice, by: object) -> Notice:
    """Mark one of the caller's in-app notices as read (the first reading time is kept)."""
    if notice.recipient_id != getattr(by, "pk", None):
        raise ServiceError("not_found", _("Not found."))
    Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=timezone.now())
    notice.refresh_from_db(fields=["read_at"])
    return notice
