"""The OpenAPI schema says what validation says (DRF's DEFAULT_SCHEMA_CLASS).

drf-spectacular reads a field's type, lengths and regex validators; this adds what it cannot
see, so a request the schema calls valid is accepted and one it calls invalid is refused:
ids in paths start at 1; nested lists state their bounds; text that DRF trims must hold more
than whitespace; a NUL, which DRF refuses in any text, and what a validator refuses (it names
the characters in `refused_characters`, a regex class) are excluded by a pattern; a validator
function states the pattern it checks in `schema_pattern`.
"""

from django.core.validators import ProhibitNullCharactersValidator
from drf_spectacular import openapi
from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers


def text_pattern(refused: str = "", *, required: bool = False) -> str:
    """A pattern (ECMA and Python alike) for text without the `refused` characters, holding at
    least one that is not whitespace when `required`."""
    if not refused:
        return r"\S"
    if required:
        return rf"^[^{refused}]*[^{refused}\s][^{refused}]*$"
    return rf"^[^{refused}]*$"


def _non_blank(field: object) -> bool:
    """Text DRF trims and then refuses when empty: " " is as blank as ""."""
    return (
        isinstance(field, serializers.CharField)
        and not isinstance(field, serializers.ChoiceField)
        and not field.allow_blank
        and field.trim_whitespace
    )


class AutoSchema(openapi.AutoSchema):
    def _map_serializer_field(self, field: object, direction: str, *args, **kwargs) -> dict:
        schema = super()._map_serializer_field(field, direction, *args, **kwargs)
        # A nested list (many=True) states its bounds, which drf-spectacular leaves out.
        if (
            isinstance(field, serializers.ListSerializer)
            and schema
            and schema.get("type") == "array"
        ):
            if field.min_length is not None:
                schema["minItems"] = field.min_length
            elif not field.allow_empty:
                schema["minItems"] = 1
            if field.max_length is not None:
                schema["maxItems"] = field.max_length
        return schema

    def _get_request_for_media_type(self, serializer: object, *args, **kwargs) -> tuple:
        schema, required = super()._get_request_for_media_type(serializer, *args, **kwargs)
        # One payload among several (a oneOf told apart by a field every branch requires): the
        # body is required, as each branch is; drf-spectacular looks for `required` on the
        # oneOf itself and finds none.
        if isinstance(serializer, PolymorphicProxySerializer):
            required = True
        return schema, required

    def _resolve_path_parameters(self, variables: list[str]) -> list[dict]:
        # A negative or zero id never matches a row.
        parameters = super()._resolve_path_parameters(variables)
        for parameter in parameters:
            if parameter["schema"].get("type") == "integer":
                parameter["schema"]["minimum"] = 1
        return parameters

    def _insert_field_validators(self, field: object, schema: dict) -> None:
        super()._insert_field_validators(field, schema)
        if field.read_only or schema.get("type") != "string" or "enum" in schema:
            return
        declared = next(
            (v.schema_pattern for v in field.validators if hasattr(v, "schema_pattern")), None
        )
        if declared:  # stated by the validator itself, over what drf-spectacular read
            schema["pattern"] = declared
        if "pattern" in schema:
            return
        refused = "".join(
            r"\u0000"
            if isinstance(validator, ProhibitNullCharactersValidator)
            else getattr(validator, "refused_characters", "")
            for validator in field.validators
        )
        if refused or _non_blank(field):
            schema["pattern"] = text_pattern(refused, required=_non_blank(field))


def masked_account_numbers(result: dict, generator: object, request: object, public: bool) -> dict:
    """Answers carry a company's account number masked for some readers (subsidy.access), so
    the input's pattern does not describe the answer; requests keep it."""
    schemas = result.get("components", {}).get("schemas", {})
    field = schemas.get("Company", {}).get("properties", {}).get("bank_account_number")
    if field is not None:
        field.pop("pattern", None)
        field["description"] = (
            "Whole to finance, auditors and the company's applicants; to other staff only "
            "the last four digits, e.g. \u2022\u2022\u2022\u2022\u2022\u20221234."
        )
    return result
