"""/api/v1/applications/{id}/documents/ and /api/v1/documents/{id}/download/."""

from django.conf import settings
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import LIST_ERRORS, READ_ERRORS, REDIRECT_TO_STORE, error_responses
from config.fields import (
    StrictModelSerializer,
)
from config.openapi import AutoSchema
from config.throttles import ScopedRateThrottle
from subsidy import file_names, files, selectors
from subsidy.api.common import (
    CASE_DELETE_ERRORS,
    DOCUMENT_TYPES,
    ApplicationChild,
    FormIdField,
    validated,
)
from subsidy.models import (
    Document,
    MachineItem,
)
from subsidy.services import documents as document_services
from subsidy.services import reads


class DocumentSerializer(StrictModelSerializer):
    item = FormIdField(queryset=MachineItem.objects.all(), required=False, allow_null=True)
    file = serializers.FileField(write_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = [
            "id",
            "kind",
            "item",
            "file",
            "original_name",
            "size",
            "content_type",
            "sha256",
            "uploaded_at",
            "download_url",
        ]
        read_only_fields = ["original_name", "size", "content_type", "sha256", "uploaded_at"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        application = self.context.get("application")
        if application is not None:
            # Only an item of the same application: any other id is simply not a valid choice.
            self.fields["item"].queryset = MachineItem.objects.filter(application=application)

    def validate_file(self, file: object) -> object:
        # The upload service checks the same, but only after the state (409); a bad file is
        # a 400 whatever the state (API.md order).
        problem, _sniffed = files.check_upload(file)
        if problem:
            raise serializers.ValidationError(problem)
        return file

    def get_download_url(self, document: Document) -> str:
        return f"/api/v1/documents/{document.pk}/download/"


@extend_schema_view(
    list=extend_schema(responses={200: DocumentSerializer(many=True), **LIST_ERRORS}),
    retrieve=extend_schema(responses={200: DocumentSerializer, **READ_ERRORS}),
    create=extend_schema(
        responses={201: DocumentSerializer, **error_responses(400, 401, 403, 404, 409, 429)}
    ),
    destroy=extend_schema(responses={204: None, **CASE_DELETE_ERRORS}),
)
class DocumentViewSet(
    ApplicationChild,
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
        data = validated(DocumentSerializer, request.data, context={"application": application})
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
            **REDIRECT_TO_STORE,
            **READ_ERRORS,
        }
    )
    def get(self, request: Request, pk: int) -> FileResponse:
        document = get_object_or_404(
            selectors.documents_visible_to(request.user).select_related("application"), pk=pk
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
