"""The audit trail's anchors: the chain head copied outside the database, and mailed daily to
the auditors, who keep it where no database writer reaches (subsidy/audit.py)."""

import logging

from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.roles import AUDITOR
from subsidy import audit

User = get_user_model()
logger = logging.getLogger(__name__)


def audit_anchor_write() -> audit.Anchor | None:
    """Append the verified chain head to today's anchor file."""
    return audit.anchor_write()


def _mail_text(anchor: audit.Anchor | None, verdict: audit.Verdict) -> tuple[str, str]:
    day = timezone.localdate().isoformat()
    if not verdict.intact:
        subject = _("Audit trail BROKEN at entry %(seq)s (%(day)s)") % {
            "seq": verdict.seq,
            "day": day,
        }
        body = _(
            "Verifying the audit trail failed at entry %(seq)s: %(reason)s.\n\n"
            "Run `manage.py verify_audit_trail` and report this to the security officer."
        ) % {"seq": verdict.seq, "reason": verdict.reason}
        return subject, body
    subject = _("Audit trail anchor %(day)s") % {"day": day}
    if anchor is None:
        return subject, _("The audit trail has no entries yet: nothing to anchor.")
    body = _(
        "The audit trail is intact up to entry %(seq)s.\n\n"
        "Anchor: %(anchor)s\n"
        "Written at: %(at)s\n\n"
        "Keep this e-mail outside the ministry's servers. Anyone can check later that no entry "
        "up to this one was deleted or changed with:\n\n"
        "    manage.py verify_audit_trail --anchor %(anchor)s"
    ) % {"seq": anchor.seq, "anchor": anchor, "at": anchor.at}
    return subject, body


def audit_anchor_mail() -> int:
    """Mail the latest anchor, or the broken entry, to every active auditor; the number sent."""
    anchor = audit.latest_anchor()
    verdict = audit.verify()
    if anchor is not None:
        verdict = audit.check_anchor(anchor, verdict)
    auditors = (
        User.objects.filter(groups__name=AUDITOR, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .distinct()
    )
    sent = 0
    for auditor in auditors:
        with translation.override(auditor.language):
            subject, body = _mail_text(anchor, verdict)
            sent += send_mail(subject, body, None, [auditor.email])
    if not sent:
        logger.warning("audit anchor %s mailed to nobody: no active auditor has an e-mail", anchor)
    return sent
