"""The approval workflow of DOMAIN.md, declared once in TRANSITIONS.

From this table come the service for each action (`application_<action>`), the actions a
user may take on an application (`available_actions`) and the state diagram in
docs/workflow.md (`diagram`). Checks run in the contract's order: 404, 403, 400, 409.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.roles import APPLICANT, APPROVER, FINANCE, VERIFIER
from config.errors import ServiceError

from . import audit, computation, rules
from .models import Application, Programme
from .services import not_found, programme_spent

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


def _acts_as(user: User, transition: Transition, application: Application) -> bool:
    if not user.has_role(transition.role):
        return False
    if transition.role == APPLICANT:
        return application.company.members.filter(pk=user.pk).exists()
    return True


def _can_see(user: User, application: Application) -> bool:
    if user.is_superuser or user.is_programme_staff:
        return True
    return application.company.members.filter(pk=user.pk).exists()


def _four_eyes_conflict(user: User, application: Application) -> bool:
    return audit.AuditEntry.objects.filter(
        application_id=application.pk,
        object_type="application",
        action__in=FOUR_EYES_ACTIONS,
        actor=user,
    ).exists()


def _resolve(user: User, application: Application, action: str) -> Transition:
    """404, then 403 (role, four eyes); the state check (409) is left to the caller's order."""
    if not _can_see(user, application):
        raise not_found()
    rows = [t for t in TRANSITIONS if t.action == action]
    if not rows:
        raise ServiceError(
            "invalid",
            _("Unknown action."),
            errors={"action": [_("Choose one of: %(a)s.") % {"a": ", ".join(ACTIONS)}]},
        )
    mine = [t for t in rows if _acts_as(user, t, application)]
    if not mine:
        raise ServiceError("forbidden", _("Your role may not take this action."))
    here = [t for t in mine if application.status in t.sources]
    if not here and any(application.status in t.sources for t in rows):
        raise ServiceError(
            "forbidden", _("Your role may not take this action in the application's current state.")
        )
    if action == "approve" and _four_eyes_conflict(user, application):
        raise ServiceError(
            "four_eyes",
            _("You reviewed or recommended this case; another approver must decide it."),
        )
    return here[0] if here else mine[0]


def _require_state(transition: Transition, application: Application) -> None:
    if application.status not in transition.sources:
        raise ServiceError(
            "invalid_transition",
            _("This action is not possible while the application is %(status)s.")
            % {"status": application.get_status_display()},
            status=application.status,
        )


def available_actions(*, application: Application, user: User) -> list[dict]:
    """Actions this user may take now, each with the payload it requires."""
    if not _can_see(user, application):
        return []
    result = []
    for action in ACTIONS:
        for t in TRANSITIONS:
            if (
                t.action == action
                and application.status in t.sources
                and _acts_as(user, t, application)
            ):
                if action == "approve" and _four_eyes_conflict(user, application):
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


# --- Payload checks (400) ------------------------------------------------------------------


def _invalid(field: str, message: str) -> ServiceError:
    return ServiceError(
        "invalid",
        _("The data sent is not valid; see the errors for each field."),
        errors={field: [message]},
    )


def _optional_comment(comment: object) -> str:
    """A comment where none is required: text or nothing, never a number or a list."""
    if comment is None:
        return ""
    if not isinstance(comment, str):
        raise _invalid("comment", _("A comment is text."))
    return comment.strip()


def _require_comment(comment: str) -> str:
    comment = (comment or "").strip() if isinstance(comment, str) else ""
    if not comment:
        raise _invalid("comment", _("A comment giving the reason is required."))
    return comment


def _require_checklist(checklist: object) -> dict:
    if not isinstance(checklist, dict) or set(checklist) != set(CHECKLIST_ITEMS):
        raise _invalid(
            "checklist",
            _("The site-visit checklist needs: %(items)s.") % {"items": ", ".join(CHECKLIST_ITEMS)},
        )
    if any(not isinstance(checklist[k], bool) for k in CHECKLIST_ITEMS):
        raise _invalid("checklist", _("Each checklist item is true or false."))
    if not all(checklist[k] for k in CHECKLIST_ITEMS):
        raise _invalid(
            "checklist",
            _("Every checklist item must be true to recommend; otherwise reject with the reason."),
        )
    return {k: checklist[k] for k in CHECKLIST_ITEMS}


def _require_transfer(reference: object, transferred_on: object) -> tuple[str, dt.date]:
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


# --- The transition itself -----------------------------------------------------------------


def _move(
    *,
    application: Application,
    transition: Transition,
    by: User,
    comment: str = "",
    changes: dict | None = None,
    **fields: object,
) -> Application:
    """Conditional update from the state we checked, then the audit entry, in one transaction.

    The entry comes last but for the notices that carry its number: from audit.record to
    the commit this transaction holds the chain's head, which every other change waits for.
    """
    now = timezone.now()
    source = application.status
    updated = Application.objects.filter(pk=application.pk, status=source).update(
        status=transition.target, status_changed_at=now, updated_at=now, **fields
    )
    if updated != 1:  # pragma: no cover - the row lock makes this unreachable
        raise ServiceError("invalid_transition", _("The application changed meanwhile."))
    application.refresh_from_db()
    entry = audit.record(
        actor=by,
        action=transition.action,
        object_type="application",
        object_id=application.pk,
        application_id=application.pk,
        from_status=source,
        to_status=transition.target,
        comment=comment,
        changes=changes or {},
    )
    from . import notices

    notices.on_transition(
        application=application, action=transition.action, by=by, comment=comment, seq=entry.seq
    )
    return application


def _rivals(application: Application) -> list[int]:
    """Open applications sharing an invoice or serial with this one: its claims rank them."""
    keys = list(application.items.values_list("invoice_key", "serial_key"))
    return computation.applications_sharing_claims(
        invoice_keys={k[0] for k in keys},
        serial_keys={k[1] for k in keys},
        exclude_application=application.pk,
    )


def _later_participations(application: Application) -> list[int]:
    """Open applications of the company in later programmes: they count its disbursements."""
    return computation.applications_counting_participation(
        company_id=application.company_id, year=application.programme.year
    )


def _begin(
    application: Application,
    by: User,
    action: str,
    *,
    affects: Callable[[Application], list[int]] | None = None,
) -> tuple[Application, Transition, list[int]]:
    """Lock the application and the others this action makes stale, all in id order.

    The item and document services lock the same way (computation.lock_in_order), so an
    edit and a transition that touch each other's applications wait instead of deadlocking,
    and no row is waited for after audit.record has taken the chain's head.
    """
    if affects is _rivals:
        keys = list(application.items.values_list("invoice_key", "serial_key"))
        computation.lock_claim_keys(
            invoice_keys={k[0] for k in keys}, serial_keys={k[1] for k in keys}
        )
    others = affects(application) if affects else []
    ids = sorted({application.pk, *others})
    rows = (
        Application.objects.select_related("company", "programme")
        .select_for_update(of=("self",))
        .filter(pk__in=ids)
        .order_by("pk")
    )
    locked = {row.pk: row for row in rows}.get(application.pk)
    if locked is None:
        raise not_found()
    if affects:
        # Read again under the lock: an edit may have committed before we got it.
        others = sorted({*others, *affects(locked)})
    return locked, _resolve(by, locked, action), others


def _missing_for_submission(application: Application) -> list[str]:
    company = application.company
    missing = []
    if not company.nib:
        missing.append("company.nib")
    if not company.npwp:
        missing.append("company.npwp")
    for field in ("bank_name", "bank_account_number", "bank_account_name"):
        if not getattr(company, field).strip():
            missing.append(f"company.{field}")
    if not application.items.exists():
        missing.append("items")
    held = set(application.documents.values_list("kind", flat=True))
    missing.extend(
        f"documents.{kind}" for kind in application.programme.required_documents if kind not in held
    )
    return missing


def _next_reference(programme: Programme) -> str:
    """Next number of the programme's counter; the row lock makes it gap-free and unique."""
    from .models import ReferenceCounter

    ReferenceCounter.objects.get_or_create(programme=programme)
    counter = ReferenceCounter.objects.select_for_update().get(programme=programme)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"RMP-{programme.year}-{counter.last_number:06d}"


@transaction.atomic
def application_submit(*, application: Application, by: User) -> Application:
    application, t, rivals = _begin(application, by, "submit", affects=_rivals)
    _require_state(t, application)
    first = application.submitted_at is None
    if first:
        today = timezone.localdate()
        programme = application.programme
        if not (programme.application_opens <= today <= programme.application_closes):
            raise ServiceError(
                "window_closed",
                _("Applications are accepted from %(opens)s to %(closes)s.")
                % {"opens": programme.application_opens, "closes": programme.application_closes},
            )
    missing = _missing_for_submission(application)
    if missing:
        raise ServiceError(
            "incomplete",
            _("The application is not complete: %(missing)s.") % {"missing": ", ".join(missing)},
            missing=missing,
        )
    snapshot = application.company.snapshot()
    fields: dict = {"company_snapshot": snapshot}
    changes: dict = {}
    if first:
        fields["submitted_at"] = timezone.now()
        fields["reference"] = _next_reference(application.programme)
        changes["reference"] = [None, fields["reference"]]
    if application.company_snapshot != snapshot:
        changes["company_snapshot"] = [application.company_snapshot, snapshot]
    # The snapshot and the new submission time change the results and the claim order.
    computation.mark_stale([application.pk, *rivals])
    return _move(application=application, transition=t, by=by, changes=changes, **fields)


@transaction.atomic
def application_start_review(*, application: Application, by: User) -> Application:
    application, t, _affected = _begin(application, by, "start_review")
    _require_state(t, application)
    return _move(application=application, transition=t, by=by, case_officer=by)


@transaction.atomic
def application_request_revision(
    *, application: Application, by: User, comment: str = ""
) -> Application:
    application, t, _affected = _begin(application, by, "request_revision")
    comment = _require_comment(comment)
    _require_state(t, application)
    # Editable again: the company's current data replaces the snapshot in the computation.
    computation.mark_stale([application.pk])
    return _move(application=application, transition=t, by=by, comment=comment)


@transaction.atomic
def application_pass_review(
    *, application: Application, by: User, comment: str = ""
) -> Application:
    application, t, _affected = _begin(application, by, "pass_review")
    _require_state(t, application)
    return _move(application=application, transition=t, by=by, comment=_optional_comment(comment))


@transaction.atomic
def application_recommend(
    *, application: Application, by: User, checklist: object = None, comment: str = ""
) -> Application:
    application, t, _affected = _begin(application, by, "recommend")
    checklist = _require_checklist(checklist)
    _require_state(t, application)
    return _move(
        application=application,
        transition=t,
        by=by,
        comment=_optional_comment(comment),
        checklist=checklist,
        changes={"checklist": [None, checklist]},
    )


@transaction.atomic
def application_reject(*, application: Application, by: User, comment: str = "") -> Application:
    application, t, rivals = _begin(application, by, "reject", affects=_rivals)
    comment = _require_comment(comment)
    _require_state(t, application)
    released = application.approved_amount if application.status == S.APPROVED else None
    changes = {"approved_amount": [released, None]} if released is not None else {}
    # The items it claimed are free again: the rivals that lost them are recomputed.
    computation.mark_stale(rivals)
    # Rejecting an approved case releases its reservation: it leaves the committed sum.
    return _move(
        application=application,
        transition=t,
        by=by,
        comment=comment,
        changes=changes,
        approved_amount=None,
    )


@transaction.atomic
def application_approve(*, application: Application, by: User, comment: str = "") -> Application:
    # The programme row lock orders every approval: the check and the reservation are one
    # step. It is taken before the application's row, in the order programme_update takes
    # them (programme, then its open applications), so the two cannot deadlock.
    programme = Programme.objects.select_for_update().get(pk=application.programme_id)
    application, t, _affected = _begin(application, by, "approve")
    _require_state(t, application)
    if application.computed_at is None:
        raise ServiceError(
            "stale_computation",
            _("The refund is being recomputed after a change; try again in a moment."),
        )
    blocking = [f["code"] for f in application.findings if f["code"] in rules.BLOCKING_CODES]
    if blocking:
        raise ServiceError(
            "not_eligible",
            _("The application has blocking findings: %(codes)s.") % {"codes": ", ".join(blocking)},
            findings=blocking,
        )
    available = programme.budget - programme_spent(programme.pk)
    amount = application.computed_discount
    if amount > available:
        raise ServiceError(
            "budget_exhausted",
            _("The programme budget has %(available)s left; this case needs %(amount)s.")
            % {"available": available, "amount": amount},
            available=available,
        )
    return _move(
        application=application,
        transition=t,
        by=by,
        comment=_optional_comment(comment),
        changes={"approved_amount": [None, amount]},
        approved_amount=amount,
    )


@transaction.atomic
def application_disburse(
    *,
    application: Application,
    by: User,
    transfer_reference: object = None,
    transferred_on: object = None,
    comment: str = "",
) -> Application:
    application, t, later = _begin(application, by, "disburse", affects=_later_participations)
    reference, day = _require_transfer(transfer_reference, transferred_on)
    _require_state(t, application)
    amount = application.approved_amount
    # One more participation for the company: its applications in later programmes may now
    # reach max_participations.
    computation.mark_stale(later)
    return _move(
        application=application,
        transition=t,
        by=by,
        comment=_optional_comment(comment),
        changes={
            "disbursed_amount": [None, amount],
            "transfer_reference": [None, reference],
            "transferred_on": [None, day.isoformat()],
        },
        disbursed_amount=amount,
        transfer_reference=reference,
        transferred_on=day,
    )


@transaction.atomic
def application_withdraw(*, application: Application, by: User, comment: str = "") -> Application:
    application, t, rivals = _begin(application, by, "withdraw", affects=_rivals)
    _require_state(t, application)
    computation.mark_stale(rivals)
    return _move(application=application, transition=t, by=by, comment=_optional_comment(comment))


SERVICES: dict[str, Callable[..., Application]] = {
    "submit": application_submit,
    "start_review": application_start_review,
    "request_revision": application_request_revision,
    "pass_review": application_pass_review,
    "recommend": application_recommend,
    "reject": application_reject,
    "approve": application_approve,
    "disburse": application_disburse,
    "withdraw": application_withdraw,
}


def application_transition(
    *, application: Application, by: User, action: str, **payload: object
) -> Application:
    """Dispatch one action by name (the API's POST transitions)."""
    service = SERVICES.get(action)
    if service is None:
        _resolve(by, application, action)  # raises 404 or invalid for an unknown action
    allowed = {
        "comment",
        *({"checklist"} if action == "recommend" else ()),
        *({"transfer_reference", "transferred_on"} if action == "disburse" else ()),
    }
    if action in {"start_review", "submit"}:
        allowed.discard("comment")
    return service(
        application=application, by=by, **{k: v for k, v in payload.items() if k in allowed}
    )


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
