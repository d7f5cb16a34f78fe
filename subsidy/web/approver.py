"""The approver's part of the workbench (PAGES.md "Officers", issue 11): the budget meter,
what each case would reserve, and bulk approve with a confirmation and a result per case.

Thin: the budget is selectors.programme_budget, the queue selectors.queue_for, and every
decision subsidy.workflow.bulk.applications_approve_many (application_approve per case).
"""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.roles import APPROVER
from subsidy import selectors
from subsidy.access import applications_visible_to, sees_everything
from subsidy.models import Application, Programme
from subsidy.workflow.bulk import applications_approve_many

User = get_user_model()
S = Application.Status
MAX_SELECTION = 200  # one confirmation page; more is a mistake, not a workload


def is_approver(user: User) -> bool:
    return user.has_role(APPROVER)


def budget_meters(user: User, queue: QuerySet[Application]) -> list[dict]:
    """The budget meter of each programme with cases in this approver's queue (one query each)."""
    if not is_approver(user):
        return []
    programmes = Programme.objects.filter(pk__in=queue.order_by().values("programme_id")).order_by(
        "-year", "pk"
    )
    meters = []
    for programme in programmes:
        budget = selectors.programme_budget(programme)
        used = budget["committed"] + budget["disbursed"]
        meters.append({"programme": programme, "budget": budget, "used": used})
    return meters


def _meters_for(user: User, cases: list[Application]) -> list[dict]:
    return budget_meters(user, Application.objects.filter(pk__in=[a.pk for a in cases]))


def approver_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Staff who hold the approver role; other staff are refused (403), anyone else 404."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        if not sees_everything(request.user):
            raise Http404
        if not is_approver(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _selected(request: HttpRequest) -> list[Application]:
    """The ticked cases this user may see, in id order; ids not found are simply left out."""
    ids = []
    for raw in request.POST.getlist("case")[:MAX_SELECTION]:
        if raw.isdigit():
            ids.append(int(raw))
    return list(
        applications_visible_to(request.user)
        .filter(pk__in=ids)
        .select_related("company", "programme")
        .order_by("pk")
    )


@approver_only
@require_POST
def approve_selected(request: HttpRequest) -> HttpResponse:
    """Step one: the ticked cases and their total, to confirm (nothing changes yet)."""
    cases = _selected(request)
    if not cases:
        return render(
            request,
            "office/approve_confirm.html",
            {"cases": [], "total": 0, "meters": []},
            status=400,
        )
    context = {
        "cases": cases,
        "total": sum(a.computed_discount for a in cases if a.computed_at),
        "meters": _meters_for(request.user, cases),
    }
    return render(request, "office/approve_confirm.html", context)


@approver_only
@require_POST
def approve_confirmed(request: HttpRequest) -> HttpResponse:
    """Step two: each case decided on its own; the result of every one shown."""
    cases = _selected(request)
    if not cases:
        return redirect("office:workbench")
    results = applications_approve_many(applications=cases, by=request.user)
    approved = [r for r in results if r.approved]
    context = {
        "results": results,
        "approved_count": len(approved),
        "refused_count": len(results) - len(approved),
        "approved_total": sum(r.amount or 0 for r in approved),
        "meters": _meters_for(request.user, cases),
    }
    return render(request, "office/approve_results.html", context)
