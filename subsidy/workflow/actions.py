"""The service of each workflow action, `application_<action>`, and the dispatch by name.

Each locks what it touches in id order, checks in the contract's order (404, 403, 400, 409),
moves the application with a conditional update, records the audit entry and creates the
notices, in one transaction.
"""

from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ServiceError
from subsidy import audit, statistics
from subsidy.access import not_found
from subsidy.choices import DocumentKind
from subsidy.engine import rules, stale
from subsidy.models import Application, Document, Programme, ReferenceCounter
from subsidy.notices import compose as notices
from subsidy.selectors import latest_visit_checklist, programme_spent
from subsidy.workflow.payloads import (
    optional_comment,
    require_checklist,
    require_comment,
    require_transfer,
)
from subsidy.workflow.transitions import (
    S,
    Transition,
    require_state,
    resolve,
    window_refusal,
)

User = get_user_model()


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
        state=audit.application_state(application),
    )
    notices.on_transition(
        application=application, action=transition.action, by=by, comment=comment, seq=entry.seq
    )
    return application


def _rivals(application: Application) -> list[int]:
    """Open applications sharing an invoice or serial with this one: its claims rank them."""
    keys = list(application.items.values_list("invoice_key", "serial_key"))
    return stale.applications_sharing_claims(
        invoice_keys={k[0] for k in keys},
        serial_keys={k[1] for k in keys},
        exclude_application=application.pk,
    )


def _later_participations(application: Application) -> list[int]:
    """Open applications of the company in later programmes: they count its disbursements."""
    return stale.applications_counting_participation(
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

    The item and document services lock the same way (stale.lock_in_order), so an
    edit and a transition that touch each other's applications wait instead of deadlocking,
    and no row is waited for after audit.record has taken the chain's head.
    """
    if affects is _rivals:
        keys = list(application.items.values_list("invoice_key", "serial_key"))
        stale.lock_claim_keys(invoice_keys={k[0] for k in keys}, serial_keys={k[1] for k in keys})
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
    return locked, resolve(by, locked, action), others


def missing_for_submission(application: Application) -> list[str]:
    """What a submission still lacks, as codes (company.nib, items, documents.invoice); the
    submit refusal and the applicant's task list both read it."""
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
    # A document counts once usable: not while it is being checked, never when refused.
    held = set(
        application.documents.filter(scan_status__in=Document.USABLE_SCAN_STATUSES).values_list(
            "kind", flat=True
        )
    )
    missing.extend(
        f"documents.{kind}" for kind in application.programme.required_documents if kind not in held
    )
    return missing


def being_checked(application: Application, missing: list[str]) -> list[str]:
    """The missing required kinds that have an upload still being checked for malware."""
    kinds = [code.partition(".")[2] for code in missing if code.startswith("documents.")]
    if not kinds:
        return []
    pending = application.documents.filter(
        kind__in=kinds, scan_status=Document.ScanStatus.PENDING
    ).values_list("kind", flat=True)
    return sorted(set(pending))


def _ensure_reference_counter(programme_id: int) -> None:
    """Make the programme's counter, if missing, before any application row is locked.

    A new counter's foreign key is checked at commit (deferred), with a share lock on the
    programme row: taken then, after the application rows, it could wait for a
    programme_update or an approval that holds the programme and waits for those rows.
    Locking the programme first keeps their order: programme, applications, counter.
    """
    if ReferenceCounter.objects.filter(programme_id=programme_id).exists():
        return
    list(Programme.objects.select_for_update(no_key=True).filter(pk=programme_id).values("pk"))
    ReferenceCounter.objects.get_or_create(programme_id=programme_id)


def _next_reference(programme: Programme) -> str:
    """Next number of the programme's counter; the row lock makes it gap-free and unique."""
    counter = ReferenceCounter.objects.select_for_update().get(programme=programme)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    # Read under the counter's lock, not from the row loaded before it: a change of year
    # holds the counter too (programme_update), so the reference carries the year it commits.
    year = Programme.objects.values_list("year", flat=True).get(pk=programme.pk)
    return f"RMP-{year}-{counter.last_number:06d}"


@transaction.atomic
def application_submit(*, application: Application, by: User) -> Application:
    _ensure_reference_counter(application.programme_id)
    application, t, rivals = _begin(application, by, "submit", affects=_rivals)
    require_state(t, application)
    first = application.submitted_at is None
    refusal = window_refusal(application, "submit")
    if refusal:
        raise refusal
    missing = missing_for_submission(application)
    checking = being_checked(application, missing)
    if checking and set(missing) == {f"documents.{kind}" for kind in checking}:
        # Nothing else lacks: the applicant only has to wait.
        raise ServiceError(
            "documents_being_checked",
            _(
                "Some required documents are still being checked for malware: %(kinds)s. "
                "Submit again in a few minutes, once the check is done."
            )
            % {"kinds": ", ".join(str(DocumentKind(kind).label) for kind in checking)},
            kinds=checking,
        )
    if missing:
        raise ServiceError(
            "incomplete",
            _("The application is not complete: %(missing)s.") % {"missing": ", ".join(missing)},
            missing=missing,
            **({"being_checked": checking} if checking else {}),
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
    stale.mark_stale([application.pk, *rivals])
    return _move(application=application, transition=t, by=by, changes=changes, **fields)


@transaction.atomic
def application_start_review(*, application: Application, by: User) -> Application:
    application, t, _affected = _begin(application, by, "start_review")
    require_state(t, application)
    return _move(application=application, transition=t, by=by, case_officer=by)


@transaction.atomic
def application_request_revision(
    *, application: Application, by: User, comment: str = ""
) -> Application:
    application, t, _affected = _begin(application, by, "request_revision")
    comment = require_comment(comment)
    require_state(t, application)
    # Editable again: the company's current data replaces the snapshot in the computation.
    stale.mark_stale([application.pk])
    return _move(application=application, transition=t, by=by, comment=comment)


@transaction.atomic
def application_pass_review(
    *, application: Application, by: User, comment: str = ""
) -> Application:
    application, t, _affected = _begin(application, by, "pass_review")
    require_state(t, application)
    return _move(application=application, transition=t, by=by, comment=optional_comment(comment))


@transaction.atomic
def application_recommend(
    *, application: Application, by: User, checklist: object = None, comment: str = ""
) -> Application:
    application, t, _affected = _begin(application, by, "recommend")
    changes: dict = {}
    if checklist is None:
        # Without a checklist in the request, the latest recorded site visit's answers.
        recorded = latest_visit_checklist(application)
        if recorded is not None:
            visit_id, checklist = recorded
            changes["site_visit"] = [None, visit_id]
    checklist = require_checklist(checklist)
    require_state(t, application)
    return _move(
        application=application,
        transition=t,
        by=by,
        comment=optional_comment(comment),
        checklist=checklist,
        changes={"checklist": [None, checklist], **changes},
    )


@transaction.atomic
def application_reject(*, application: Application, by: User, comment: str = "") -> Application:
    application, t, rivals = _begin(application, by, "reject", affects=_rivals)
    comment = require_comment(comment)
    require_state(t, application)
    released = application.approved_amount if application.status == S.APPROVED else None
    changes = {"approved_amount": [released, None]} if released is not None else {}
    # The items it claimed are free again: the rivals that lost them are recomputed.
    stale.mark_stale(rivals)
    # Rejecting an approved case releases its reservation: it leaves the committed sum.
    return _move(
        application=application,
        transition=t,
        by=by,
        comment=comment,
        changes=changes,
        approved_amount=None,
    )


def approval_refusal_error(
    refusal: str, *, finding_codes: list[str], amount: int, available: int
) -> ServiceError:
    """The refusal rules.approval_refusal named, as the API and the case page say it."""
    if refusal == "stale_computation":
        return ServiceError(
            "stale_computation",
            _("The refund is being recomputed after a change; try again in a moment."),
        )
    if refusal == "not_eligible":
        blocking = [code for code in finding_codes if code in rules.BLOCKING_CODES]
        return ServiceError(
            "not_eligible",
            _("The application has blocking findings: %(codes)s.") % {"codes": ", ".join(blocking)},
            findings=blocking,
        )
    return ServiceError(
        "budget_exhausted",
        _("The programme budget has %(available)s left; this case needs %(amount)s.")
        % {"available": available, "amount": amount},
        available=available,
    )


@transaction.atomic
def application_approve(*, application: Application, by: User, comment: str = "") -> Application:
    # The programme row lock orders every approval: the check and the reservation are one
    # step. It is taken before the application's row, in the order programme_update takes
    # them (programme, then its open applications), so the two cannot deadlock. NO KEY: it
    # still excludes every other approval and programme change, but not the foreign-key
    # check (FOR KEY SHARE) a submission makes on the programme at COMMIT while holding the
    # audit trail's head, which this approval waits for next (a deadlock the deadline rush
    # found, tests/subsidy/test_workflow_concurrency.py).
    programme = Programme.objects.select_for_update(no_key=True).get(pk=application.programme_id)
    application, t, _affected = _begin(application, by, "approve")
    require_state(t, application)
    available = programme.budget - programme_spent(programme.pk)
    amount = application.computed_discount
    codes = [f["code"] for f in application.findings]
    refusal = rules.approval_refusal(
        computed=application.computed_at is not None,
        finding_codes=codes,
        amount=amount,
        available=available,
    )
    if refusal is not None:
        raise approval_refusal_error(
            refusal, finding_codes=codes, amount=amount, available=available
        )
    return _move(
        application=application,
        transition=t,
        by=by,
        comment=optional_comment(comment),
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
    reference, day = require_transfer(transfer_reference, transferred_on)
    require_state(t, application)
    amount = application.approved_amount
    # One more participation for the company: its applications in later programmes may now
    # reach max_participations.
    stale.mark_stale(later)
    # The public figures of the year count this payment from the commit on.
    statistics.forget(application.programme.year)
    return _move(
        application=application,
        transition=t,
        by=by,
        comment=optional_comment(comment),
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
    require_state(t, application)
    stale.mark_stale(rivals)
    return _move(application=application, transition=t, by=by, comment=optional_comment(comment))


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
        resolve(by, application, action)  # raises 404 or invalid for an unknown action
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
