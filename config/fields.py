"""Serializer fields as strict as the OpenAPI schema they produce: `type: string` takes text
and `type: boolean` true or false, where DRF's own fields also take 5 for "5" or 0 for false."""

from django.core.validators import EmailValidator, RegexValidator
from django.db import models
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class TextField(serializers.CharField):
    """Text only: a number or a boolean is not a name, a comment or a reference."""

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictBooleanField(serializers.BooleanField):
    """true or false: DRF's field would also take 0, 1, "yes" or "true"."""

    def to_internal_value(self, data: object) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class FormBooleanField(StrictBooleanField):
    """true or false; in a form (multipart, which has only text) the text "true" or "false",
    as clients encode the schema's booleans there (or Python's "True" and "False"). Never 0,
    1 nor "yes"; in JSON never text."""

    # In a form a missing field is not false (DRF's default for a checkbox): it is missing.
    default_empty_html = serializers.empty
    FORM_TEXT = {"true": True, "false": False, "True": True, "False": False}

    def to_internal_value(self, data: object) -> bool:
        form = isinstance(getattr(self.root, "initial_data", None), QueryDict)
        if form and isinstance(data, str) and data in self.FORM_TEXT:
            return self.FORM_TEXT[data]
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """A whole number: not "5" nor true."""

    def to_internal_value(self, data: object) -> int:
        if isinstance(data, bool | str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose text and boolean model fields take only text and booleans."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: TextField,
        models.TextField: TextField,
        models.BooleanField: StrictBooleanField,
        models.IntegerField: StrictIntegerField,
        models.BigIntegerField: StrictIntegerField,
        models.PositiveIntegerField: StrictIntegerField,
        models.PositiveSmallIntegerField: StrictIntegerField,
        models.PositiveBigIntegerField: StrictIntegerField,
        models.SmallIntegerField: StrictIntegerField,
    }


# An e-mail address as people type one: a dot-atom local part, host labels and a TLD of
# letters. Django's EmailValidator also takes quoted local parts, IP literals, "localhost" and
# non-ASCII hosts; the schema states this shape (a pattern both Python and ECMA read alike:
# the lookahead refuses the newline Python's "$" lets through), and the field checks it too,
# so that what the schema calls an address is what is accepted.
_ADDRESS = (
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
# The local part (before the @) is at most 64 characters (RFC 5321), the lookahead says.
EMAIL_PATTERN = rf"^(?=[^@]{{1,64}}@){_ADDRESS}$(?!\n)"
EMAIL_OR_BLANK_PATTERN = rf"^((?=[^@]{{1,64}}@){_ADDRESS})?$(?!\n)"


class _EmailShapeValidator(RegexValidator):
    """Django's EmailValidator and the pattern, with one message when either refuses."""

    def __call__(self, value: object) -> None:
        EmailValidator(self.message, self.code)(value)
        super().__call__(value)


class EmailField(serializers.EmailField):
    """An address of EMAIL_PATTERN's shape, as typed (not trimmed: the schema's pattern refuses
    spaces), at most 254 characters (the column's length)."""

    def __init__(self, **kwargs: object) -> None:
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)
        # Blank never reaches the validators; the pattern says it is allowed, for the schema.
        pattern = EMAIL_OR_BLANK_PATTERN if self.allow_blank else EMAIL_PATTERN
        self.validators = [v for v in self.validators if not isinstance(v, EmailValidator)] + [
            _EmailShapeValidator(pattern, _("Enter a valid email address."), code="invalid")
        ]

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
