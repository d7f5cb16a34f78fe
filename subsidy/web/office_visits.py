"""The site visit (PAGES.md "Officers"): the verifier records it during field verification,
with photos from the phone's camera; every officer reads the recorded visits.

Thin: who may record and when, and what a visit and its photos must be, are
subsidy.services.site_visits (the API's rules); the photos' time and position come from
their EXIF (subsidy.photos), read when they are stored.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from config.errors import ServiceError
from subsidy import file_names, files, selectors
from subsidy.models import Application
from subsidy.services import reads
from subsidy.services import site_visits as site_visit_services
from subsidy.workflow import transitions

from .application_forms import add_service_errors
from .office import case_application, staff_only, visits
from .office_forms import SiteVisitForm, VisitPhotoForm


def visit_refusal(application: Application, user: object) -> ServiceError | None:
    """Why this user may not record a visit on this case now (403 or 409), or None."""
    try:
        transition = site_visit_services.require_visitor(application, user)
        transitions.require_state(transition, application)
    except ServiceError as error:
        if error.code == "not_found":
            raise Http404 from error
        return error
    return None


@staff_only
@require_http_methods(["GET", "POST"])
def site_visit(request: HttpRequest, pk: int) -> HttpResponse:
    """`/office/cases/<id>/site-visit/`: the form for the verifier, the recorded visits for all."""
    application = case_application(request, pk)
    refusal = visit_refusal(application, request.user)
    status = 200
    form = None
    if refusal is not None:
        # Read-only: the recorded visits and why no visit can be recorded here.
        status = refusal.status if request.method == "POST" else 200
    elif request.method == "POST":
        form = SiteVisitForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            try:
                visit = site_visit_services.site_visit_record(
                    application=application, by=request.user, **form.record()
                )
            except ValidationError as error:
                add_service_errors(form, error)
            except ServiceError as error:
                # A transition slipped in since the page was opened (409).
                form.add_error(None, str(error.detail))
                status = error.status
            else:
                messages.success(request, _("The site visit is recorded."))
                target = reverse("office:site_visit", args=[application.pk])
                return redirect(f"{target}#visit-{visit.pk}")
    else:
        form = SiteVisitForm()
    return _page(request, application, form=form, refusal=refusal, status=status)


def _page(request: HttpRequest, application: Application, **context: object) -> HttpResponse:
    status = context.pop("status", 200)
    context.setdefault("photo_form", VisitPhotoForm() if context["refusal"] is None else None)
    context = {"application": application, "visits": visits(application), **context}
    return render(request, "office/site_visit.html", context, status=status)


@staff_only
@require_POST
def site_visit_photo_add(request: HttpRequest, pk: int, visit_pk: int) -> HttpResponse:
    """One more photo for a recorded visit (services.site_visits.site_visit_add_photo)."""
    application = case_application(request, pk)
    visit = get_object_or_404(selectors.site_visits_of(application), pk=visit_pk)
    refusal = visit_refusal(application, request.user)
    if refusal is not None:
        return _page(request, application, form=None, refusal=refusal, status=refusal.status)
    # Its id is the one the visit's own field has on the page (the error summary links it).
    photo_form = VisitPhotoForm(request.POST, request.FILES, auto_id=f"id_visit{visit.pk}_%s")
    if photo_form.is_valid():
        try:
            site_visit_services.site_visit_add_photo(
                visit=visit, by=request.user, file=photo_form.cleaned_data["photo"]
            )
        except ValidationError as error:
            photo_form.add_error("photo", error.message_dict.get("file", error.messages))
        except ServiceError as error:
            photo_form.add_error(None, str(error.detail))
        else:
            messages.success(request, _("The photo is added to the visit."))
            target = reverse("office:site_visit", args=[application.pk])
            return redirect(f"{target}#visit-{visit.pk}")
    photo_form.visit_pk = visit.pk
    return _page(
        request,
        application,
        form=SiteVisitForm(),
        refusal=None,
        photo_form=photo_form,
        status=400,
    )


@staff_only
@require_GET
def site_visit_photo(request: HttpRequest, pk: int) -> FileResponse:
    """A site photo shown in the page, to programme staff only (the API download's check)."""
    photo = get_object_or_404(
        selectors.site_visit_photos_visible_to(request.user)
        .select_related("visit__application")
        .only("file", "content_type", "visit__application__reference"),
        pk=pk,
    )
    reads.staff_read(
        by=request.user,
        object_type="site_photo",
        object_id=photo.pk,
        application_id=photo.visit.application_id,
        inline=True,
    )
    return files.file_response(
        photo.file,
        content_type=photo.content_type,
        name=file_names.served_photo_name(photo),
        inline=True,
    )
