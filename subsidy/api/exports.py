"""/api/v1/exports/: background exports of the applications or items list (API.md "Exports").

POST records one and queues its job (202); GET lists one's own (auditors: everyone's) and reads
one; /download/ gives the file while it is kept (7 days), then 410.
"""

from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import REDIRECT_TO_STORE, ErrorSerializer, error_responses
from config.openapi import AutoSchema
from subsidy import files
from subsidy.api.common import datetime_text, validated
from subsidy.exports import records
from subsidy.filters import MAX_ID, MAX_WAITING_DAYS
from subsidy.models import Application, Export, Scale
from subsidy.services import reads

_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
_TEXT = {"type": "string", "pattern": r"^[^\u0000]*$"}
_DATE = {"type": "string", "format": "date"}
_BOOLEAN = {"type": "boolean"}
# The list's query parameters (GET /api/v1/applications/), as JSON; a test keeps the names
# those of ApplicationFilter.
FILTER_PROPERTIES = {
    "status": {"type": "array", "items": {"type": "string", "enum": Application.Status.values}},
    "programme": _ID,
    "company": _ID,
    "province": _TEXT,
    "scale": {"type": "string", "enum": Scale.values},
    "submitted_after": _DATE,
    "submitted_before": _DATE,
    "search": _TEXT,
    "regency": _TEXT,
    "kbli_division": {"type": "string", "pattern": r"^\s*[0-9]{2}\s*$"},
    "has_findings": _BOOLEAN,
    "has_signals": _BOOLEAN,
    "case_officer": _ID,
    "waiting_days_min": {"type": "integer", "minimum": 0, "maximum": MAX_WAITING_DAYS},
}


@extend_schema_field(
    {
        "type": "object",
        "properties": FILTER_PROPERTIES,
        "additionalProperties": False,
        "description": "The filters of GET /api/v1/applications/ (status as a list).",
    }
)
class FiltersField(serializers.JSONField):
    """An object of the list's filters: its shape here, its values judged by the filter set."""

    def to_internal_value(self, data: object) -> dict:
        if not isinstance(data, dict):
            raise serializers.ValidationError(_("Send the filters as an object."))
        problems = {}
        for name, value in data.items():
            schema = FILTER_PROPERTIES.get(name)
            if schema is None:
                problems[name] = [_("There is no such filter.")]
            elif not _has_type(value, schema):
                problems[name] = [_("This value has the wrong type.")]
        if problems:
            raise serializers.ValidationError(problems)
        return data


def _has_type(value: object, schema: dict) -> bool:
    kind = schema["type"]
    if kind == "array":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    return isinstance(value, str)


class ExportRequestSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Export.Kind.choices)
    format = serializers.ChoiceField(choices=Export.Format.choices)
    filters = FiltersField(required=False, default=dict)


class ExportSerializer(serializers.ModelSerializer):
    filters = FiltersField(read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True)
    sha256 = serializers.SerializerMethodField()
    expires_at = serializers.SerializerMethodField()
    expired = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    failure = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()

    class Meta:
        model = Export
        fields = [
            "id",
            "kind",
            "format",
            "streamed",
            "filters",
            "status",
            "progress",
            "rows",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "expires_at",
            "expired",
            "size",
            "sha256",
            "download_url",
            "failure",
            "error",
        ]
        read_only_fields = fields

    def get_sha256(self, export: Export) -> str | None:
        return export.sha256 or None

    @extend_schema_field({"type": "string", "format": "date-time", "nullable": True})
    def get_expires_at(self, export: Export) -> str | None:
        return datetime_text(records.expires_at(export))

    def get_expired(self, export: Export) -> bool:
        return records.is_expired(export)

    def get_download_url(self, export: Export) -> str | None:
        if export.status != Export.Status.DONE or export.streamed or records.is_expired(export):
            return None
        return f"/api/v1/exports/{export.pk}/download/"

    @extend_schema_field({"type": "string", "enum": Export.Failure.values, "nullable": True})
    def get_failure(self, export: Export) -> str | None:
        """Why it failed, as a code."""
        return export.failure or None

    def get_error(self, export: Export) -> str | None:
        """Why it failed, in the caller's language."""
        return records.failure_text(export) or None


GONE = {
    410: OpenApiResponse(
        ErrorSerializer, description="The file was deleted 7 days after it was written."
    )
}


@extend_schema_view(
    list=extend_schema(
        responses={200: ExportSerializer(many=True), **error_responses(400, 401, 403, 404)}
    ),
    retrieve=extend_schema(responses={200: ExportSerializer, **error_responses(401, 403, 404)}),
    create=extend_schema(
        request=ExportRequestSerializer,
        responses={202: ExportSerializer, **error_responses(400, 401, 403)},
    ),
)
class ExportViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Background exports (CSV or XLSX) of the applications or items list: staff and auditors."""

    schema = AutoSchema()
    serializer_class = ExportSerializer
    filter_backends: list = []
    queryset = Export.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        records.require_exporter(self.request.user)
        return records.exports_visible_to(self.request.user)

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        records.require_exporter(request.user)
        data = validated(ExportRequestSerializer, request.data)
        export = records.export_create(
            by=request.user, kind=data["kind"], format=data["format"], filters=data["filters"]
        )
        return Response(ExportSerializer(export).data, status=status.HTTP_202_ACCEPTED)


class ExportDownloadApi(APIView):
    """The export's file while it is kept; 409 before it is written, 410 once deleted."""

    schema = AutoSchema()

    @extend_schema(
        responses={
            **{
                (200, content_type.split(";")[0]): OpenApiResponse(OpenApiTypes.BINARY, "The file")
                for content_type in records.CONTENT_TYPES.values()
            },
            **REDIRECT_TO_STORE,
            **error_responses(401, 403, 404, 409),
            **GONE,
        }
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        records.require_exporter(request.user)
        export = get_object_or_404(records.exports_visible_to(request.user), pk=pk)
        records.downloadable(export)
        reads.staff_read(by=request.user, object_type="export", object_id=export.pk)
        return files.file_response(
            export.file,
            content_type=records.CONTENT_TYPES[export.format],
            name=records.download_name(export),
            inline=False,
        )
