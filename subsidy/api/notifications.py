"""/api/v1/notifications/: a user's notices."""

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import LIST_ERRORS, READ_ERRORS
from config.fields import (
    StrictModelSerializer,
)
from config.openapi import AutoSchema
from subsidy import selectors
from subsidy.models import (
    Notice,
)
from subsidy.notices import compose as notices


class NotificationSerializer(StrictModelSerializer):
    class Meta:
        model = Notice
        fields = ["id", "kind", "application", "title", "body", "created_at", "read_at"]
        read_only_fields = fields


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
