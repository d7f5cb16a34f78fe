"""/api/v1/applications/{id}/site-visits/ and the photos' download."""

from django.conf import settings
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import READ_ERRORS, REDIRECT_TO_STORE, error_responses
from config.errors import ServiceError
from config.fields import (
    FormBooleanField,
    TextField,
)
from config.json_io import JSONParser
from config.openapi import AutoSchema
from config.throttles import ScopedRateThrottle
from subsidy import access, file_names, files, selectors
from subsidy.api.common import ApplicationChild, validated
from subsidy.models import (
    SiteVisit,
    SiteVisitPhoto,
)
from subsidy.services import reads
from subsidy.services import site_visits as site_visit_services
from subsidy.workflow import transitions


class SiteVisitPhotoSerializer(serializers.ModelSerializer):
    taken_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text="From EXIF DateTimeOriginal; null without it."
    )
    latitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        read_only=True,
        allow_null=True,
        help_text="From EXIF GPS, decimal degrees (south negative); null without it.",
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        read_only=True,
        allow_null=True,
        help_text="From EXIF GPS, decimal degrees (west negative); null without it.",
    )
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = SiteVisitPhoto
        fields = [
            "id",
            "visit",
            "original_name",
            "size",
            "content_type",
            "sha256",
            "taken_at",
            "latitude",
            "longitude",
            "has_exif_location",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_download_url(self, photo: SiteVisitPhoto) -> str:
        return f"/api/v1/site-visit-photos/{photo.pk}/download/"


class SiteVisitPhotoUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A JPEG or PNG photo taken on site.")

    def validate_file(self, file: object) -> object:
        problem, _sniffed = files.check_photo(file)
        if problem:
            raise serializers.ValidationError(problem)
        return file


class SiteVisitSerializer(serializers.ModelSerializer):
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    photos = SiteVisitPhotoSerializer(many=True, read_only=True)

    class Meta:
        model = SiteVisit
        fields = [
            "id",
            "application",
            "recorded_by",
            "visited_on",
            "place",
            "machines_present",
            "machines_new",
            "machines_installed",
            "not_transferred",
            "notes",
            "created_at",
            "photos",
        ]
        read_only_fields = fields


class SiteVisitRequestSerializer(serializers.Serializer):
    """A visit as a verifier records it: JSON, or multipart with its photos."""

    visited_on = serializers.DateField(help_text="Not in the future.")
    place = TextField(max_length=300)
    machines_present = FormBooleanField()
    machines_new = FormBooleanField()
    machines_installed = FormBooleanField()
    not_transferred = FormBooleanField()
    notes = TextField(max_length=5000, required=False, allow_blank=True)
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        max_length=site_visit_services.MAX_PHOTOS,
        help_text="multipart only: JPEG or PNG photos; their EXIF time and GPS are read.",
    )

    def validate_photos(self, photos: list) -> list:
        for photo in photos:
            problem, _sniffed = files.check_photo(photo)
            if problem:
                raise serializers.ValidationError(problem)
        return photos


class SiteVisitJsonRequestSerializer(SiteVisitRequestSerializer):
    """A visit sent as JSON, which carries no files: `photos` is not read (like any other
    field the payload does not define), so the JSON schema has none."""

    photos = None


def require_staff(user) -> None:
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
    ApplicationChild,
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
        require_staff(self.request.user)
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
        self._check_length(request, site_visit_services.MAX_PHOTOS)
        multipart = request.content_type.startswith("multipart/")
        payload = SiteVisitRequestSerializer if multipart else SiteVisitJsonRequestSerializer
        data = dict(validated(payload, request.data))
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
        data = validated(SiteVisitPhotoUploadSerializer, request.data)
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
            **REDIRECT_TO_STORE,
            **READ_ERRORS,
        }
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        photo = get_object_or_404(
            selectors.site_visit_photos_visible_to(request.user).select_related(
                "visit__application"
            ),
            pk=pk,
        )
        reads.staff_read(
            by=request.user,
            object_type="site_photo",
            object_id=photo.pk,
            application_id=photo.visit.application_id,
        )
        return files.file_response(
            photo.file,
            content_type=photo.content_type,
            name=file_names.served_photo_name(photo),
            inline=False,
        )
