"""The approval workflow of DOMAIN.md, declared once in TRANSITIONS.

From this table come the service for each action (`application_<action>`), the actions a
user may take on an application (`available_actions`) and the state diagram in
docs/workflow.md (`diagram`). Checks run in the contract's order: 404, 403, 400, 409.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import APPLICANT, APPROVER, FINANCE, VERIFIER
from config.errors import ServiceError
from subsidy.access import can_see_application, is_member, not_found
from subsidy.engine import rules
from subsidy.models import Application, AuditEntry

User = get_user_model()


S = Application.Status

COMMENT, CHECKLIST, TRANSFER = "comment", "checklist", "transfer"


CHECKLIST_ITEMS = ("machines_present", "machines_new", "machines_installed", "not_transferred")


BEFORE_APPROVAL = (
    S.DRAFT,
    S.SUBMITTED,
    S.UNDER_REVIEW,
    S.REVISION_REQUESTED,
    S.FIELD_VERIFICATION,
    S.RECOMMENDED,
)


@dataclass(frozen=True)
class Transition:
    action: str
    role: str
    sources: tuple[str, ...]
    target: str
    requires: str | None = None


TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", APPLICANT, (S.DRAFT, S.REVISION_REQUESTED), S.SUBMITTED),
    Transition("start_review", VERIFIER, (S.SUBMITTED,), S.UNDER_REVIEW),
    Transition("request_revision", VERIFIER, (S.UNDER_REVIEW,), S.REVISION_REQUESTED, COMMENT),
    Transition("pass_review", VERIFIER, (S.UNDER_REVIEW,), S.FIELD_VERIFICATION),
    Transition("recommend", VERIFIER, (S.FIELD_VERIFICATION,), S.RECOMMENDED, CHECKLIST),
    Transition("reject", VERIFIER, (S.UNDER_REVIEW, S.FIELD_VERIFICATION), S.REJECTED, COMMENT),
    Transition("reject", APPROVER, (S.RECOMMENDED, S.APPROVED), S.REJECTED, COMMENT),
    Transition("approve", APPROVER, (S.RECOMMENDED,), S.APPROVED),
    Transition("disburse", FINANCE, (S.APPROVED,), S.DISBURSED, TRANSFER),
    Transition("withdraw", APPLICANT, BEFORE_APPROVAL, S.WITHDRAWN),
)


ACTIONS: tuple[str, ...] = tuple(dict.fromkeys(t.action for t in TRANSITIONS))


ACTION_LABELS = {
    "submit": gettext_lazy("Submit"),
    "start_review": gettext_lazy("Start review"),
    "request_revision": gettext_lazy("Request revision"),
    "pass_review": gettext_lazy("Pass review"),
    "recommend": gettext_lazy("Recommend"),
    "reject": gettext_lazy("Reject"),
    "approve": gettext_lazy("Approve"),
    "disburse": gettext_lazy("Record disbursement"),
    "withdraw": gettext_lazy("Withdraw"),
}


# The verifier who did these may not approve the same case (four eyes).
FOUR_EYES_ACTIONS = ("pass_review", "recommend")


def acts_as(user: User, transition: Transition, application: Application) -> bool:
    if not user.has_role(transition.role):
        return False
    if transition.role == APPLICANT:
        return is_member(application.company, user)
    return True


def conflict_of_interest(user: User, transition: Transition, application: Application) -> bool:
    """A member of the applicant company takes no officer action on its applications."""
    return transition.role != APPLICANT and is_member(application.company, user)


def four_eyes_conflict(user: User, application: Application) -> bool:
    return AuditEntry.objects.filter(
        application_id=application.pk,
        object_type="application",
        action__in=FOUR_EYES_ACTIONS,
        actor=user,
    ).exists()


def resolve(user: User, application: Application, action: str) -> Transition:
    """404, then 403 (role, conflict of interest, four eyes); the state check (409) is left to
    the caller's order."""
    if not can_see_application(application, user):
        raise not_found()
    rows = [t for t in TRANSITIONS if t.action == action]
    if not rows:
        raise ServiceError(
            "invalid",
            _("Unknown action."),
            errors={"action": [_("Choose one of: %(a)s.") % {"a": ", ".join(ACTIONS)}]},
        )
    mine = [t for t in rows if acts_as(user, t, application)]
    if not mine:
        raise ServiceError("forbidden", _("Your role may not take this action."))
    # Whatever other roles they hold: an applicant who is also an approver still withdraws.
    mine = [t for t in mine if not conflict_of_interest(user, t, application)]
    if not mine:
        raise ServiceError(
            "conflict_of_interest",
            _("You belong to this company; another officer must handle its applications."),
        )
    here = [t for t in mine if application.status in t.sources]
    if not here and any(application.status in t.sources for t in rows):
        raise ServiceError(
            "forbidden", _("Your role may not take this action in the application's current state.")
        )
    if action == "approve" and four_eyes_conflict(user, application):
        raise ServiceError(
            "four_eyes",
            _("You reviewed or recommended this case; another approver must decide it."),
        )
    return here[0] if here else mine[0]


def require_state(transition: Transition, application: Application) -> None:
    if application.status not in transition.sources:
        raise ServiceError(
            "invalid_transition",
            _("This action is not possible while the application is %(status)s.")
            % {"status": application.get_status_display()},
            status=application.status,
        )


def window_refusal(application: Application, action: str) -> ServiceError | None:
    """window_closed when the application window forbids this action today, else None."""
    if action != "submit":
        return None
    programme = application.programme
    if rules.submission_window_open(
        first_submission=application.submitted_at is None,
        today=timezone.localdate(),
        opens=programme.application_opens,
        closes=programme.application_closes,
    ):
        return None
    return ServiceError(
        "window_closed",
        _("Applications are accepted from %(opens)s to %(closes)s.")
        % {"opens": programme.application_opens, "closes": programme.application_closes},
    )


def available_actions(*, application: Application, user: User) -> list[dict]:
    """Actions this user may take now, each with the payload it requires."""
    if not can_see_application(application, user):
        return []
    result = []
    for action in ACTIONS:
        for t in TRANSITIONS:
            if (
                t.action == action
                and application.status in t.sources
                and acts_as(user, t, application)
                and not conflict_of_interest(user, t, application)
            ):
                if action == "approve" and four_eyes_conflict(user, application):
                    break
                if window_refusal(application, action):
                    break
                result.append(
                    {
                        "action": action,
                        "label": str(ACTION_LABELS[action]),
                        "to_status": t.target,
                        "requires": t.requires,
                    }
                )
                break
    return result


def diagram() -> str:
    """Mermaid state diagram of TRANSITIONS, written to docs/workflow.md."""
    lines = ["stateDiagram-v2", "    [*] --> draft"]
    for t in TRANSITIONS:
        for source in t.sources:
            extra = f" ({t.requires})" if t.requires else ""
            lines.append(f"    {source} --> {t.target}: {t.action} [{t.role}]{extra}")
    for end in (S.DISBURSED, S.REJECTED, S.WITHDRAWN):
        lines.append(f"    {end} --> [*]")
    return "\n".join(lines) + "\n"
