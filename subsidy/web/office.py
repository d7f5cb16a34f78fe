"""The officers' workbench and case page (PAGES.md "Officers"): staff only, desk width.

Thin: the queue and the filters are the API's (selectors.queue_for, filters.ApplicationFilter),
the actions are the workflow's services, and what a user may see is subsidy.access.
"""

from collections import Counter
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_http_methods

from accounts.roles import APPROVER, VERIFIER
from config.errors import ServiceError
from subsidy import formats, regions, scanning, selectors
from subsidy import signals as officer_signals
from subsidy.access import applications_visible_to, sees_everything
from subsidy.engine import rules
from subsidy.filters import ApplicationFilter, QueueFilter
from subsidy.findings import finding_detail
from subsidy.models import Application, Document, Programme, SiteVisit, SiteVisitPhoto
from subsidy.services import reads
from subsidy.services import site_visits as site_visit_services
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions

from .approver import budget_meters, is_approver
from .office_forms import CHECKLIST_LABELS, ActionForm, WorkbenchFilterForm
from .paging import OrderedUnion, part_counts

User = get_user_model()
S = Application.Status
PAGE_SIZE = 25
# A filtered or searched list is counted exactly up to this many pages; past it, "more than".
COUNTED_PAGES = 2
# The queue's cases of a status are counted up to this many; past it, "more than" (the count of
# a long queue would read every case of it on every page).
STATUS_COUNT_LIMIT = 1000

# Column -> the order it sorts by; "-" first is descending. Ties go by id, so pages are stable.
SORTS = {
    "days": ("-status_changed_at", "-pk"),
    "-days": ("status_changed_at", "pk"),
    "reference": ("reference", "pk"),
    "-reference": ("-reference", "-pk"),
    "company": ("company__name", "pk"),
    "-company": ("-company__name", "-pk"),
    "amount": ("computed_discount", "pk"),
    "-amount": ("-computed_discount", "-pk"),
}
DEFAULT_SORT = "-days"  # the oldest waiting first
# What a row of the workbench shows (office/_workbench_table.html), and nothing else.
ROW_COLUMNS = (
    "reference",
    "status",
    "status_changed_at",
    "computed_discount",
    "computed_at",
    "company__name",
    "company__nib",
    "company__province",
    "case_officer__username",
)


def staff_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Programme staff and superusers; anyone else is told the page does not exist."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not sees_everything(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapper


def _has_queue(user: User) -> bool:
    return any(user.has_role(role) for role in selectors.QUEUE_ROLES)


def _base_queue(user: User):
    """The cases waiting on this user; an auditor (no queue of their own) reads every case."""
    if _has_queue(user):
        return selectors.queue_for(user)
    return applications_visible_to(user)


def _queue_parts(user: User) -> list:
    """_base_queue as disjoint parts of one status each, each read on its own
    (subsidy.web.paging)."""
    if _has_queue(user):
        return selectors.queue_parts(user)
    everything = applications_visible_to(user)
    return [everything.filter(status=status) for status in S.values]


def _without_empty(data: QueryDict) -> QueryDict:
    """A GET form sends blank fields; to the filter set (which refuses a blank) they are absent."""
    kept = QueryDict(mutable=True)
    for key, values in data.lists():
        kept.setlist(key, [v for v in values if v.strip()])
        if not kept.getlist(key):
            del kept[key]
    return kept


def _with(params: QueryDict, **changes: str | None) -> str:
    """The query string of the current filters with some parameters changed (None drops)."""
    copy = params.copy()
    for key, value in changes.items():
        if value is None:
            copy.pop(key, None)
        else:
            copy[key] = value
    return urlencode(sorted(copy.lists()), doseq=True)


def _waiting(application: Application, today) -> dict:
    since = (
        timezone.localdate(application.status_changed_at) if application.status_changed_at else None
    )
    days = rules.days_waiting(since, today)
    return {"days": days, "level": rules.service_level(days, settings.CASE_SLA_DAYS)}


def _rows(applications: list[Application]) -> list[dict]:
    """What each row of the workbench shows, as text: the table reads a value per cell rather
    than calling methods, filters and tags in its loop (docs/benchmarks.md, "Officers' pages")."""
    today = timezone.localdate()
    status_labels = dict(S.choices)  # get_status_display hashes every choice, on each call
    draft = _("(draft)")
    return [
        {
            "pk": a.pk,
            "url": reverse("office:case", args=[a.pk]),
            "reference": a.reference or draft,
            "selectable": a.status == S.RECOMMENDED,  # bulk approve
            "company": a.company.name,
            "nib": a.company.nib,
            "province": regions.province_name(a.company.province),
            "status": status_labels.get(a.status, a.status),
            "officer": a.case_officer.username if a.case_officer else "—",
            "amount": formats.rupiah(a.computed_discount) if a.computed_at else None,
            "waiting": _waiting(a, today),
        }
        for a in applications
    ]


def _verifiers() -> list[tuple[int, str]]:
    """Each verifier's id and name (the case officer filter's choices)."""
    # By the group's id, not its name through a join: with the name, PostgreSQL cannot tell
    # the few verifiers from the many applicants and reads every membership.
    group = Group.objects.filter(name=VERIFIER).values_list("pk", flat=True).first()
    if group is None:
        return []
    officers = User.objects.filter(groups=group).order_by("username")
    return [
        (pk, f"{first} {last}".strip() or username)
        for pk, username, first, last in officers.values_list(
            "pk", "username", "first_name", "last_name"
        )
    ]


def _status_counts(parts: list) -> tuple[Counter, set[str], list]:
    """The cases of each status in the queue's parts (each of one status), the statuses counted
    no further than STATUS_COUNT_LIMIT (a count past it says "more than"), and the parts that
    hold a case: an empty one is not read again."""
    counts, bounded, held = Counter(), set(), []
    counted = part_counts(parts, "status", STATUS_COUNT_LIMIT + 1)
    for part, (status, number) in zip(parts, counted, strict=True):
        if not number:
            continue
        held.append(part)
        counts[status] += number
        if number > STATUS_COUNT_LIMIT:
            bounded.add(status)
    return counts, bounded, held


def _filtered(filterset: ApplicationFilter) -> bool:
    return any(value not in (None, "", []) for value in filterset.form.cleaned_data.values())


def _page_number(page: str | None) -> int:
    """The page asked for, as Paginator.get_page reads it (a page past the end aside)."""
    number = int(page) if page and page.isascii() and page.isdigit() and len(page) < 7 else 1
    return max(number, 1)


def _count_limit(number: int) -> int:
    """How far a filtered list is counted: COUNTED_PAGES pages, and always past the page asked
    for, so that its "next" link is known."""
    return max(COUNTED_PAGES, number + 1) * PAGE_SIZE


@staff_only
def workbench(request: HttpRequest) -> HttpResponse:
    """`/office/`: the user's queue, filtered, searched, sorted and counted per status."""
    user = request.user
    params = _without_empty(request.GET)
    queue = _queue_parts(user)
    # Of the whole queue (the filters' shortcuts); the parts holding no case are left out.
    counts, bounded, held = _status_counts(queue)
    # The filter set checks the filters, then filters each part of the queue on its own.
    filterset = QueueFilter(params, queryset=queue[0], request=request)
    valid = filterset.is_valid()
    parts = [filterset.filter_queryset(part) for part in held] if valid and held else []
    parts = parts or [queue[0].none()]
    sort = params.get("sort") if params.get("sort") in SORTS else DEFAULT_SORT
    number = _page_number(params.get("page"))
    rows = OrderedUnion(
        parts,
        SORTS[sort],
        related=("company", "case_officer"),
        only=ROW_COLUMNS,
        # Unfiltered, the list is the whole queue: its count is known, unless a status was
        # counted only so far. Else it is counted up to a few pages past the one asked for
        # ("more than N match").
        count=sum(counts.values()) if valid and not (_filtered(filterset) or bounded) else None,
        count_limit=_count_limit(number),
        # The page about to be read: a filtered list's count comes with its rows.
        expected=slice((number - 1) * PAGE_SIZE, number * PAGE_SIZE),
    )
    page = Paginator(rows, PAGE_SIZE).get_page(params.get("page"))
    cases = _rows(page.object_list)
    status_counts = [
        {
            "status": value,
            "label": label,
            "count": counts[value],
            "more": value in bounded,  # counted to STATUS_COUNT_LIMIT, and there are more
            "query": _with(params, status=value, page=None),
        }
        for value, label in S.choices
        if counts.get(value)
    ]
    form = WorkbenchFilterForm(
        initial=params.dict(),
        programmes=list(Programme.objects.order_by("-year").values_list("pk", "name")),
        officers=_verifiers(),
    )
    sort_links = {
        column: {
            "query": _with(
                params, sort=column if sort == f"-{column}" else f"-{column}", page=None
            ),
            "current": sort.lstrip("-") == column,
            "descending": sort.startswith("-"),
        }
        for column in ("days", "reference", "company", "amount")
    }
    context = {
        "form": form,
        "filter_errors": filterset.form.errors if not valid else {},
        "page": page,
        "cases": cases,
        "status_counts": status_counts,
        "total": sum(counts.values()),
        "total_more": bool(bounded),
        "more_than": _("more than %(count)s")
        % {"count": formats.group_thousands(STATUS_COUNT_LIMIT)},
        "sort_links": sort_links,
        "page_query": {
            "previous": _with(params, page=str(page.previous_page_number()))
            if page.has_previous()
            else None,
            "next": _with(params, page=str(page.next_page_number())) if page.has_next() else None,
        },
        "sort": params.get("sort") if sort != DEFAULT_SORT else "",
        # The CSV exports take the list's filters: the same query string, less the page's own.
        "export_query": _with(params, page=None, sort=None) if valid else None,
        "sla_days": settings.CASE_SLA_DAYS,
        "read_only": not _has_queue(user),
        # The approver's budget meter, what each case would reserve, and bulk approve.
        "meters": budget_meters(user, _base_queue(user)) if is_approver(user) else [],
        "bulk_approve": is_approver(user),
    }
    template = "office/_workbench_table.html" if request.htmx else "office/workbench.html"
    return render(request, template, context)


def _company(application: Application) -> dict:
    """The company as the case was submitted (its snapshot), else as it stands now."""
    company = application.company
    data = application.company_snapshot or company.snapshot()
    return {
        **data,
        "province_name": regions.province_name(data.get("province", "")),
        "regency_name": regions.regency_name(data.get("regency", "")),
        "from_snapshot": application.company_snapshot is not None,
    }


def _document_view(document: Document) -> dict:
    content_type = document.content_type
    return {
        "document": document,
        "url": reverse("office:document", args=[document.pk]),
        "is_pdf": content_type == "application/pdf",
        "is_image": content_type.startswith("image/"),
        # Only a usable file is shown; every document says where its malware check stands.
        "usable": document.is_usable,
        "unusable_reason": scanning.unusable_reason(document),
    }


def _machines(application: Application) -> list[dict]:
    items = application.items.order_by("id").prefetch_related(
        Prefetch("documents", queryset=Document.objects.order_by("id"), to_attr="document_list")
    )
    return [
        {
            "item": item,
            "reasons": [finding_detail(f.get("code", "")) for f in item.findings],
            "documents": [_document_view(d) for d in item.document_list],
        }
        for item in items
    ]


def _photo_view(photo: SiteVisitPhoto) -> dict:
    """A site photo with the time and position its EXIF gave, or None for what it lacked."""
    located = photo.has_exif_location
    return {
        "photo": photo,
        "url": reverse("office:site_visit_photo", args=[photo.pk]),
        "taken_at": photo.taken_at,
        # Decimal degrees as the camera wrote them (south and west negative), never floats.
        "position": f"{photo.latitude:f}, {photo.longitude:f}" if located else None,
        "geo": f"geo:{photo.latitude:f},{photo.longitude:f}" if located else None,
    }


def _visit_view(visit: SiteVisit) -> dict:
    return {
        "visit": visit,
        "checklist": [
            {"label": label, "found": getattr(visit, name)}
            for name, label in CHECKLIST_LABELS.items()
        ],
        "photos": [_photo_view(p) for p in visit.photos.all()],
    }


def visits(application: Application) -> list[dict]:
    """The recorded site visits, oldest first, with their photos (two queries)."""
    return [_visit_view(v) for v in selectors.site_visits_of(application)]


def may_record_visit(actions: list[dict]) -> bool:
    """A visit is recorded by whoever may recommend the case now (services.site_visits)."""
    return any(a["action"] == site_visit_services.VISIT_ACTION for a in actions)


# DOMAIN.md words for what the trail records besides transitions.
_CHANGE_WORDS = {
    "create": gettext_lazy("%(object)s added"),
    "update": gettext_lazy("%(object)s changed"),
    "delete": gettext_lazy("%(object)s removed"),
    "upload": gettext_lazy("%(object)s uploaded"),
    "add_member": gettext_lazy("%(object)s: member added"),
    "download": gettext_lazy("%(object)s downloaded"),
    "scan": gettext_lazy("%(object)s checked for malware"),
}
_OBJECT_NAMES = {
    "application": gettext_lazy("Application"),
    "company": gettext_lazy("Company"),
    "document": gettext_lazy("Document"),
    "dossier": gettext_lazy("Case dossier"),
    "item": gettext_lazy("Machine"),
    "programme": gettext_lazy("Programme"),
    "site_visit": gettext_lazy("Site visit"),
    "site_visit_photo": gettext_lazy("Site visit photo"),
}


def _history(application: Application) -> list[dict]:
    """The trail in words: who did what, from which state to which."""
    labels = dict(S.choices)
    entries = []
    for entry in selectors.application_history(application):
        action = entry["action"]
        if action in transitions.ACTION_LABELS:
            what = str(transitions.ACTION_LABELS[action])
        elif action == "notice":
            what = _("Notice sent")
        else:
            thing = entry["changes"].get("object", "application")
            name = _OBJECT_NAMES.get(thing, thing)
            words = _CHANGE_WORDS.get(action)
            what = str(words) % {"object": name} if words else f"{name}: {action}"
        entries.append(
            {
                "at": entry["at"],
                "actor": entry["actor"],
                "what": what,
                "from_status": labels.get(entry["from_status"], ""),
                "to_status": labels.get(entry["to_status"], ""),
                "comment": entry["comment"],
            }
        )
    return entries


def approval_blocked_reason(application: Application, user: User) -> str | None:
    """Why this approver cannot approve this recommended case now, in the service's words."""
    if application.status != S.RECOMMENDED or not user.has_role(APPROVER):
        return None
    try:
        transitions.resolve(user, application, "approve")
    except ServiceError as error:
        return str(error.detail)
    budget = selectors.programme_budget(application.programme)
    codes = [f.get("code") for f in application.findings]
    refusal = rules.approval_refusal(
        computed=application.computed_at is not None,
        finding_codes=codes,
        amount=application.computed_discount,
        available=budget["available"],
    )
    if refusal is None:
        return None
    error = workflow.approval_refusal_error(
        refusal,
        finding_codes=codes,
        amount=application.computed_discount,
        available=budget["available"],
    )
    return str(error.detail)


def case_application(request: HttpRequest, pk: int) -> Application:
    return get_object_or_404(
        applications_visible_to(request.user).select_related(
            "company", "programme", "case_officer"
        ),
        pk=pk,
    )


@staff_only
def case(request: HttpRequest, pk: int) -> HttpResponse:
    """`/office/cases/<id>/`: everything an officer decides on, and the actions they may take."""
    application = case_application(request, pk)
    user = request.user
    actions = transitions.available_actions(application=application, user=user)
    today = timezone.localdate()
    signals = officer_signals.signals_for(application)
    item_numbers = {}
    machines = _machines(application)
    for number, machine in enumerate(machines, start=1):
        item_numbers[machine["item"].pk] = number
    for signal in signals:
        signal["item_number"] = item_numbers.get(signal["item"])
        signal["detail"] = finding_detail(signal["code"]) if signal["code"] else ""
    loose = application.documents.filter(item__isnull=True).order_by("id")
    context = {
        "application": application,
        "company": _company(application),
        "machines": machines,
        "loose_documents": [_document_view(d) for d in loose],
        "breakdown": application.breakdown or {},
        "stale": application.computed_at is None,
        "findings": [
            {"code": f.get("code"), "detail": finding_detail(f.get("code", ""))}
            for f in application.findings
            if f.get("code") in rules.BLOCKING_CODES
        ],
        "signals": signals,
        "history": _history(application),
        "actions": actions,
        "visits": visits(application),
        "may_record_visit": may_record_visit(actions),
        "approval_blocked": approval_blocked_reason(application, user),
        "waiting": _waiting(application, today),
        "sla_days": settings.CASE_SLA_DAYS,
    }
    return render(request, "office/case.html", context)


@staff_only
@xframe_options_sameorigin
def document(request: HttpRequest, pk: int) -> FileResponse:
    """A document shown inline beside its machine (framed by the case page only)."""
    found = get_object_or_404(
        selectors.documents_visible_to(request.user)
        .select_related("application")
        .only(
            "file",
            "content_type",
            "kind",
            "application__reference",
            "scan_status",
            "scan_signature",
        ),
        pk=pk,
    )
    return reads.document_file(document=found, by=request.user, inline=True, page=True)


def _answers(visit: SiteVisit) -> dict[str, bool]:
    return {name: getattr(visit, name) for name in transitions.CHECKLIST_ITEMS}


def _initial(visit: SiteVisit | None) -> dict:
    """The recommend form starts from the latest recorded site visit's checklist."""
    return {"site_visit": visit.pk, **_answers(visit)} if visit is not None else {}


def _payload(form: ActionForm, visit: SiteVisit | None) -> dict:
    """The form's payload; a checklist left as the visit recorded it is the visit's own.

    Then the service takes the latest visit's answers and records which visit the
    recommendation rests on. A visit recorded since the form was opened is not taken
    silently: its id differs, and the answers the officer confirmed are sent instead.
    """
    payload = form.payload()
    if (
        visit is not None
        and form.requires == transitions.CHECKLIST
        and form.cleaned_data.get("site_visit") == visit.pk
        and payload["checklist"] == _answers(visit)
    ):
        payload["checklist"] = None
    return payload


def _refusal_into(form: ActionForm, error: ServiceError) -> None:
    """The service's refusal on the form: field errors beside their field, else at the top."""
    placed = False
    for field, problems in (error.extra.get("errors") or {}).items():
        name = field if field in form.fields else None
        if field == "checklist" and transitions.CHECKLIST_ITEMS[0] in form.fields:
            name = transitions.CHECKLIST_ITEMS[0]
        for problem in problems:
            form.add_error(name, problem)
            placed = True
    if not placed:
        form.add_error(None, str(error.detail))


@staff_only
@require_http_methods(["GET", "POST"])
def case_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One action's form, its confirmation, and the service's answer (same text as the API)."""
    application = case_application(request, pk)
    rows = [t for t in transitions.TRANSITIONS if t.action == action]
    if not rows or action in {"submit", "withdraw"}:
        raise Http404
    user = request.user
    held = [t for t in rows if user.has_role(t.role)]
    requires = (held or rows)[0].requires
    # Recommending rests on the latest recorded site visit, when there is one.
    visit = selectors.latest_visit(application) if requires == transitions.CHECKLIST else None
    status = 200
    if request.method == "POST":
        form = ActionForm(request.POST, requires=requires)
        if form.is_valid():
            try:
                workflow.application_transition(
                    application=application, by=user, action=action, **_payload(form, visit)
                )
            except ServiceError as error:
                if error.code == "not_found":
                    raise Http404 from error
                _refusal_into(form, error)
                status = error.status if error.status in (403, 409) else 400
            else:
                application.refresh_from_db(fields=["status"])
                messages.success(
                    request,
                    _("%(action)s: the case is now %(status)s.")
                    % {
                        "action": transitions.ACTION_LABELS[action],
                        "status": application.get_status_display(),
                    },
                )
                return redirect("office:case", pk=application.pk)
        else:
            status = 400
    else:
        form = ActionForm(requires=requires, initial=_initial(visit))
    context = {
        "application": application,
        "action": action,
        "label": transitions.ACTION_LABELS[action],
        "form": form,
        "requires": requires,
        "visit": visit,
    }
    return render(request, "office/action.html", context, status=status)
