"""/api/v1/applications/{id}/items/: an application's machine items."""

from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
)
from rest_framework import serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from config.fields import (
    StrictModelSerializer,
)
from config.openapi import AutoSchema
from subsidy.api.common import (
    CASE_DELETE_ERRORS,
    CASE_ERRORS,
    ApplicationChild,
    ItemFindingSerializer,
    NpwpField,
    date_text,
    resource_schema,
    validated,
)
from subsidy.engine import rules
from subsidy.findings import finding_detail
from subsidy.models import (
    MachineItem,
)
from subsidy.services import applications as application_services


class MachineItemSerializer(StrictModelSerializer):
    supplier_npwp = NpwpField()
    rate = serializers.SerializerMethodField()
    findings = serializers.SerializerMethodField()

    class Meta:
        model = MachineItem
        fields = ["id", *MachineItem.INPUT_FIELDS, "rate", "discount", "findings"]
        read_only_fields = ["discount"]

    @extend_schema_field(
        serializers.CharField(allow_null=True, help_text='The rate applied, e.g. "0.4000".')
    )
    def get_rate(self, item: MachineItem) -> str | None:
        return rules.rate_text(item.rate) if item.rate is not None else None

    @extend_schema_field(ItemFindingSerializer(many=True))
    def get_findings(self, item: MachineItem) -> list[dict]:
        return [{"code": f["code"], "detail": finding_detail(f["code"])} for f in item.findings]

    def to_representation(self, item: MachineItem) -> dict:
        # Written out: a page of the application list renders hundreds of items, and DRF's
        # field-by-field walk was most of its time. test_api_resources checks it renders
        # exactly what the declared fields would.
        return {
            "id": item.id,
            "description": item.description,
            "brand": item.brand,
            "model": item.model,
            "serial_number": item.serial_number,
            "origin": item.origin,
            "supplier_name": item.supplier_name,
            "supplier_npwp": item.supplier_npwp,
            "invoice_number": item.invoice_number,
            "tax_invoice_number": item.tax_invoice_number,
            "invoice_date": date_text(item.invoice_date),
            "price": item.price,
            "vat": item.vat,
            "payment_method": item.payment_method,
            "is_new": item.is_new,
            "installed_on": date_text(item.installed_on),
            "rate": self.get_rate(item),
            "discount": item.discount,
            "findings": self.get_findings(item),
        }


@resource_schema(
    MachineItemSerializer,
    create_errors=CASE_ERRORS,
    change_errors=CASE_ERRORS,
    destroy=extend_schema(responses={204: None, **CASE_DELETE_ERRORS}),
)
class MachineItemViewSet(ApplicationChild, viewsets.ModelViewSet):
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
        data = validated(MachineItemSerializer, request.data)
        item = application_services.item_create(application=application, by=request.user, **data)
        return Response(MachineItemSerializer(item).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        item = self.get_object()
        self.check_writer()
        data = validated(
            MachineItemSerializer, request.data, instance=item, partial=kwargs.get("partial", False)
        )
        item = application_services.item_update(item=item, by=request.user, **data)
        return Response(MachineItemSerializer(item).data)

    def destroy(self, request: Request, *args: object, **kwargs: object) -> Response:
        item = self.get_object()
        self.check_writer()
        application_services.item_delete(item=item, by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
