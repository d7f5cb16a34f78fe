"""GET /api/v1/statistics/: the public yearly figures of disbursed applications."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from config.api import error_responses
from subsidy import statistics, validators
from subsidy.access import not_found
from subsidy.api.common import validated
from subsidy.models import Origin, Scale


class StatisticsQuerySerializer(serializers.Serializer):
    year = serializers.IntegerField(
        required=False,
        min_value=validators.YEAR_MIN,
        max_value=validators.YEAR_MAX,
        help_text="The programme (fiscal) year; the newest programme's when left out.",
    )

    def to_internal_value(self, data: object) -> dict:
        # A query sent empty (`?year=`) is a 400, as its schema says: DRF would ignore it.
        if hasattr(data, "getlist") and "" in data.getlist("year"):
            raise serializers.ValidationError({"year": [_("This parameter may not be empty.")]})
        return super().to_internal_value(data)


SUPPRESSED = "Null when the row is suppressed."


class StatisticsFiguresSerializer(serializers.Serializer):
    companies = serializers.IntegerField(allow_null=True, help_text=SUPPRESSED)
    machines = serializers.IntegerField(allow_null=True, help_text=SUPPRESSED)
    disbursed_amount = serializers.IntegerField(allow_null=True, help_text="Rupiah. " + SUPPRESSED)
    suppressed = serializers.BooleanField(
        help_text=f"True when the row covers fewer than {statistics.MIN_COMPANIES} companies."
    )


class StatisticsProvinceSerializer(StatisticsFiguresSerializer):
    province = serializers.CharField(help_text='Kemendagri code, e.g. "33".')
    province_name = serializers.CharField()


class StatisticsSectorSerializer(StatisticsFiguresSerializer):
    kbli_division = serializers.CharField(help_text='KBLI division, e.g. "25".')
    name = serializers.CharField()


class StatisticsScaleSerializer(StatisticsFiguresSerializer):
    scale = serializers.ChoiceField(choices=Scale.choices)


class StatisticsOriginSerializer(StatisticsFiguresSerializer):
    origin = serializers.ChoiceField(choices=Origin.choices)


class StatisticsSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    companies = serializers.IntegerField(help_text="IKM with a disbursed refund.")
    applications = serializers.IntegerField()
    machines = serializers.IntegerField(help_text="Machines that carry a refund.")
    disbursed_amount = serializers.IntegerField(help_text="Rupiah.")
    by_province = StatisticsProvinceSerializer(many=True)
    by_sector = StatisticsSectorSerializer(many=True)
    by_scale = StatisticsScaleSerializer(many=True)
    by_origin = StatisticsOriginSerializer(
        many=True,
        help_text="A refund capped per company is shared between origins in proportion to "
        "the machines' refunds.",
    )


class StatisticsApi(APIView):
    """Public yearly figures of disbursed applications; a row of fewer than 3 companies is
    suppressed. Never a company's name, NIB, NPWP or bank data."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "statistics"

    @extend_schema(
        parameters=[StatisticsQuerySerializer],
        responses={200: StatisticsSerializer, **error_responses(400, 404, 429)},
        auth=[],
        tags=["statistics"],
    )
    def get(self, request: Request) -> Response:
        year = validated(StatisticsQuerySerializer, request.query_params).get("year")
        if year is None:
            year = statistics.default_year()
        figures = statistics.public_statistics(year) if year is not None else None
        if figures is None:
            raise not_found()
        return Response(figures)
