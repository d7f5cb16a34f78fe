"""The applicant's application pages: the task list, machines, documents, check answers.

Thin: `subsidy.selectors` reads (through `subsidy.access`, so another company's case is 404),
the services the API calls write, and their refusals become form errors or messages with
the API's own text.
"""

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.errors import ServiceError
from subsidy import access, selectors
from subsidy.choices import DocumentKind
from subsidy.dossier import dossier_response
from subsidy.engine import rules
from subsidy.findings import finding_detail
from subsidy.models import Application, Document, MachineItem
from subsidy.notices import letters
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions

from .application_forms import (
    ConfirmForm,
    WithdrawForm,
    add_service_errors,
)

# --- The task list ---------------------------------------------------------------------------

NOT_STARTED, IN_PROGRESS, DONE, NEEDS_ATTENTION = (
    "not_started",
    "in_progress",
    "done",
    "needs_attention",
)
TASK_STATE_LABELS = {
    NOT_STARTED: gettext_lazy("Not started"),
    IN_PROGRESS: gettext_lazy("In progress"),
    DONE: gettext_lazy("Done"),
    NEEDS_ATTENTION: gettext_lazy("Needs attention"),
}
COMPANY_FIELDS = ("nib", "npwp", "bank_name", "bank_account_number", "bank_account_name")
COMPANY_BLOCKING = (rules.COMPANY_NOT_IKM, rules.KBLI_NOT_MANUFACTURING)
MACHINE_BLOCKING = (rules.NO_ELIGIBLE_ITEMS, rules.BELOW_MINIMUM)


def task_states(
    *,
    status: str,
    missing: list[str],
    machines: int,
    excluded_machines: int,
    documents: int,
    blocking: list[str],
) -> dict[str, str]:
    """Each task of the application's task list: not started, in progress, done or needs
    attention, from what a submission still lacks (workflow.actions.missing_for_submission)
    and the computed findings."""
    editable = status in Application.EDITABLE_STATUSES
    company_missing = [code for code in missing if code.startswith("company.")]
    if any(code in blocking for code in COMPANY_BLOCKING):
        company = NEEDS_ATTENTION
    elif not company_missing:
        company = DONE
    elif len(company_missing) == len(COMPANY_FIELDS):
        company = NOT_STARTED
    else:
        company = IN_PROGRESS

    if not machines:
        machine_state = NOT_STARTED
    elif excluded_machines or any(code in blocking for code in MACHINE_BLOCKING):
        machine_state = NEEDS_ATTENTION
    else:
        machine_state = DONE

    documents_missing = any(code.startswith("documents.") for code in missing)
    if not documents and documents_missing:
        document_state = NOT_STARTED
    elif documents_missing:
        document_state = IN_PROGRESS
    else:
        document_state = DONE

    if not editable:
        check, submit = DONE, DONE
    elif status == Application.Status.REVISION_REQUESTED:
        check, submit = NOT_STARTED, NEEDS_ATTENTION
    else:
        check, submit = NOT_STARTED, NOT_STARTED
    return {
        "company": company,
        "machines": machine_state,
        "documents": document_state,
        "check_answers": check,
        "submit": submit,
    }


def posted(request: HttpRequest) -> QueryDict | None:
    """The form data of a POST, even an empty one (an empty POST must still be judged)."""
    return request.POST if request.method == "POST" else None


def application_or_404(request: HttpRequest, pk: int) -> Application:
    """The application with its machines and documents, or 404 (subsidy.access decides)."""
    return get_object_or_404(selectors.application_page(request.user), pk=pk)


def company_url(application: Application) -> str:
    """The company's page, where its details are changed."""
    return reverse("applicant:company", args=[application.company_id])


def _company_facts(application: Application) -> dict:
    """The company as the case counts it: the submission's copy once it is frozen."""
    facts = dict(
        rules.company_facts_in_force(
            editable=application.is_editable,
            snapshot=application.company_snapshot,
            live=application.company.snapshot(),
        )
    )
    facts["scale"] = rules.company_scale(facts["workers"], facts["investment_value"])
    return facts


@dataclass
class MachineLine:
    """A machine as the estimate explains it."""

    item: MachineItem
    reasons: list[str]

    @property
    def excluded(self) -> bool:
        return bool(self.reasons)


def machine_lines(application: Application) -> list[MachineLine]:
    return [
        MachineLine(item, [finding_detail(f["code"]) for f in item.findings])
        for item in application.item_list
    ]


def estimate_of(application: Application) -> dict[str, object]:
    breakdown = application.breakdown or {}
    return {
        "application": application,
        "stale": application.computed_at is None,
        "machines": machine_lines(application),
        "cap_applied": breakdown.get("cap_applied", False),
        "max_refund": application.programme.max_refund_per_company,
        "blocking": [finding_detail(code) for code in breakdown.get("blocking", [])],
    }


def _changed_thing(changes: dict) -> str:
    """The machine or document kind a history entry is about, in words."""
    description = changes.get("description")
    if isinstance(description, list):
        return next((value for value in description[::-1] if value), "")
    kind = changes.get("kind")
    if isinstance(kind, list):
        kind = next((value for value in kind if value), "")
        return DocumentKind(kind).label if kind in DocumentKind.values else ""
    return ""


def _timeline(history: list[dict]) -> list[dict]:
    """The history in words, newest first."""
    statuses = dict(Application.Status.choices)
    things = {"item": _("Machine"), "document": _("Document")}
    words = {
        ("application", "create"): _("Application started"),
        ("item", "create"): _("Machine added"),
        ("item", "update"): _("Machine changed"),
        ("item", "delete"): _("Machine removed"),
        ("document", "upload"): _("Document uploaded"),
        ("document", "delete"): _("Document removed"),
        ("document", "scan"): _("Document checked for malware"),
        ("dossier", "download"): _("Case dossier downloaded"),
    }
    lines = []
    for entry in history:
        thing = entry["changes"].get("object", "application")
        if entry["action"] == "notice":
            text = _("Notice sent: %(title)s") % {"title": entry["comment"]}
            comment = ""
        elif entry["to_status"] and entry["from_status"]:
            text = _("Status: %(status)s") % {"status": statuses.get(entry["to_status"], "")}
            comment = entry["comment"]
        else:
            text = words.get((thing, entry["action"]), things.get(thing, _("Change")))
            comment = ""
            text = f"{text}: {what}" if (what := _changed_thing(entry["changes"])) else text
        lines.append({"at": entry["at"], "text": text, "comment": comment})
    return lines[::-1]


def _task_list_context(request: HttpRequest, application: Application) -> dict[str, object]:
    editable = application.is_editable
    missing = workflow.missing_for_submission(application) if editable else []
    estimate = estimate_of(application)
    breakdown = application.breakdown or {}
    states = task_states(
        status=application.status,
        missing=missing,
        machines=len(application.item_list),
        excluded_machines=sum(1 for line in estimate["machines"] if line.excluded),
        documents=len(application.document_list),
        blocking=[] if estimate["stale"] else breakdown.get("blocking", []),
    )
    history = selectors.application_history(application)
    actions = {
        a["action"]
        for a in transitions.available_actions(application=application, user=request.user)
    }
    tasks = [
        ("company", _("Company details"), company_url(application)),
        ("machines", _("Machines"), reverse("applicant:machines", args=[application.pk])),
        ("documents", _("Documents"), reverse("applicant:documents", args=[application.pk])),
        (
            "check_answers",
            _("Check your answers"),
            reverse("applicant:check_answers", args=[application.pk]),
        ),
        ("submit", _("Submit"), reverse("applicant:check_answers", args=[application.pk])),
    ]
    return {
        "application": application,
        "company": _company_facts(application),
        "editable": editable,
        "tasks": [
            {
                "key": key,
                "name": name,
                "url": url if editable or key in ("machines", "documents") else "",
                "state": states[key],
                "state_label": TASK_STATE_LABELS[states[key]],
            }
            for key, name, url in tasks
        ],
        "revision_comment": (
            selectors.revision_comment(history)
            if application.status == Application.Status.REVISION_REQUESTED
            else ""
        ),
        "timeline": _timeline(history),
        "can_withdraw": "withdraw" in actions,
        "has_letter": application.status
        in (Application.Status.APPROVED, Application.Status.DISBURSED),
        **estimate,
    }


@login_required
def application(request: HttpRequest, pk: int) -> HttpResponse:
    """/applications/<id>/: the task list, the estimate, the timeline (links in notices)."""
    case = application_or_404(request, pk)
    return render(request, "applicant/application_detail.html", _task_list_context(request, case))


@login_required
def application_estimate(request: HttpRequest, pk: int) -> HttpResponse:
    """The estimate alone: htmx polls it while the computation runs."""
    case = application_or_404(request, pk)
    return render(request, "applicant/_application_estimate.html", estimate_of(case))


@login_required
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    case = application_or_404(request, pk)
    form = WithdrawForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            workflow.application_withdraw(
                application=case, by=request.user, comment=form.cleaned_data["comment"]
            )
        except ServiceError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The application is withdrawn."))
            return redirect("applicant:application", pk=case.pk)
    return render(
        request, "applicant/application_withdraw.html", {"application": case, "form": form}
    )


@login_required
def application_letter(request: HttpRequest, pk: int) -> HttpResponse:
    """The approval letter, to those who may see the case, once it is approved."""
    case = application_or_404(request, pk)
    try:
        letters.require_letter(case)
    except ServiceError as error:
        messages.error(request, str(error.detail))
        return redirect("applicant:application", pk=case.pk)
    response = HttpResponse(
        letters.approval_letter_pdf(
            case,
            language=translation.get_language() or "id",
            account_shown=access.bank_account_number(case.payout_account_number, request.user),
        ),
        content_type="application/pdf",
    )
    response["Content-Disposition"] = f'attachment; filename="{letters.letter_filename(case)}"'
    return response


@login_required
def application_dossier(request: HttpRequest, pk: int) -> FileResponse:
    """The case dossier (zip), to those who may see the case: its applicants and staff."""
    case = application_or_404(request, pk)
    return dossier_response(case, by=request.user, language=translation.get_language() or "id")


# --- Machines --------------------------------------------------------------------------------


# --- Documents -------------------------------------------------------------------------------


# --- Check answers and submit ----------------------------------------------------------------


def document_kinds(case: Application) -> list[dict]:
    """Each kind with its files: the programme's required kinds first, then the others."""
    required = list(case.programme.required_documents)
    order = required + [kind for kind in DocumentKind.values if kind not in required]
    held: dict[str, list[Document]] = {}
    for document in case.document_list:
        held.setdefault(document.kind, []).append(document)
    # A kind counts once one of its files is usable (workflow.missing_for_submission).
    usable = {d.kind for d in case.document_list if d.is_usable}
    return [
        {
            "kind": kind,
            "label": DocumentKind(kind).label,
            "required": kind in required,
            "documents": held.get(kind, []),
            "missing": kind in required and kind not in usable,
            "checking": kind not in usable
            and any(d.scan_status == "pending" for d in held.get(kind, [])),
            "refused": kind not in usable
            and any(d.scan_status == "infected" for d in held.get(kind, [])),
        }
        for kind in order
    ]


def missing_links(case: Application, missing: list[str]) -> list[dict[str, str]]:
    """Each thing a refused submission lacks, in a sentence, with the page that fixes it."""
    company = company_url(case)
    sentences = {
        "company.nib": _("Enter the company's NIB."),
        "company.npwp": _("Enter the company's NPWP."),
        "company.bank_name": _("Enter the name of the company's bank."),
        "company.bank_account_number": _("Enter the company's bank account number."),
        "company.bank_account_name": _("Enter the name on the company's bank account."),
        "items": _("Add at least one machine."),
    }
    links = []
    for code in missing:
        if code.startswith("documents."):
            kind = code.partition(".")[2]
            label = DocumentKind(kind).label if kind in DocumentKind.values else kind
            links.append(
                {
                    "text": _("Upload the document: %(kind)s.") % {"kind": label},
                    "url": reverse("applicant:document_upload", args=[case.pk, kind]),
                }
            )
        elif code == "items":
            links.append(
                {"text": sentences[code], "url": reverse("applicant:machine_add", args=[case.pk])}
            )
        else:
            links.append({"text": sentences.get(code, code), "url": company})
    return links


@login_required
def check_answers(request: HttpRequest, pk: int) -> HttpResponse:
    case = application_or_404(request, pk)
    form = ConfirmForm(posted(request))
    refused: list[dict[str, str]] = []
    if request.method == "POST" and form.is_valid():
        try:
            case = workflow.application_submit(application=case, by=request.user)
        except ServiceError as error:
            if error.code == "incomplete":
                refused = missing_links(case, error.extra.get("missing", []))
                form.add_error(None, _("The application is not complete yet."))
            else:
                add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Your application is submitted. Reference %(reference)s; status: %(status)s.")
                % {"reference": case.reference, "status": case.get_status_display()},
            )
            return redirect("applicant:application", pk=case.pk)
    return render(
        request,
        "applicant/check_answers.html",
        {
            "application": case,
            "company": _company_facts(case),
            "company_url": company_url(case),
            "editable": case.is_editable,
            "kinds": [k for k in document_kinds(case) if k["documents"] or k["required"]],
            "form": form,
            "refused": refused,
            **estimate_of(case),
        },
    )
