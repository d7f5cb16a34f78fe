from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

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
    email = serializers.EmailField(required=False, allow_blank=True)
    language = serializers.ChoiceField(choices=User.Language.choices, required=False)


class RegisterSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField()
    password = serializers.CharField(
        write_only=True, max_length=128, style={"input_type": "password"}
    )

    def validate_username(self, value: str) -> str:
        field = User._meta.get_field("username")
        try:
            for validator in field.validators:
                validator(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(list(exc.messages)) from None
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


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
