"""Which notices a transition or a day makes, for whom, and their text (rendered once, stored).

Each notice has a unique key (recipient and transition, or officer and day), so making it
twice finds the first; it is sent after commit by subsidy.tasks.send_notice.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import APPLICANT
from config.errors import ServiceError
from subsidy import formats, jobs
from subsidy.models import Application, Notice
from subsidy.selectors import QUEUE_ROLES, cases_past_service_level

ACTION_KINDS = {
    "submit": Notice.Kind.SUBMITTED,
    "request_revision": Notice.Kind.REVISION_REQUESTED,
    "approve": Notice.Kind.APPROVED,
    "reject": Notice.Kind.REJECTED,
    "disburse": Notice.Kind.DISBURSED,
}


def case_url(application_id: int, *, staff: bool) -> str:
    """The case's page for the reader: the applicant's own page, or the office's."""
    path = f"/office/cases/{application_id}/" if staff else f"/applications/{application_id}/"
    return settings.SITE_URL.rstrip("/") + path


def _titles() -> dict[str, str]:
    return {
        Notice.Kind.SUBMITTED: _("Application %(reference)s received"),
        Notice.Kind.REVISION_REQUESTED: _("Application %(reference)s needs revision"),
        Notice.Kind.APPROVED: _("Application %(reference)s approved"),
        Notice.Kind.REJECTED: _("Application %(reference)s rejected"),
        Notice.Kind.DISBURSED: _("Refund for %(reference)s transferred"),
        Notice.Kind.REMINDER: _("Reminder: %(subject)s"),
        Notice.Kind.DOCUMENT_REFUSED: _("Document refused for application %(reference)s"),
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
    for notice in created:
        jobs.enqueue_after_commit(jobs.SEND_NOTICE, notice.pk)
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
        "amount_text": formats.rupiah(application.approved_amount) if approved else "",
        "transfer_reference": application.transfer_reference,
        "transferred_on": application.transferred_on.isoformat()
        if application.transferred_on
        else "",
        "disbursed_text": formats.rupiah(application.disbursed_amount),
        "programme_year": application.programme.year,
        "url": case_url(application.pk, staff=False),
    }
    # The audit sequence number names the transition: one notice per recipient and transition.
    _create(
        [
            _Draft(f"t{seq}:u{user.pk}", user, application, kind, context)
            for user in _applicants(application)
        ]
    )


def on_document_refused(document: object) -> None:
    """Tell the company's applicants that an upload was refused (malware found) and removed."""
    application = document.application
    context = {
        "reference": application.reference or f"#{application.pk}",
        "application": application.pk,
        "company": application.company.name,
        "original_name": document.original_name,
        "signature": document.scan_signature,
        "url": case_url(application.pk, staff=False),
    }
    _create(
        [
            _Draft(
                f"scan:d{document.pk}:u{user.pk}",
                user,
                application,
                Notice.Kind.DOCUMENT_REFUSED,
                context,
            )
            for user in _applicants(application)
        ]
    )


def create_sla_digests(today: dt.date | None = None) -> list[Notice]:
    """One digest per officer per day listing the cases waiting in their queues too long."""
    today = today or timezone.localdate()
    officers = (
        get_user_model()
        .objects.filter(is_active=True, groups__name__in=QUEUE_ROLES)
        .distinct()
        .order_by("pk")
    )
    drafts = []
    for officer in officers:
        cases = list(cases_past_service_level(officer))
        if not cases:
            continue
        items = [
            {
                "reference": c.reference or f"#{c.pk}",
                "company": c.company.name,
                "status": c.status,
                "since": timezone.localtime(c.status_changed_at).date().isoformat(),
                "days": (today - timezone.localtime(c.status_changed_at).date()).days,
                "url": case_url(c.pk, staff=True),
            }
            for c in cases
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
                "url": case_url(app.pk, staff=False),
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


def notice_mark_read(*, notice: Notice, by: object) -> Notice:
    """Mark one of the caller's in-app notices as read (the first reading time is kept)."""
    if notice.recipient_id != getattr(by, "pk", None):
        raise ServiceError("not_found", _("Not found."))
    Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=timezone.now())
    notice.refresh_from_db(fields=["read_at"])
    return notice
