"""What each action requires in its payload (400): a comment, the checklist, the transfer."""

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ServiceError
from subsidy.workflow.transitions import CHECKLIST_ITEMS


def _invalid(field: str, message: str) -> ServiceError:
    return ServiceError(
        "invalid",
        _("The data sent is not valid; see the errors for each field."),
        errors={field: [message]},
    )


def optional_comment(comment: object) -> str:
    """A comment where none is required: text or nothing, never a number or a list."""
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise _invalid("comment", _("A comment is text."))
    return comment.strip()


def require_comment(comment: str) -> str:
    comment = (comment or "").strip() if isinstance(comment, str) else ""
    if not comment:
        raise _invalid("comment", _("A comment giving the reason is required."))
    return comment


def checklist_answers(checklist: object) -> dict[str, bool]:
    """The four site-visit answers, each true or false (a visit records them as found)."""
    if not isinstance(checklist, dict) or set(checklist) != set(CHECKLIST_ITEMS):
        raise _invalid(
            "checklist",
            _("The site-visit checklist needs: %(items)s.") % {"items": ", ".join(CHECKLIST_ITEMS)},
        )
    if any(not isinstance(checklist[k], bool) for k in CHECKLIST_ITEMS):
        raise _invalid("checklist", _("Each checklist item is true or false."))
    return {k: checklist[k] for k in CHECKLIST_ITEMS}


def require_checklist(checklist: object) -> dict:
    checklist = checklist_answers(checklist)
    if not all(checklist[k] for k in CHECKLIST_ITEMS):
        raise _invalid(
            "checklist",
            _("Every checklist item must be true to recommend; otherwise reject with the reason."),
        )
    return {k: checklist[k] for k in CHECKLIST_ITEMS}


def require_transfer(reference: object, transferred_on: object) -> tuple[str, dt.date]:
    errors = {}
    if not isinstance(reference, str) or not reference.strip() or len(reference) > 100:
        errors["transfer_reference"] = [_("The transfer reference is required.")]
    day = transferred_on
    if isinstance(day, str):
        try:
            day = dt.date.fromisoformat(day)
        except ValueError:
            day = None
    if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
        errors["transferred_on"] = [_("The transfer date is required (YYYY-MM-DD).")]
    elif day > timezone.localdate():
        errors["transferred_on"] = [_("The date may not be in the future.")]
    if errors:
        raise ServiceError(
            "invalid",
            _("The data sent is not valid; see the errors for each field."),
            errors=errors,
        )
    return reference.strip(), day
