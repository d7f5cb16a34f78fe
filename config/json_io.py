"""JSON in and out of the API (DRF's DEFAULT_PARSER_CLASSES and DEFAULT_RENDERER_CLASSES).

Imported while DRF defines its APIView: import nothing here that imports rest_framework.views.
"""

import datetime as dt
from collections.abc import Iterator

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import exceptions, parsers, renderers
from rest_framework.utils.encoders import JSONEncoder as DRFJSONEncoder

# --- JSON in: bad input is a 400, whatever it is -------------------------------------------

# Deeper than any payload of the contract (a programme's rates are 3 levels deep); deep enough
# nesting would exhaust Python's stack in the parser, the serializers or the error's renderer.
MAX_JSON_DEPTH = 32


def _strings(data: object) -> Iterator[tuple[int, object]]:
    """Every value of parsed JSON with its depth, without recursion (keys included)."""
    stack = [(1, data)]
    while stack:
        depth, value = stack.pop()
        yield depth, value
        if isinstance(value, dict):
            stack.extend((depth + 1, key) for key in value)
            stack.extend((depth + 1, item) for item in value.values())
        elif isinstance(value, list):
            stack.extend((depth + 1, item) for item in value)


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, refusing (400) what would otherwise crash later (500): nesting deeper
    than MAX_JSON_DEPTH, and lone surrogates ("\\ud800"), which no text holds and which make
    any message or row that echoes them unencodable."""

    def parse(self, stream, media_type=None, parser_context=None) -> object:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise exceptions.ParseError(self.too_deep()) from None
        for depth, value in _strings(data):
            if depth > MAX_JSON_DEPTH:
                raise exceptions.ParseError(self.too_deep())
            if isinstance(value, str) and _has_surrogate(value):
                raise exceptions.ParseError(
                    _(
                        "The JSON holds an invalid character (a lone surrogate such as "
                        "\\ud800); send text as valid UTF-8."
                    )
                )
        return data

    @staticmethod
    def too_deep() -> str:
        return _("The JSON is nested too deeply (at most %(depth)s levels).") % {
            "depth": MAX_JSON_DEPTH
        }


# --- JSON out: every timestamp in Asia/Jakarta ----------------------------------------------


class JSONEncoder(DRFJSONEncoder):
    """Timestamps in the current time zone (Asia/Jakarta), as the serializers write them, also
    where a view answers a plain dict holding a datetime."""

    def default(self, obj: object) -> object:
        if isinstance(obj, dt.datetime) and timezone.is_aware(obj):
            return timezone.localtime(obj).isoformat()
        return super().default(obj)


class JSONRenderer(renderers.JSONRenderer):
    encoder_class = JSONEncoder


def local_timestamps(value: object) -> object:
    """A stored JSON value (an audit entry's changes) with its ISO timestamps in Asia/Jakarta.

    The audit trail keeps UTC (its seal must not depend on the server's zone); answers do not.
    """
    if isinstance(value, dict):
        return {key: local_timestamps(item) for key, item in value.items()}
    if isinstance(value, list):
        return [local_timestamps(item) for item in value]
    if isinstance(value, str) and len(value) >= 20 and value[10:11] == "T":
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_aware(moment):
            return timezone.localtime(moment).isoformat()
    return value
