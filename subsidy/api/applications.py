"""/api/v1/applications/: applications, their transitions, history, letter and dossier."""

from django.http import FileResponse, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from config.api import LIST_ERRORS, READ_ERRORS, error_responses
from config.errors import ServiceError
from config.fields import (
    StrictBooleanField,
    StrictModelSerializer,
    TextField,
)
from config.openapi import AutoSchema
from subsidy import access, selectors, signals, validators
from subsidy.api.common import (
    BankAccountOutField,
    FindingSerializer,
    IdField,
    date_text,
    datetime_text,
    require_applicant,
    validated,
)
from subsidy.api.items import MachineItemSerializer
from subsidy.dossier import dossier_response
from subsidy.engine import rules
from subsidy.filters import ApplicationFilter
from subsidy.findings import finding_detail
from subsidy.models import (
    Application,
    Company,
    Programme,
    Scale,
)
from subsidy.notices import letters
from subsidy.services import applications as application_services
from subsidy.workflow import actions as workflow
from subsidy.workflow import transitions
from subsidy.workflow.transitions import ACTIONS


class SignalCaseSerializer(serializers.Serializer):
    application = serializers.IntegerField()
    reference = serializers.CharField(allow_null=True)


class SignalSerializer(serializers.Serializer):
    """A lead for officers (DOMAIN.md "Signals for officers"): no amount, no block."""

    kind = serializers.ChoiceField(
        choices=signals.SIGNAL_KINDS,
        help_text="duplicate_document: the same file (SHA-256) in another company's case, once "
        "per file; lost_claim: an item whose invoice or serial another case keeps.",
    )
    sha256 = serializers.CharField(allow_null=True, help_text="duplicate_document: the file.")
    documents = serializers.ListField(
        child=serializers.IntegerField(),
        help_text="duplicate_document: this case's documents holding the file.",
    )
    code = serializers.ChoiceField(
        choices=rules.CLAIM_CODES,
        allow_null=True,
        help_text="lost_claim: duplicate_invoice or duplicate_serial.",
    )
    item = serializers.IntegerField(allow_null=True, help_text="lost_claim: this case's item.")
    cases = SignalCaseSerializer(
        many=True,
        help_text="The other cases: those holding the file, or the one keeping the claim "
        "(empty while the claims are being recomputed).",
    )


class ApplicationSerializer(StrictModelSerializer):
    programme = IdField(queryset=Programme.objects.all())
    company = IdField(queryset=Company.objects.none())
    case_officer = serializers.CharField(
        source="case_officer_username",
        read_only=True,
        allow_null=True,
        help_text="Username of the verifier who started the review.",
    )
    payout_bank_name = serializers.CharField(read_only=True)
    payout_account_number = BankAccountOutField(read_only=True)
    payout_account_name = serializers.CharField(read_only=True)
    scale = serializers.ChoiceField(
        choices=Scale.choices,
        read_only=True,
        allow_blank=True,
        help_text="The company's scale the last computation used; empty before the first.",
    )
    # Annotated by selectors.application_list, which every application answer is read from.
    company_name = serializers.CharField(read_only=True)
    programme_year = serializers.IntegerField(read_only=True)
    findings = serializers.SerializerMethodField()
    items = MachineItemSerializer(many=True, read_only=True, source="item_list")
    signals = serializers.SerializerMethodField(
        help_text="Signals for officers: staff only, on GET /applications/{id}/; null in lists "
        "and for applicants (other companies' cases are not theirs to see)."
    )

    class Meta:
        model = Application
        fields = [
            "id",
            "reference",
            "programme",
            "programme_year",
            "company",
            "company_name",
            "status",
            "scale",
            "created_at",
            "submitted_at",
            "eligible_total",
            "computed_discount",
            "computed_at",
            "approved_amount",
            "disbursed_amount",
            "payout_bank_name",
            "payout_account_number",
            "payout_account_name",
            "transfer_reference",
            "transferred_on",
            "case_officer",
            "findings",
            "items",
            "signals",
        ]
        read_only_fields = [f for f in fields if f not in ("programme", "company")]
        # A second live application is the service's refusal (409 duplicate_application),
        # not the field error DRF would derive from the model's unique constraint.
        validators: list = []

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            # Another company's id is simply not a valid choice (400), never a leak.
            self.fields["company"].queryset = Company.objects.filter(members=request.user)

    @extend_schema_field(FindingSerializer(many=True))
    def get_findings(self, application: Application) -> list[dict]:
        return [
            {"code": f["code"], "item": f.get("item"), "detail": finding_detail(f["code"])}
            for f in application.findings
        ]

    @extend_schema_field(SignalSerializer(many=True, allow_null=True))
    def get_signals(self, application: Application) -> list[dict] | None:
        # Read on demand, one case at a time: the view asks for them on the detail only.
        request = self.context.get("request")
        if not self.context.get("signals") or request is None:
            return None
        if not access.sees_everything(request.user):
            return None
        return signals.signals_for(application)

    def to_representation(self, application: Application) -> dict:
        # Written out for the list's sake, like MachineItemSerializer.to_representation.
        items = self.fields["items"].child
        return {
            "id": application.id,
            "reference": application.reference,
            "programme": application.programme_id,
            "programme_year": application.programme_year,
            "company": application.company_id,
            "company_name": application.company_name,
            "status": application.status,
            "scale": application.scale,
            "created_at": datetime_text(application.created_at),
            "submitted_at": datetime_text(application.submitted_at),
            "eligible_total": application.eligible_total,
            "computed_discount": application.computed_discount,
            "computed_at": datetime_text(application.computed_at),
            "approved_amount": application.approved_amount,
            "disbursed_amount": application.disbursed_amount,
            "payout_bank_name": application.payout_bank_name,
            "payout_account_number": self.fields["payout_account_number"].to_representation(
                application.payout_account_number
            ),
            "payout_account_name": application.payout_account_name,
            "transfer_reference": application.transfer_reference,
            "transferred_on": date_text(application.transferred_on),
            "case_officer": application.case_officer_username,
            "findings": self.get_findings(application),
            "items": [items.to_representation(item) for item in application.item_list],
            "signals": self.get_signals(application),
        }


class ChecklistSerializer(serializers.Serializer):
    machines_present = StrictBooleanField()
    machines_new = StrictBooleanField()
    machines_installed = StrictBooleanField()
    not_transferred = StrictBooleanField()


def _comment(*, required: bool = False) -> TextField:
    return TextField(
        required=required,
        allow_blank=not required,
        max_length=validators.COMMENT_MAX_LENGTH,
        validators=[validators.multi_line],
        help_text="The reason: required for reject and request_revision.",
    )


def _transfer_reference(*, required: bool = False) -> TextField:
    return TextField(
        required=required,
        allow_blank=not required,
        max_length=100,
        validators=[validators.single_line],
        help_text="disburse only, required there.",
    )


class TransitionSerializer(serializers.Serializer):
    """The payload of POST transitions; what each action requires is checked by the workflow."""

    action = serializers.ChoiceField(choices=ACTIONS)
    comment = _comment()
    checklist = ChecklistSerializer(
        required=False,
        help_text="recommend only, required there unless a site visit is recorded (then the "
        "latest visit's answers are used); all four must be true.",
    )
    transfer_reference = _transfer_reference()
    transferred_on = serializers.DateField(
        required=False, help_text="disburse only, required there; not in the future."
    )


@extend_schema_field({"type": "boolean", "enum": [True]})
class _TrueField(StrictBooleanField):
    """For the schema only: a checklist item that recommending requires to be true."""


def _action_payload(action: str) -> serializers.Serializer:
    """What one action's payload must hold, for the schema: the requirement is the transition
    table's (`requires`); the workflow's payload checks refuse the rest (400)."""
    requires = next(t.requires for t in transitions.TRANSITIONS if t.action == action)
    checklist = ChecklistSerializer(required=False)
    if requires == transitions.CHECKLIST:
        # Optional: without it the latest recorded site visit's answers are used, and
        # without a visit it is required (400) - a rule on stored rows no schema can state.
        checklist = inline_serializer(
            name="RecommendChecklist",
            fields={item: _TrueField() for item in transitions.CHECKLIST_ITEMS},
            required=False,
            help_text="Required unless a site visit is recorded; all four true.",
        )
    transfer = requires == transitions.TRANSFER
    return inline_serializer(
        name="Transition" + "".join(word.title() for word in action.split("_")),
        fields={
            "action": serializers.ChoiceField(choices=[action]),
            "comment": _comment(required=requires == transitions.COMMENT),
            "checklist": checklist,
            "transfer_reference": _transfer_reference(required=transfer),
            # Not in the future is the workflow's check: a schema has no "today".
            "transferred_on": serializers.DateField(
                required=transfer, help_text="disburse only, required there; not in the future."
            ),
        },
    )


# The schema of POST transitions: one payload per action, told apart by `action`.
TRANSITION_REQUEST = PolymorphicProxySerializer(
    component_name="Transition",
    serializers={action: _action_payload(action) for action in ACTIONS},
    resource_type_field_name="action",
)


class AvailableActionSerializer(serializers.Serializer):
    action = serializers.CharField()
    label = serializers.CharField()
    to_status = serializers.CharField()
    requires = serializers.CharField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(allow_null=True)
    action = serializers.CharField()
    from_status = serializers.CharField(allow_blank=True)
    to_status = serializers.CharField(allow_blank=True)
    comment = serializers.CharField(allow_blank=True)
    changes = serializers.DictField()


class BreakdownSerializer(serializers.Serializer):
    """The stored computation, as an auditor re-computes it by hand."""

    application = serializers.IntegerField()
    reference = serializers.CharField(allow_null=True)
    computed_at = serializers.DateTimeField(allow_null=True)
    stale = serializers.BooleanField()
    programme = serializers.DictField(help_text="The programme settings used.")
    company = serializers.DictField(help_text="Workers, investment, KBLI and scale used.")
    items = serializers.ListField(
        child=serializers.DictField(), help_text="Price, rate, discount and exclusion codes."
    )
    eligible_total = serializers.IntegerField()
    max_refund_per_company = serializers.IntegerField()
    cap_applied = serializers.BooleanField()
    computed_discount = serializers.IntegerField()
    min_refund = serializers.IntegerField()
    blocking = serializers.ListField(child=serializers.CharField())

    @staticmethod
    def of(application: Application) -> dict:
        stored = application.breakdown or {}
        return {
            "application": application.pk,
            "reference": application.reference,
            "computed_at": application.computed_at,
            "stale": application.computed_at is None,
            "programme": stored.get("programme", {}),
            "company": stored.get("company", {}),
            "items": stored.get("items", []),
            "eligible_total": application.eligible_total,
            "max_refund_per_company": stored.get("max_refund_per_company", 0),
            "cap_applied": stored.get("cap_applied", False),
            "computed_discount": application.computed_discount,
            "min_refund": stored.get("min_refund", 0),
            "blocking": stored.get("blocking", []),
        }


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
        require_applicant(request.user)
        data = validated(ApplicationSerializer, request.data, context={"request": request})
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
        entries = [
            {**entry, "changes": access.redact_bank_accounts(entry["changes"], request.user)}
            for entry in selectors.application_history(self.get_object())
        ]
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
            letters.approval_letter_pdf(
                application,
                language=language,
                account_shown=access.bank_account_number(
                    application.payout_account_number, request.user
                ),
            ),
            content_type="application/pdf",
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{letters.letter_filename(application)}"'
        )
        return response

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                "The case dossier: summary.pdf, breakdown.csv, history.json (with the audit "
                "chain's verdict), documents/ and manifest.csv (path, sha256, bytes).",
            ),
            **error_responses(401, 404),
        }
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def dossier(self, request: Request, pk: str | None = None) -> FileResponse:
        language = getattr(request.user, "language", "id") or "id"
        return dossier_response(self.get_object(), by=request.user, language=language)
