"""The applicant's company, member, notification and dashboard pages.

Thin: what the user may see comes from subsidy.access, writes go through the services the API
calls, and a service's refusal is shown with the API's words.
"""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.errors import ServiceError
from subsidy import access, kbli, regions, selectors
from subsidy.models import Company
from subsidy.notices import compose
from subsidy.services import applications as application_services
from subsidy.services import companies as company_services
from subsidy.services import permissions

from .company_forms import CompanyForm, InviteMemberForm, add_service_errors, regency_choices
from .next_steps import next_step

User = get_user_model()

# What a dashboard or a notifications page shows at most; older rows wait for a later page.
DASHBOARD_ROWS = 50
NOTIFICATION_ROWS = 100


def application_url(application_id: int) -> str:
    """The applicant's page of an application."""
    return reverse("applicant:application", args=[application_id])


def _visible_company(request: HttpRequest, pk: int) -> Company:
    return get_object_or_404(access.companies_visible_to(request.user), pk=pk)


def _company_page(
    request: HttpRequest, template: str, form: CompanyForm, **context
) -> HttpResponse:
    return render(
        request,
        template,
        {"form": form, "divisions": kbli.divisions(), **context},
    )


def _save_company(
    request: HttpRequest, form: CompanyForm, company: Company | None
) -> Company | None:
    """Call the service with the form's values; its refusals land on the form."""
    if not form.is_valid():
        return None
    try:
        if company is None:
            return company_services.company_create(by=request.user, **form.cleaned_data)
        return company_services.company_update(
            company=company, by=request.user, **form.cleaned_data
        )
    except (ValidationError, ServiceError) as error:
        add_service_errors(form, error)
        return None


@login_required
def company_new(request: HttpRequest) -> HttpResponse:
    """Register a company; the applicant becomes its first member."""
    form = CompanyForm(request.POST or None)
    if request.method == "POST":
        if "show_regencies" in request.POST:
            form = form.as_unjudged()
        elif (company := _save_company(request, form, None)) is not None:
            messages.success(request, _("The company has been saved."))
            return redirect("applicant:company", pk=company.pk)
    return _company_page(request, "applicant/company_form.html", form, company=None)


@login_required
def company_edit(request: HttpRequest, pk: int) -> HttpResponse:
    company = _visible_company(request, pk)
    # Staff may read the company but never change it; the form would show them its data whole.
    try:
        permissions.require_member(company, request.user)
    except ServiceError as error:
        raise PermissionDenied(error.detail) from None
    if request.method == "POST":
        form = CompanyForm(request.POST)
        if "show_regencies" in request.POST:
            form = form.as_unjudged()
        elif _save_company(request, form, company) is not None:
            messages.success(request, _("The company has been saved."))
            return redirect("applicant:company", pk=company.pk)
    else:
        form = CompanyForm(initial=CompanyForm.initial_of(company))
    return _company_page(request, "applicant/company_form.html", form, company=company)


@require_GET
def regency_options(request: HttpRequest) -> HttpResponse:
    """The <option>s of a province's regencies, for htmx to swap into the regency select."""
    return render(
        request,
        "applicant/_regency_options.html",
        {"choices": regency_choices(request.GET.get("province", "")), "selected": ""},
    )


@login_required
def company_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The company's data and its members."""
    company = _visible_company(request, pk)
    return render(
        request,
        "applicant/company_detail.html",
        {
            "company": company,
            "division_name": kbli.division_name(company.kbli),
            "province_name": regions.province_name(company.province),
            "regency_name": regions.regency_name(company.regency),
            "members": company.members.order_by("username", "id"),
        },
    )


@login_required
def members_invite(request: HttpRequest, pk: int) -> HttpResponse:
    """Invite someone by e-mail; the page says the same whether or not they have an account."""
    company = _visible_company(request, pk)
    form = InviteMemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            company_services.company_invite_member(
                company=company, by=request.user, email=form.cleaned_data["email"]
            )
        except (ValidationError, ServiceError) as error:
            add_service_errors(form, error)
        else:
            messages.success(request, company_services.invitation_sent())
            return redirect("applicant:company", pk=company.pk)
    return render(request, "applicant/members_invite.html", {"company": company, "form": form})


@login_required
def members_remove(request: HttpRequest, pk: int, user_id: int) -> HttpResponse:
    """Confirm, then remove a member (or leave the company); never the last member."""
    company = _visible_company(request, pk)
    member = get_object_or_404(company.members.all(), pk=user_id)
    leaving = member.pk == request.user.pk
    if request.method == "POST":
        try:
            company_services.company_remove_member(company=company, by=request.user, user=member)
        except ServiceError as error:
            messages.error(request, str(error.detail))
            return redirect("applicant:company", pk=company.pk)
        if leaving:
            messages.success(request, _("You have left %(company)s.") % {"company": company.name})
            return redirect("applicant:dashboard")
        messages.success(
            request, _("%(member)s is no longer a member.") % {"member": member.username}
        )
        return redirect("applicant:company", pk=company.pk)
    return render(
        request,
        "applicant/members_remove.html",
        {"company": company, "member": member, "leaving": leaving},
    )


def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """The link from the e-mail: log in or register first, then accept."""
    try:
        found = company_services.invitation_for_token(token)
    except ServiceError as error:
        return render(
            request, "applicant/members_accept.html", {"problem": str(error.detail)}, status=404
        )
    refusal = company_services.invitation_refusal(found)
    if request.method == "POST" and request.user.is_authenticated and refusal is None:
        try:
            company_services.invitation_accept(token=token, by=request.user)
        except ServiceError as error:
            refusal = error
        else:
            messages.success(
                request, _("You are now a member of %(company)s.") % {"company": found.company.name}
            )
            return redirect("applicant:company", pk=found.company_id)
    return render(
        request,
        "applicant/members_accept.html",
        {
            "invitation": found,
            "problem": str(refusal.detail) if refusal else "",
            "next": request.get_full_path(),
        },
    )


@login_required
def notifications(request: HttpRequest) -> HttpResponse:
    """The user's notices, newest first, each linking to its case."""
    notices = list(selectors.notifications_for(request.user)[:NOTIFICATION_ROWS])
    for notice in notices:
        notice.case_url = application_url(notice.application_id) if notice.application_id else ""
    return render(request, "applicant/notifications.html", {"notices": notices})


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(selectors.notifications_for(request.user), pk=pk)
    compose.notice_mark_read(notice=notice, by=request.user)
    return redirect("applicant:notifications")


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The applicant's home: their companies and applications, what to do next, the estimate."""
    companies = list(request.user.companies.order_by("name", "id")[:DASHBOARD_ROWS])
    applications = list(
        selectors.application_list(request.user)
        .filter(company__members=request.user)
        .order_by("-created_at", "-id")[:DASHBOARD_ROWS]
    )
    for application in applications:
        application.next_step = next_step(application.status)
        application.url = application_url(application.pk)
    return render(
        request,
        "applicant/dashboard.html",
        {
            "companies": companies,
            "applications": applications,
            "programme": selectors.current_programme(),
        },
    )


@login_required
@require_POST
def dashboard_new_application(request: HttpRequest) -> HttpResponse:
    """Start a draft for a company in the current programme (the service refuses a second)."""
    company = _visible_company(request, _int(request.POST.get("company")))
    programme = selectors.current_programme()
    if programme is None:
        messages.error(request, _("There is no programme to apply to yet."))
        return redirect("applicant:dashboard")
    try:
        application = application_services.application_create(
            by=request.user, programme=programme, company=company
        )
    except ServiceError as error:
        messages.error(request, str(error.detail))
        return redirect("applicant:dashboard")
    messages.success(request, _("A draft application has been started."))
    return redirect(application_url(application.pk))


def _int(value: str | None) -> int:
    return int(value) if value and value.isdigit() and len(value) < 19 else 0
