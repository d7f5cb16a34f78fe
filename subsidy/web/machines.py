"""The applicant's machine pages: one machine per form, its refund or why it is excluded."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from config.errors import ServiceError
from subsidy.findings import finding_detail
from subsidy.models import Application, MachineItem
from subsidy.services import applications as application_services
from subsidy.services import permissions
from subsidy.web.applications import MachineLine, application_or_404, estimate_of, posted

from .application_forms import (
    MachineForm,
    add_service_errors,
)


def _item(case: Application, item_pk: int) -> MachineItem:
    for item in case.item_list:
        if item.pk == item_pk:
            return item
    raise Http404


def read_only(request: HttpRequest, case: Application) -> HttpResponse | None:
    """A change to an application that is no longer editable: the service's own message."""
    if case.is_editable:
        return None
    try:
        permissions.require_editable(case)
    except ServiceError as error:
        messages.error(request, str(error.detail))
    return redirect("applicant:application", pk=case.pk)


@login_required
def machines(request: HttpRequest, pk: int) -> HttpResponse:
    case = application_or_404(request, pk)
    return render(
        request,
        "applicant/machine_list.html",
        {"application": case, "editable": case.is_editable, **estimate_of(case)},
    )


def _machine_form(request: HttpRequest, case: Application, item: MachineItem | None):
    form = MachineForm(posted(request), initial=MachineForm.initial_of(item) if item else None)
    if request.method == "POST" and form.is_valid():
        try:
            if item is None:
                item = application_services.item_create(
                    application=case, by=request.user, **form.cleaned_data
                )
            else:
                item = application_services.item_update(
                    item=item, by=request.user, **form.cleaned_data
                )
        except (ValidationError, ServiceError) as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("The machine is saved."))
            return redirect("applicant:machine", pk=case.pk, item_pk=item.pk)
    return render(
        request, "applicant/machine_form.html", {"application": case, "item": item, "form": form}
    )


@login_required
def machine_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = application_or_404(request, pk)
    return read_only(request, case) or _machine_form(request, case, None)


@login_required
def machine_edit(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    case = application_or_404(request, pk)
    item = _item(case, item_pk)
    return read_only(request, case) or _machine_form(request, case, item)


@login_required
def machine(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    """One machine and, once computed, its refund or why it is excluded."""
    case = application_or_404(request, pk)
    item = _item(case, item_pk)
    line = MachineLine(item, [finding_detail(f["code"]) for f in item.findings])
    context = {
        "application": case,
        "line": line,
        "stale": case.computed_at is None,
        "editable": case.is_editable,
    }
    template = "applicant/machine_detail.html"
    if request.htmx:
        template = "applicant/_machine_result.html"
    return render(request, template, context)


@login_required
def machine_delete(request: HttpRequest, pk: int, item_pk: int) -> HttpResponse:
    case = application_or_404(request, pk)
    item = _item(case, item_pk)
    refused = read_only(request, case)
    if refused:
        return refused
    if request.method == "POST":
        try:
            application_services.item_delete(item=item, by=request.user)
        except ServiceError as error:
            messages.error(request, str(error.detail))
        else:
            messages.success(request, _("The machine is removed."))
        return redirect("applicant:machines", pk=case.pk)
    return render(request, "applicant/machine_delete.html", {"application": case, "item": item})
