"""What every resource of the REST API shares: error responses, input checks, fields."""

import datetime as dt
import re
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.core.validators import RegexValidator
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers

from accounts.roles import APPLICANT
from config.api import LIST_ERRORS, READ_ERRORS, error_responses
from config.errors import ServiceError
from config.fields import (
    TextField,
)
from subsidy import access, validators
from subsidy.models import (
    Application,
)
from subsidy.services import permissions

User = get_user_model()


def datetime_text(value: dt.datetime | None) -> str | None:
    """As DRF writes a timestamp: ISO 8601 in the current time zone (Asia/Jakarta)."""
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def date_text(value: dt.date | None) -> str | None:
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


class BankAccountOutField(serializers.CharField):
    """A bank account number read out whole or masked, as subsidy.access rules for the user
    of the request in the serializer's context (masked when there is none)."""

    def to_representation(self, value: object) -> str:
        user = getattr(self.context.get("request"), "user", None)
        return access.bank_account_number(str(value or ""), user)


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


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


# Writes: create (no object yet), change (an object the caller must see), and the writes on an
# application's data, which its state may refuse (409).
CREATE_ERRORS = error_responses(400, 401, 403)


CHANGE_ERRORS = error_responses(400, 401, 403, 404)


CASE_ERRORS = error_responses(400, 401, 403, 404, 409)


CASE_DELETE_ERRORS = error_responses(401, 403, 404, 409)


DOCUMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")


def require_applicant(user) -> None:
    if not user.has_role(APPLICANT):
        raise ServiceError("forbidden", _("Only applicants may do this."))


def validated(serializer_class, data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def resource_schema(
    serializer: type, *, create_errors: dict, change_errors: dict, **more: object
) -> Callable:
    """The schema of a resource that is listed, read, created and changed."""
    return extend_schema_view(
        list=extend_schema(responses={200: serializer(many=True), **LIST_ERRORS}),
        retrieve=extend_schema(responses={200: serializer, **READ_ERRORS}),
        create=extend_schema(responses={201: serializer, **create_errors}),
        update=extend_schema(responses={200: serializer, **change_errors}),
        partial_update=extend_schema(responses={200: serializer, **change_errors}),
        **more,
    )


class ApplicationChild:
    """Shared by items and documents: the parent application, visible to the caller or 404."""

    def application(self) -> Application:
        if not hasattr(self, "_application"):
            self._application = get_object_or_404(
                access.applications_visible_to(self.request.user).select_related("company"),
                pk=self.kwargs["application_pk"],
            )
        return self._application

    def check_writer(self) -> Application:
        application = self.application()
        permissions.require_member(application.company, self.request.user)
        return application
