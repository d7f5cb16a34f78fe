"""POST /api/v1/eligibility-check/: the public self-check, nothing stored."""

from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import error_responses
from config.fields import (
    StrictBooleanField,
    StrictIntegerField,
    TextField,
)
from config.throttles import ScopedRateThrottle
from subsidy import selectors, validators
from subsidy.api.common import IdField, ItemFindingSerializer
from subsidy.engine import rules
from subsidy.findings import finding_detail
from subsidy.models import (
    MAX_PRICE,
    Origin,
    PaymentMethod,
    Programme,
    Scale,
)


class EligibilityCompanySerializer(serializers.Serializer):
    workers = StrictIntegerField(min_value=0, max_value=10**7)
    investment_value = StrictIntegerField(
        min_value=0, max_value=10**15, help_text="Rupiah, excluding land and buildings."
    )
    kbli = TextField(max_length=5, validators=[validators.kbli])


class EligibilityMachineSerializer(serializers.Serializer):
    price = StrictIntegerField(min_value=1, max_value=MAX_PRICE, help_text="Rupiah, excluding VAT.")
    origin = serializers.ChoiceField(choices=Origin.choices)
    invoice_date = serializers.DateField()
    is_new = StrictBooleanField()
    installed_on = serializers.DateField(allow_null=True, required=False, default=None)
    payment_method = serializers.ChoiceField(choices=PaymentMethod.choices)


class EligibilityCheckSerializer(serializers.Serializer):
    programme = IdField(queryset=Programme.objects.all())
    company = EligibilityCompanySerializer()
    items = EligibilityMachineSerializer(many=True, min_length=1, max_length=50)

    def machines(self) -> list[rules.MachineFacts]:
        return [rules.MachineFacts(**item) for item in self.validated_data["items"]]


class EligibilityItemResultSerializer(serializers.Serializer):
    rate = serializers.CharField(help_text='The rate for this machine, e.g. "0.4000".')
    discount = serializers.IntegerField()
    findings = ItemFindingSerializer(many=True)


class EligibilityResultSerializer(serializers.Serializer):
    scale = serializers.ChoiceField(choices=Scale.choices)
    items = EligibilityItemResultSerializer(many=True)
    eligible_total = serializers.IntegerField()
    computed_discount = serializers.IntegerField()
    cap_applied = serializers.BooleanField()
    findings = ItemFindingSerializer(many=True, help_text="Findings that block a refund.")

    @staticmethod
    def of(computation: rules.Computation) -> dict:
        def explained(codes: tuple[str, ...]) -> list[dict]:
            return [{"code": code, "detail": finding_detail(code)} for code in codes]

        return {
            "scale": computation.scale,
            "items": [
                {
                    "rate": rules.rate_text(item.rate),
                    "discount": item.discount,
                    "findings": explained(item.exclusions),
                }
                for item in computation.items
            ],
            "eligible_total": computation.eligible_total,
            "computed_discount": computation.computed_discount,
            "cap_applied": computation.cap_applied,
            "findings": explained(computation.blocking),
        }


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
