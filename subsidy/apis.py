"""REST API v1 (API.md). Views translate: scope, check in the contract's order, call a service.

Order of refusals: 401 (authentication), 404 (not visible to the caller), 403 (role), 400
(payload), 409 (state) - the last one raised by the services.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import FileResponse, HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.roles import APPLICANT
from config.api import LIST_ERRORS, READ_ERRORS, error_responses
from config.errors import ServiceError
from config.json_io import JSONParser
from config.openapi import AutoSchema
from subsidy import access, files, selectors
from subsidy.notices import compose as notices
from subsidy.notices import letters
from subsidy.services import applications as application_services
from subsidy.services import companies as company_services
from subsidy.services import documents as document_services
from subsidy.services import permissions
from subsidy.services import programmes as programme_services
from subsidy.services import site_visits as site_visit_services
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions

from .filters import ApplicationFilter, CompanyFilter
from .models import (
    Application,
    Company,
    Document,
    MachineItem,
    Notice,
    Programme,
    SiteVisit,
)
from .serializers import (
    TRANSITION_REQUEST,
    ApplicationSerializer,
    AvailableActionSerializer,
    BreakdownSerializer,
    BudgetSerializer,
    CompanySerializer,
    DetailSerializer,
    DocumentSerializer,
    EligibilityCheckSerializer,
    EligibilityResultSerializer,
    HistoryEntrySerializer,
    InviteMemberSerializer,
    MachineItemSerializer,
    MemberSerializer,
    NotificationSerializer,
    ProgrammeSerializer,
    ProvinceSerializer,
    SiteVisitJsonRequestSerializer,
    SiteVisitPhotoSerializer,
    SiteVisitPhotoUploadSerializer,
    SiteVisitRequestSerializer,
    SiteVisitSerializer,
    TransitionSerializer,
)

# Writes: create (no object yet), change (an object the caller must see), and the writes on an
# application's data, which its state may refuse (409).
CREATE_ERRORS = error_responses(400, 401, 403)
CHANGE_ERRORS = error_responses(400, 401, 403, 404)
CASE_ERRORS = error_responses(400, 401, 403, 404, 409)
CASE_DELETE_ERRORS = error_responses(401, 403, 404, 409)
DOCUMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")


def _require_applicant(user) -> None:
    if not user.has_role(APPLICANT):
        raise ServiceError("forbidden", _("Only applicants may do this."))


def _validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _resource_schema(
    serializer: type, *, create_errors: dict, change_errors: dict, **more: object
) -> Callable:
    """The schema of a resource that is listed, read, created and changed."""
    return extend_schema_view(
        list=extend_schema(responses={200: serializer(many=True), **LIST_ERRORS}),
        retrieve=extend_schema(responses={200: serializer, **READ_ERRORS}),
        create=extend_schema(responses={201: serializer, **create_errors}),
        update=extend_schema(responses={200: serializer, **change_errors}),
        partial_update=extend_schema(responses={200: serializer, **change_errors}),
        **more,
    )


# --- Programmes ----------------------------------------------------------------------------


@_resource_schema(ProgrammeSerializer, create_errors=CREATE_ERRORS, change_errors=CHANGE_ERRORS)
class ProgrammeViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Yearly programmes: everyone reads, superusers write."""

    schema = AutoSchema()
    serializer_class = ProgrammeSerializer
    queryset = Programme.objects.prefetch_related("rates").order_by("-year")

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        permissions.require_superuser(request.user)
        data = dict(_validated(ProgrammeSerializer, request.data))
        programme = programme_services.programme_create(by=request.user, **data)
        programme = self.get_queryset().get(pk=programme.pk)
        return Response(ProgrammeSerializer(programme).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        programme = self.get_object()
        permissions.require_superuser(request.user)
        partial = kwargs.get("partial", False)
        data = dict(
            _validated(ProgrammeSerializer, request.data, instance=programme, partial=partial)
        )
        programme = programme_services.programme_update(
            programme=programme, by=request.user, **data
        )
        programme = self.get_queryset().get(pk=programme.pk)
        return Response(ProgrammeSerializer(programme).data)

    @extend_schema(responses={200: BudgetSerializer, **READ_ERRORS})
    @action(detail=True, methods=["get"], filter_backends=[])
    def budget(self, request: Request, pk: str | None = None) -> Response:
        return Response(selectors.programme_budget(self.get_object()))


# --- Companies -----------------------------------------------------------------------------


@_resource_schema(CompanySerializer, create_errors=CREATE_ERRORS, change_errors=CHANGE_ERRORS)
class CompanyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """IKM companies: applicants create and edit their own, staff read all."""

    schema = AutoSchema()
    serializer_class = CompanySerializer
    filterset_class = CompanyFilter

    queryset = Company.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return access.companies_visible_to(self.request.user).order_by("name", "id")

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        _require_applicant(request.user)
        data = _validated(CompanySerializer, request.data)
        company = company_services.company_create(by=request.user, **data)
        return Response(CompanySerializer(company).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        company = self.get_object()
        permissions.require_member(company, request.user)
        data = _validated(
            CompanySerializer, request.data, instance=company, partial=kwargs.get("partial", False)
        )
        company = company_services.company_update(company=company, by=request.user, **data)
        return Response(CompanySerializer(company).data)

    @extend_schema(methods=["get"], responses={200: MemberSerializer(many=True), **LIST_ERRORS})
    @extend_schema(
        methods=["post"],
        request=InviteMemberSerializer,
        responses={202: DetailSerializer, **CHANGE_ERRORS},
        description=(
            "Invite someone by e-mail to join the company (by a member). The invitation link "
            "is e-mailed; the answer is the same whether or not an account has that address. "
            "Re-inviting an address replaces its pending invitation. (Until issue 10 this "
            "took a username and attached that user at once.)"
        ),
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def members(self, request: Request, pk: str | None = None) -> Response:
        company = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(company.members.order_by("username", "id"))
            return self.get_paginated_response(MemberSerializer(page, many=True).data)
        permissions.require_member(company, request.user)
        data = _validated(InviteMemberSerializer, request.data)
        company_services.company_invite_member(
            company=company, by=request.user, email=data["email"]
        )
        return Response(
            {"detail": company_services.invitation_sent()}, status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        request=None,
        responses={204: None, **error_responses(401, 403, 404, 409)},
        parameters=[
            OpenApiParameter("user_id", OpenApiTypes.INT, OpenApiParameter.PATH, required=True)
        ],
        description=(
            "Remove a member (by a member; a member may remove themselves). The last member "
            "cannot be removed (409)."
        ),
    )
    @action(detail=True, methods=["delete"], url_path=r"members/(?P<user_id>[0-9]+)")
    def remove_member(self, request: Request, pk: str | None = None, user_id: str = "") -> Response:
        company = self.get_object()
        permissions.require_member(company, request.user)
        user = get_object_or_404(company.members.all(), pk=user_id)
        company_services.company_remove_member(company=company, by=request.user, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationAcceptApi(APIView):
    """Accept an invitation to a company with the token from its e-mailed link."""

    schema = AutoSchema()

    @extend_schema(
        request=None,
        responses={200: CompanySerializer, **error_responses(401, 403, 404, 409)},
        tags=["companies"],
    )
    def post(self, request: Request, token: str) -> Response:
        invitation = company_services.invitation_accept(token=token, by=request.user)
        return Response(CompanySerializer(invitation.company).data)


class RegionsApi(APIView):
    """Provinces with their regencies (Kemendagri codes) for forms."""

    schema = AutoSchema()

    @extend_schema(responses={200: ProvinceSerializer(many=True), **error_responses(401)})
    def get(self, request: Request) -> Response:
        return Response(ProvinceSerializer.all())


class EligibilityCheckApi(APIView):
    """Public self-check: the engine's rules on a company and its machines; nothing is stored.

    Claims (the same invoice or serial elsewhere) and the participation limit are not checked:
    no invoice, serial or company is named.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "eligibility"

    @extend_schema(
        request=EligibilityCheckSerializer,
        responses={200: EligibilityResultSerializer, **error_responses(400, 429)},
        auth=[],
        tags=["eligibility"],
    )
    def post(self, request: Request) -> Response:
        data = EligibilityCheckSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        company = data.validated_data["company"]
        computation = selectors.eligibility_check(
            data.validated_data["programme"], machines=data.machines(), **company
        )
        return Response(EligibilityResultSerializer.of(computation))


# --- Applications --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: ApplicationSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: ApplicationSerializer, **READ_ERRORS}),
    create=extend_schema(
        responses={201: ApplicationSerializer, **error_responses(400, 401, 403, 409)}
    ),
)
class ApplicationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Refund applications; their state changes only through transitions."""

    schema = AutoSchema()
    serializer_class = ApplicationSerializer
    filterset_class = ApplicationFilter

    queryset = Application.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        if self.action in ("list", "retrieve"):
            return selectors.application_list(self.request.user).order_by("-id")
        # The other actions read the application itself, not the list's columns.
        return access.applications_visible_to(self.request.user).select_related(
            "company", "programme"
        )

    def get_serializer_context(self) -> dict:
        # The detail adds what a list does not read: the signals for officers.
        return {**super().get_serializer_context(), "signals": self.action == "retrieve"}

    def _answer(self, application: Application, code: int = status.HTTP_200_OK) -> Response:
        """The application as the list shows it."""
        row = selectors.application_list(self.request.user).get(pk=application.pk)
        return Response(self.get_serializer(row).data, status=code)

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        _require_applicant(request.user)
        data = _validated(ApplicationSerializer, request.data, context={"request": request})
        application = application_services.application_create(
            by=request.user, programme=data["programme"], company=data["company"]
        )
        return self._answer(application, status.HTTP_201_CREATED)

    @extend_schema(responses={200: BreakdownSerializer, **READ_ERRORS})
    @action(detail=True, methods=["get"], filter_backends=[])
    def breakdown(self, request: Request, pk: str | None = None) -> Response:
        return Response(BreakdownSerializer.of(self.get_object()))

    @extend_schema(
        methods=["get"], responses={200: AvailableActionSerializer(many=True), **READ_ERRORS}
    )
    @extend_schema(
        methods=["post"],
        request=TRANSITION_REQUEST,
        responses={200: ApplicationSerializer, **error_responses(400, 401, 403, 404, 409)},
    )
    @action(detail=True, methods=["get", "post"], pagination_class=None, filter_backends=[])
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        application = self.get_object()
        if request.method == "GET":
            return Response(
                transitions.available_actions(application=application, user=request.user)
            )
        payload = self._transition_payload(request)
        workflow.application_transition(application=application, by=request.user, **payload)
        return self._answer(application)

    @staticmethod
    def _transition_payload(request: Request) -> dict:
        """The role may act at all (403) before the payload is read (400); the rest is the
        workflow's: the role for this state, four eyes, the comment and checklist, the state."""
        user = request.user
        if not any(user.has_role(t.role) for t in transitions.TRANSITIONS):
            raise ServiceError("forbidden", _("Your role may not take this action."))
        payload = request.data
        if not isinstance(payload, dict):
            raise serializers.ValidationError(
                {"non_field_errors": [_("Send a JSON object with an action.")]}
            )
        name = payload.get("action")
        if isinstance(name, str) and name in transitions.ACTIONS:
            if not any(t.action == name and user.has_role(t.role) for t in transitions.TRANSITIONS):
                raise ServiceError("forbidden", _("Your role may not take this action."))
        serializer = TransitionSerializer(data=payload)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    @extend_schema(responses={200: HistoryEntrySerializer(many=True), **READ_ERRORS})
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request: Request, pk: str | None = None) -> Response:
        entries = selectors.application_history(self.get_object())
        return Response(HistoryEntrySerializer(entries, many=True).data)

    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, "Approval letter"),
            **error_responses(401, 404, 409),
        }
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def letter(self, request: Request, pk: str | None = None) -> HttpResponse:
        application = self.get_object()
        letters.require_letter(application)
        language = getattr(request.user, "language", "id") or "id"
        response = HttpResponse(
            letters.approval_letter_pdf(application, language=language),
            content_type="application/pdf",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{letters.letter_filename(application)}"'
        )
        return response


class _ApplicationChild:
    """Shared by items and documents: the parent application, visible to the caller or 404."""

    def application(self) -> Application:
        if not hasattr(self, "_application"):
            self._application = get_object_or_404(
                access.applications_visible_to(self.request.user).select_related("company"),
                pk=self.kwargs["application_pk"],
            )
        return self._application

    def check_writer(self) -> Application:
        application = self.application()
        permissions.require_member(application.company, self.request.user)
        return application


@_resource_schema(
    MachineItemSerializer,
    create_errors=CASE_ERRORS,
    change_errors=CASE_ERRORS,
    destroy=extend_schema(responses={204: None, **CASE_DELETE_ERRORS}),
)
class MachineItemViewSet(_ApplicationChild, viewsets.ModelViewSet):
    """The machines of an application; edited only in draft or revision_requested."""

    schema = AutoSchema()
    serializer_class = MachineItemSerializer
    filter_backends: list = []

    queryset = MachineItem.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return MachineItem.objects.filter(application=self.application()).order_by("id")

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        application = self.check_writer()
        data = _validated(MachineItemSerializer, request.data)
        item = application_services.item_create(application=application, by=request.user, **data)
        return Response(MachineItemSerializer(item).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        item = self.get_object()
        self.check_writer()
        data = _validated(
            MachineItemSerializer, request.data, instance=item, partial=kwargs.get("partial", False)
        )
        item = application_services.item_update(item=item, by=request.user, **data)
        return Response(MachineItemSerializer(item).data)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        item = self.get_object()
        self.check_writer()
        application_services.item_delete(item=item, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(responses={200: DocumentSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: DocumentSerializer, **READ_ERRORS}),
    create=extend_schema(
        responses={201: DocumentSerializer, **error_responses(400, 401, 403, 404, 409, 429)}
    ),
    destroy=extend_schema(responses={204: None, **CASE_DELETE_ERRORS}),
)
class DocumentViewSet(
    _ApplicationChild,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Supporting documents (PDF, JPEG, PNG) of an application."""

    schema = AutoSchema()
    serializer_class = DocumentSerializer
    filter_backends: list = []
    # Multipart only: a form without it cannot carry the file.
    parser_classes = [MultiPartParser]

    queryset = Document.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return Document.objects.filter(application=self.application()).order_by("id")

    def get_throttles(self) -> list:
        if self.action == "create":
            self.throttle_scope = "upload"
            return [ScopedRateThrottle()]
        return super().get_throttles()

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        application = self.check_writer()
        # Refuse an oversized body before reading it all.
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > settings.DOCUMENT_MAX_BYTES + 64 * 1024:
            raise serializers.ValidationError({"file": [files.too_large_message()]})
        data = _validated(DocumentSerializer, request.data, context={"application": application})
        document = document_services.document_upload(
            application=application,
            by=request.user,
            kind=data["kind"],
            file=data["file"],
            item=data.get("item"),
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        document = self.get_object()
        self.check_writer()
        document_services.document_delete(document=document, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DocumentDownloadApi(APIView):
    """Streams a document to those who may see its application."""

    schema = AutoSchema()

    @extend_schema(
        responses={
            **{
                (200, content_type): OpenApiResponse(OpenApiTypes.BINARY, "The file")
                for content_type in DOCUMENT_TYPES
            },
            **READ_ERRORS,
        }
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        document = get_object_or_404(selectors.documents_visible_to(request.user), pk=pk)
        response = FileResponse(
            document.file.open("rb"),
            content_type=document.content_type,
            as_attachment=True,
            filename=document.original_name or f"document-{document.pk}",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


# --- Site visits ---------------------------------------------------------------------------


def _require_staff(user) -> None:
    if not access.sees_everything(user):
        raise ServiceError("forbidden", _("Only programme staff may see site visits."))


@extend_schema_view(
    list=extend_schema(
        responses={200: SiteVisitSerializer(many=True), **error_responses(400, 401, 403, 404)}
    ),
    retrieve=extend_schema(responses={200: SiteVisitSerializer, **error_responses(401, 403, 404)}),
    create=extend_schema(
        request={
            "application/json": SiteVisitJsonRequestSerializer,
            "multipart/form-data": SiteVisitRequestSerializer,
        },
        responses={201: SiteVisitSerializer, **error_responses(400, 401, 403, 404, 409, 429)},
        description="A verifier records a site visit during field verification: JSON, or "
        "multipart with `photos`. Each photo's time and GPS position are read from its EXIF.",
    ),
    photos=extend_schema(
        request={"multipart/form-data": SiteVisitPhotoUploadSerializer},
        responses={
            201: SiteVisitPhotoSerializer,
            **error_responses(400, 401, 403, 404, 409, 429),
        },
        description="Add a photo to a recorded visit (verifier, during field verification).",
    ),
)
class SiteVisitViewSet(
    _ApplicationChild,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Site visits of an application: staff read, verifiers record them (DOMAIN.md)."""

    schema = AutoSchema()
    serializer_class = SiteVisitSerializer
    filter_backends: list = []
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    queryset = SiteVisit.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        application = self.application()
        _require_staff(self.request.user)
        return selectors.site_visits_of(application)

    def get_throttles(self) -> list:
        if self.action in ("create", "photos"):
            self.throttle_scope = "upload"
            return [ScopedRateThrottle()]
        return super().get_throttles()

    def _check_length(self, request: Request, photos: int) -> None:
        """Refuse an oversized body before reading it all."""
        length = request.META.get("CONTENT_LENGTH") or "0"
        if length.isdigit() and int(length) > photos * settings.DOCUMENT_MAX_BYTES + 64 * 1024:
            raise serializers.ValidationError({"file": [files.too_large_message()]})

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        application = self.application()
        site_visit_services.require_visitor(application, request.user)
        self._check_length(request, 20)
        multipart = request.content_type.startswith("multipart/")
        payload = SiteVisitRequestSerializer if multipart else SiteVisitJsonRequestSerializer
        data = dict(_validated(payload, request.data))
        visit = site_visit_services.site_visit_record(
            application=application,
            by=request.user,
            visited_on=data["visited_on"],
            place=data["place"],
            checklist={name: data[name] for name in transitions.CHECKLIST_ITEMS},
            notes=data.get("notes", ""),
            photos=data.get("photos", []),
        )
        visit = selectors.site_visits_of(application).get(pk=visit.pk)
        return Response(SiteVisitSerializer(visit).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def photos(self, request: Request, *args: object, **kwargs: object) -> Response:
        visit = self.get_object()
        site_visit_services.require_visitor(visit.application, request.user)
        self._check_length(request, 1)
        data = _validated(SiteVisitPhotoUploadSerializer, request.data)
        photo = site_visit_services.site_visit_add_photo(
            visit=visit, by=request.user, file=data["file"]
        )
        return Response(SiteVisitPhotoSerializer(photo).data, status=status.HTTP_201_CREATED)


class SiteVisitPhotoDownloadApi(APIView):
    """Streams a site-visit photo to programme staff."""

    schema = AutoSchema()

    @extend_schema(
        responses={
            **{
                (200, content_type): OpenApiResponse(OpenApiTypes.BINARY, "The photo")
                for content_type in files.PHOTO_TYPES
            },
            **READ_ERRORS,
        }
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        photo = get_object_or_404(selectors.site_visit_photos_visible_to(request.user), pk=pk)
        response = FileResponse(
            photo.file.open("rb"),
            content_type=photo.content_type,
            as_attachment=True,
            filename=photo.original_name or f"photo-{photo.pk}",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


# --- Notifications -------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(responses={200: NotificationSerializer(many=True), **LIST_ERRORS}),
)
class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's in-app notices, newest first."""

    schema = AutoSchema()
    serializer_class = NotificationSerializer
    filter_backends: list = []

    queryset = Notice.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.notifications_for(self.request.user)

    @extend_schema(request=None, responses={200: NotificationSerializer, **READ_ERRORS})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        notice = notices.notice_mark_read(notice=self.get_object(), by=request.user)
        return Response(NotificationSerializer(notice).data)
