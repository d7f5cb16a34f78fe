"""The applicant's document pages: upload per kind (a photo from the camera), remove, download."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from config.errors import ServiceError
from subsidy import file_names, files, selectors
from subsidy.choices import DocumentKind
from subsidy.services import documents as document_services
from subsidy.services import reads
from subsidy.web.applications import application_or_404, document_kinds, posted
from subsidy.web.machines import read_only

from .application_forms import (
    DocumentUploadForm,
    add_service_errors,
)


@login_required
def documents(request: HttpRequest, pk: int) -> HttpResponse:
    case = application_or_404(request, pk)
    kinds = document_kinds(case)
    return render(
        request,
        "applicant/documents.html",
        {
            "application": case,
            "editable": case.is_editable,
            "kinds": kinds,
            "missing": [k for k in kinds if k["missing"]],
        },
    )


@login_required
def document_upload(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    case = application_or_404(request, pk)
    if kind not in DocumentKind.values:
        raise Http404
    refused = read_only(request, case)
    if refused:
        return refused
    form = DocumentUploadForm(
        posted(request), request.FILES or None, kind=kind, items=case.item_list
    )
    if request.method == "POST" and form.is_valid():
        try:
            document_services.document_upload(
                application=case,
                by=request.user,
                kind=kind,
                file=form.cleaned_data["file"],
                item=form.cleaned_data.get("item"),
            )
        except (ValidationError, ServiceError) as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request, _("%(kind)s is uploaded.") % {"kind": DocumentKind(kind).label}
            )
            target = reverse("applicant:documents", args=[case.pk])
            return HttpResponseClientRedirect(target) if request.htmx else redirect(target)
    return render(
        request,
        "applicant/documents_upload.html",
        {"application": case, "form": form, "kind_label": DocumentKind(kind).label},
    )


@login_required
@require_POST
def document_delete(request: HttpRequest, pk: int, document_pk: int) -> HttpResponse:
    case = application_or_404(request, pk)
    document = next((d for d in case.document_list if d.pk == document_pk), None)
    if document is None:
        raise Http404
    try:
        document_services.document_delete(document=document, by=request.user)
    except ServiceError as error:
        messages.error(request, str(error.detail))
    else:
        messages.success(request, _("The document is removed."))
    return redirect("applicant:documents", pk=case.pk)


@login_required
def document_download(request: HttpRequest, document_pk: int) -> FileResponse:
    """The file, to those who may see its application (the API download's check)."""
    document = get_object_or_404(
        selectors.documents_visible_to(request.user).select_related("application"),
        pk=document_pk,
    )
    reads.staff_read(
        by=request.user,
        object_type="document",
        object_id=document.pk,
        application_id=document.application_id,
        kind=document.kind,
    )
    return files.file_response(
        document.file,
        content_type=document.content_type,
        name=file_names.served_document_name(document),
        inline=False,
    )
