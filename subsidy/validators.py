"""Field checks of DOMAIN.md "Input checks": each refuses with a message naming the rule."""

import math
import re
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from subsidy import regions
from subsidy.choices import DocumentKind

# What people type between the groups of an NPWP: "01.234.567.8-901.000". Anything else
# (a letter, a stray symbol) is kept, so the digit check refuses it instead of dropping it.
_SEPARATORS = re.compile(r"[\s.\-/]")

# [0-9] rather than \d below: \d also matches other scripts' digits ("١٢٣"), no NIB or NPWP.


# Patterns of the API's input, shared by the checks and the OpenAPI schema (which must agree).
NIB_PATTERN = r"^[0-9]{13}$"
# An NPWP as typed: 15 or 16 digits, with spaces, dots, dashes or slashes between them.
NPWP_INPUT_PATTERN = r"^[ ./-]*(?:[0-9][ ./-]*){15,16}$"
NPWP_INPUT_MAX_LENGTH = 40
PROVINCE_PATTERN = r"^[0-9]{2}$"
REGENCY_PATTERN = r"^[0-9]{2}\.[0-9]{2}$"


def nib(value: str) -> None:
    if not re.fullmatch(r"[0-9]{13}", value or ""):
        raise ValidationError(_("NIB must be exactly 13 digits."), code="invalid_nib")


def npwp(value: str) -> None:
    if value and not re.fullmatch(r"[0-9]{15}|[0-9]{16}", value):
        raise ValidationError(_("NPWP must have 15 or 16 digits."), code="invalid_npwp")


def kbli(value: str) -> None:
    if value and not re.fullmatch(r"[0-9]{5}", value):
        raise ValidationError(_("KBLI must be exactly 5 digits."), code="invalid_kbli")


kbli.schema_pattern = r"^([0-9]{5})?$"


def account_number(value: str) -> None:
    if value and not re.fullmatch(r"[0-9][0-9 .-]{4,33}", value):
        raise ValidationError(
            _("A bank account number holds digits only (5 to 34)."), code="invalid_account"
        )


account_number.schema_pattern = r"^([0-9][0-9 .-]{4,33})?$"


def required_text(value: str) -> None:
    if not (value or "").strip():
        raise ValidationError(_("This field may not be empty."), code="blank")


def not_in_future(value) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError(_("The date may not be in the future."), code="future_date")


def rate(value: Decimal) -> None:
    if value is None or not (Decimal(0) < value <= Decimal(1)):
        raise ValidationError(
            _("A rate must be above 0 and at most 1 (e.g. 0.4000)."), code="invalid_rate"
        )


def document_kinds(value: list) -> None:
    if not isinstance(value, list) or any(v not in DocumentKind.values for v in value):
        raise ValidationError(
            _("Required documents must be a list of: %(kinds)s.")
            % {"kinds": ", ".join(DocumentKind.values)},
            code="invalid_kinds",
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("A document kind is listed twice."), code="duplicate_kind")


def region(province: str, regency: str) -> None:
    errors = {}
    if province and province not in regions.provinces():
        errors["province"] = _("Unknown province code.")
    elif regency and not regions.regency_in_province(regency, province):
        errors["regency"] = _("This regency does not lie in the province.")
    if regency and not province:
        errors["province"] = _("Choose the province of the regency.")
    if errors:
        raise ValidationError(errors)


def digits(value: str) -> str:
    """NPWP and the like may be typed with punctuation; only the digits are stored."""
    return _SEPARATORS.sub("", value or "")


def whole_number(value: object) -> None:
    """Money and counts are integers: refuse 1.5 or True before Django's int() truncates them."""
    if isinstance(value, bool):
        raise ValidationError(_("Enter a whole number."), code="not_integer")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise ValidationError(_("Enter a whole number."), code="not_integer")
    if isinstance(value, Decimal) and not (value.is_finite() and value == value.to_integral()):
        raise ValidationError(_("Enter a whole number."), code="not_integer")


# --- Text people type ------------------------------------------------------------------------

# Control characters (C0, DEL, C1) and the invisible marks that reorder text: a name or serial
# number holding U+202E shows reversed, and one holding a NUL or an escape sequence reaches
# exports, letters and terminals. Line and paragraph separators end a line where no line ends.
# The classes are written escaped (a regex, not the characters) so that the OpenAPI schema
# states them as patterns too (config/openapi.py reads `refused_characters`).
_BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
SINGLE_LINE_REFUSED = rf"\u0000-\u001f\u007f-\u009f{_BIDI}\u2028\u2029"
# Multi-line fields (address, notes, comments) keep their line breaks, nothing else.
MULTI_LINE_REFUSED = rf"\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f{_BIDI}\u2028\u2029"
_SINGLE_LINE_REFUSED = re.compile(f"[{SINGLE_LINE_REFUSED}]")
_MULTI_LINE_REFUSED = re.compile(f"[{MULTI_LINE_REFUSED}]")


def _refuse_hidden_characters(value: object, refused: re.Pattern) -> None:
    if isinstance(value, str) and refused.search(value):
        raise ValidationError(
            _(
                "Remove the control or text-direction characters (such as a tab or a "
                "right-to-left mark): no one types them, and they are not accepted here."
            ),
            code="hidden_character",
        )


def single_line(value: str) -> None:
    """A name, number or code typed on one line: no control or bidi character."""
    _refuse_hidden_characters(value, _SINGLE_LINE_REFUSED)


def multi_line(value: str) -> None:
    """An address, note or comment: line breaks allowed, no other control or bidi character."""
    _refuse_hidden_characters(value, _MULTI_LINE_REFUSED)


single_line.refused_characters = SINGLE_LINE_REFUSED
multi_line.refused_characters = MULTI_LINE_REFUSED


# Longest texts accepted: a field longer than a person writes is a mistake or an attack.
ADDRESS_MAX_LENGTH = 500
COMMENT_MAX_LENGTH = 2000

# A programme's fiscal year.
YEAR_MIN = 2000
YEAR_MAX = 2100
