"""/api/v1/companies/, members by invitation, /api/v1/invitations/, /api/v1/regions/."""

from django.core.validators import RegexValidator
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import LIST_ERRORS, error_responses
from config.fields import (
    EmailField,
    StrictModelSerializer,
    TextField,
)
from config.openapi import AutoSchema
from subsidy import access, validators
from subsidy.api.common import (
    CHANGE_ERRORS,
    CREATE_ERRORS,
    DetailSerializer,
    NpwpField,
    User,
    require_applicant,
    resource_schema,
    validated,
)
from subsidy.filters import CompanyFilter
from subsidy.models import (
    Company,
)
from subsidy.regions import province_name, provinces, regency_name
from subsidy.services import companies as company_services
from subsidy.services import permissions


def _province_choices() -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in provinces().values()]


def _regency_choices() -> list[tuple[str, str]]:
    return [(code, name) for p in provinces().values() for code, name in p.regencies]


class CompanySerializer(StrictModelSerializer):
    npwp = NpwpField(required=False, allow_blank=True)
    nib = TextField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=13,
        trim_whitespace=False,
        # Blank or null for none; the uniqueness is the service's check.
        validators=[RegexValidator(validators.NIB_PATTERN, _("NIB must be exactly 13 digits."))],
    )
    # The codes that exist, so the schema lists them (an enum); that the regency lies in the
    # province is the model's check (validators.region), which a schema cannot express.
    province = serializers.ChoiceField(
        choices=_province_choices(),
        required=False,
        allow_blank=True,
        help_text='Province code, e.g. "33"; GET /api/v1/regions/ lists them.',
    )
    regency = serializers.ChoiceField(
        choices=_regency_choices(),
        required=False,
        allow_blank=True,
        help_text='Regency code within the province, e.g. "33.10".',
    )
    scale = serializers.CharField(read_only=True)
    province_name = serializers.SerializerMethodField()
    regency_name = serializers.SerializerMethodField()

    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "nib",
            "npwp",
            "kbli",
            "workers",
            "investment_value",
            "scale",
            "province",
            "province_name",
            "regency",
            "regency_name",
            "address",
            "bank_name",
            "bank_account_number",
            "bank_account_name",
        ]
        extra_kwargs = {"investment_value": {"max_value": 10**15}}

    def to_representation(self, company: Company) -> dict:
        data = super().to_representation(company)
        user = getattr(self.context.get("request"), "user", None)
        data["bank_account_number"] = access.bank_account_number(company.bank_account_number, user)
        return data

    def validate_nib(self, value: str | None) -> str | None:
        if value:
            validators.nib(value)
        return value or None

    def get_province_name(self, company: Company) -> str:
        return province_name(company.province)

    def get_regency_name(self, company: Company) -> str:
        return regency_name(company.regency)


class MemberSerializer(StrictModelSerializer):
    """A member as the other members see them: no e-mail address (it is nobody else's)."""

    name = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "name"]

    def get_name(self, user: User) -> str:
        return user.get_full_name()


class InviteMemberSerializer(serializers.Serializer):
    email = EmailField()


class RegencySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ProvinceSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    regencies = RegencySerializer(many=True)

    @staticmethod
    def all() -> list[dict]:
        return [
            {
                "code": p.code,
                "name": p.name,
                "regencies": [{"code": c, "name": n} for c, n in p.regencies],
            }
            for p in provinces().values()
        ]


@resource_schema(CompanySerializer, create_errors=CREATE_ERRORS, change_errors=CHANGE_ERRORS)
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
        require_applicant(request.user)
        data = validated(CompanySerializer, request.data)
        company = company_services.company_create(by=request.user, **data)
        return Response(
            CompanySerializer(company, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        company = self.get_object()
        permissions.require_member(company, request.user)
        data = validated(
            CompanySerializer, request.data, instance=company, partial=kwargs.get("partial", False)
        )
        company = company_services.company_update(company=company, by=request.user, **data)
        return Response(CompanySerializer(company, context=self.get_serializer_context()).data)

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
        data = validated(InviteMemberSerializer, request.data)
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
        return Response(CompanySerializer(invitation.company, context={"request": request}).data)


class RegionsApi(APIView):
    """Provinces with their regencies (Kemendagri codes) for forms."""

    schema = AutoSchema()

    @extend_schema(responses={200: ProvinceSerializer(many=True), **error_responses(401)})
    def get(self, request: Request) -> Response:
        return Response(ProvinceSerializer.all())
