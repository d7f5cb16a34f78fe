"""HTTP in and out for the contract of API.md; rules stay in the services."""

import datetime as dt
import re

from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field, inline_serializer
from rest_framework import serializers

from config.fields import (
    EmailField,
    FormBooleanField,
    StrictBooleanField,
    StrictIntegerField,
    StrictModelSerializer,
    TextField,
)
from subsidy import access, files, selectors, validators
from subsidy.engine import rules
from subsidy.findings import finding_detail
from subsidy.workflow import transitions
from subsidy.workflow.transitions import ACTIONS

from .models import (
    MAX_PRICE,
    Application,
    Company,
    Document,
    DocumentKind,
    MachineItem,
    Notice,
    Origin,
    PaymentMethod,
    Programme,
    RatedScale,
    Scale,
    SiteVisit,
    SiteVisitPhoto,
)
from .regions import province_name, provinces, regency_name

User = get_user_model()


def _datetime(value: dt.datetime | None) -> str | None:
    """As DRF writes a timestamp: ISO 8601 in the current time zone (Asia/Jakarta)."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    item = serializers.IntegerField(allow_null=True)
    detail = serializers.CharField()


class ItemFindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()


@extend_schema_field({"type": "integer", "minimum": 1})
class IdField(serializers.PrimaryKeyRelatedField):
    """A row id in a body: a whole number from 1, as in a path (not "5" nor true)."""

    def to_internal_value(self, data: object) -> object:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("incorrect_type", data_type=type(data).__name__)
        return super().to_internal_value(data)


def _province_choices() -> list[tuple[str, str]]:
    return [(p.code, p.name) for p in provinces().values()]


def _regency_choices() -> list[tuple[str, str]]:
    return [(code, name) for p in provinces().values() for code, name in p.regencies]


class NpwpField(TextField):
    """NPWP may be typed with punctuation; only its 15 or 16 digits are kept.

    What is accepted as typed is exactly the schema's pattern (blank too where allowed)."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", validators.NPWP_INPUT_MAX_LENGTH)
        kwargs.setdefault("trim_whitespace", False)  # the pattern decides: a tab is refused
        super().__init__(**kwargs)
        # Read by the schema (its pattern); the typed text is checked in to_internal_value.
        # A blank one, where allowed, never reaches either (DRF returns it as it is).
        self.pattern = validators.NPWP_INPUT_PATTERN
        self.validators.append(RegexValidator(self.pattern, _("NPWP must have 15 or 16 digits.")))

    def to_internal_value(self, data: object) -> str:
        text = super().to_internal_value(data)
        if len(text) > self.max_length or not re.fullmatch(self.pattern, text):
            raise serializers.ValidationError(_("NPWP must have 15 or 16 digits."))
        return validators.digits(text)


# --- Programmes ----------------------------------------------------------------------------


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


# --- Companies and regions -----------------------------------------------------------------


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


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


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


# --- Applications, items, documents ----------------------------------------------------------


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
            "invoice_date": _date(item.invoice_date),
            "price": item.price,
            "vat": item.vat,
            "payment_method": item.payment_method,
            "is_new": item.is_new,
            "installed_on": _date(item.installed_on),
            "rate": self.get_rate(item),
            "discount": item.discount,
            "findings": self.get_findings(item),
        }


class SignalCaseSerializer(serializers.Serializer):
    application = serializers.IntegerField()
    reference = serializers.CharField(allow_null=True)


class SignalSerializer(serializers.Serializer):
    """A lead for officers (DOMAIN.md "Signals for officers"): no amount, no block."""

    kind = serializers.ChoiceField(
        choices=selectors.SIGNAL_KINDS,
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
    payout_account_number = serializers.CharField(read_only=True)
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
        return selectors.signals_for(application)

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
            "created_at": _datetime(application.created_at),
            "submitted_at": _datetime(application.submitted_at),
            "eligible_total": application.eligible_total,
            "computed_discount": application.computed_discount,
            "computed_at": _datetime(application.computed_at),
            "approved_amount": application.approved_amount,
            "disbursed_amount": application.disbursed_amount,
            "payout_bank_name": application.payout_bank_name,
            "payout_account_number": application.payout_account_number,
            "payout_account_name": application.payout_account_name,
            "transfer_reference": application.transfer_reference,
            "transferred_on": _date(application.transferred_on),
            "case_officer": application.case_officer_username,
            "findings": self.get_findings(application),
            "items": [items.to_representation(item) for item in application.item_list],
            "signals": self.get_signals(application),
        }


class FormIdField(IdField):
    """An optional id sent as a form field: a form has no null, so an empty value or the text
    "null" (what a client encodes the schema's null as) is no id."""

    def run_validation(self, data: object = serializers.empty) -> object:
        if data == "null":
            data = None
        return super().run_validation(data)

    def to_internal_value(self, data: object) -> object:
        # A form sends every value as text.
        if isinstance(data, str) and data.isascii() and data.isdigit():
            data = int(data)
        return super().to_internal_value(data)


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


class NotificationSerializer(StrictModelSerializer):
    class Meta:
        model = Notice
        fields = ["id", "kind", "application", "title", "body", "created_at", "read_at"]
        read_only_fields = fields


# --- Eligibility self-check (public, nothing stored) ----------------------------------------


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


# --- Site visits ---------------------------------------------------------------------------


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
        max_length=20,
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
