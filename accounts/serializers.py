from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import (
    MinimumLengthValidator,
    get_default_password_validators,
    validate_password,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from config.fields import EmailField, TextField

from .models import ApiToken
from .roles import ROLES

User = get_user_model()


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SerializerMethodField()
    companies = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "username", "email", "language", "roles", "companies"]
        read_only_fields = ["id", "username"]

    def get_roles(self, user) -> list[str]:
        return [role for role in ROLES if user.has_role(role)]

    def get_companies(self, user) -> list[int]:
        return sorted(user.companies.values_list("id", flat=True))


class MeUpdateSerializer(serializers.Serializer):
    email = EmailField(required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=User.Language.choices, required=False)


def _password_min_length() -> int:
    lengths = [
        v.min_length
        for v in get_default_password_validators()
        if isinstance(v, MinimumLengthValidator)
    ]
    return max(lengths, default=1)


_NOT_NUMERIC = RegexValidator(r"\D", _("This password is entirely numeric."))
# For the schema: not digits only, and no NUL, which DRF refuses in any text.
_NOT_NUMERIC.schema_pattern = r"^[^\u0000]*[^\u0000\d][^\u0000]*$"


class RegisterSerializer(serializers.Serializer):
    # The username field's own validators, so the schema states its pattern (which a space
    # does not match: not trimmed either).
    username = TextField(
        max_length=150,
        trim_whitespace=False,
        validators=User._meta.get_field("username").validators,
    )
    email = EmailField()
    # As typed (Django's password forms do not strip either). What the schema can state of the
    # password validators is stated: the length, and not digits only ("\D"); that it is not
    # a common password nor like the username is told by the 400 alone.
    password = TextField(
        write_only=True,
        min_length=_password_min_length(),
        max_length=128,
        trim_whitespace=False,
        validators=[_NOT_NUMERIC],
        style={"input_type": "password"},
    )

    def validate_username(self, value: str) -> str:
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError(
                User._meta.get_field("username").error_messages["unique"]
            )
        return value

    def validate(self, attrs: dict) -> dict:
        candidate = User(username=attrs["username"], email=attrs["email"])
        try:
            validate_password(attrs["password"], user=candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs


class RegisteredSerializer(serializers.Serializer):
    """The answer to a registration: the same whether or not the address was already known."""

    username = serializers.CharField()
    email = serializers.EmailField()
    detail = serializers.CharField()


class TokenRequestSerializer(serializers.Serializer):
    # As typed, like the password: a username is matched exactly.
    username = TextField(max_length=150, trim_whitespace=False)
    password = TextField(max_length=128, trim_whitespace=False, style={"input_type": "password"})
    otp = TextField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text=_(
            "Staff, and anyone who set up a second factor: the current code of the "
            "authenticator app, or one unused recovery code."
        ),
    )


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as its owner sees it in the list: never the secret."""

    class Meta:
        model = ApiToken
        fields = ["id", "prefix", "created", "expires", "last_used", "revoked"]
        read_only_fields = fields


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(
        help_text=_(
            "The secret, shown this once: send it as Authorization: Token <token>. Its expiry "
            "is listed by GET /api/v1/auth/tokens/."
        )
    )


class SessionTokenSerializer(ApiTokenSerializer):
    """A token made for the signed-in browser session: its secret this once, and its details."""

    token = serializers.CharField(help_text=_("The secret, shown this once."))

    class Meta(ApiTokenSerializer.Meta):
        fields = ["token", *ApiTokenSerializer.Meta.fields]
        read_only_fields = fields
