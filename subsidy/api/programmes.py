"""GET/POST/PUT/PATCH /api/v1/programmes/: the yearly programmes and their budget."""

from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import READ_ERRORS
from config.fields import (
    StrictModelSerializer,
)
from config.openapi import AutoSchema
from subsidy import selectors
from subsidy.api.common import CHANGE_ERRORS, CREATE_ERRORS, resource_schema, validated
from subsidy.engine import rules
from subsidy.models import (
    DocumentKind,
    Origin,
    Programme,
    RatedScale,
)
from subsidy.services import permissions
from subsidy.services import programmes as programme_services


class RateSerializer(serializers.Serializer):
    scale = serializers.ChoiceField(choices=RatedScale.choices)
    origin = serializers.ChoiceField(choices=Origin.choices)
    rate = serializers.DecimalField(max_digits=5, decimal_places=4)


class ProgrammeSerializer(StrictModelSerializer):
    rates = RateSerializer(many=True)
    required_documents = serializers.ListField(
        child=serializers.ChoiceField(choices=DocumentKind.choices), allow_empty=True
    )

    class Meta:
        model = Programme
        fields = [
            "id",
            "year",
            "name",
            "application_opens",
            "application_closes",
            "purchase_from",
            "purchase_to",
            "install_by",
            "budget",
            "rates",
            "min_refund",
            "max_refund_per_company",
            "max_participations",
            "required_documents",
        ]
        extra_kwargs = {
            "year": {"validators": []},
            "budget": {"max_value": 10**15},
            "min_refund": {"max_value": 10**15},
            "max_refund_per_company": {"max_value": 10**15},
        }

    def validate_rates(self, rates: list) -> list:
        # A partial update leaves out fields, but a rate it sends is always a whole rate.
        if self.partial:
            whole = RateSerializer(data=self.initial_data.get("rates"), many=True)
            whole.is_valid(raise_exception=True)
            return whole.validated_data
        return rates

    def to_representation(self, instance: Programme) -> dict:
        data = super().to_representation(instance)
        data["rates"] = [
            {"scale": r.scale, "origin": r.origin, "rate": rules.rate_text(r.rate)}
            for r in instance.rates.all()
        ]
        return data


class BudgetSerializer(serializers.Serializer):
    budget = serializers.IntegerField()
    committed = serializers.IntegerField()
    disbursed = serializers.IntegerField()
    available = serializers.IntegerField()


@resource_schema(ProgrammeSerializer, create_errors=CREATE_ERRORS, change_errors=CHANGE_ERRORS)
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
        data = dict(validated(ProgrammeSerializer, request.data))
        programme = programme_services.programme_create(by=request.user, **data)
        programme = self.get_queryset().get(pk=programme.pk)
        return Response(ProgrammeSerializer(programme).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        programme = self.get_object()
        permissions.require_superuser(request.user)
        partial = kwargs.get("partial", False)
        data = dict(
            validated(ProgrammeSerializer, request.data, instance=programme, partial=partial)
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
