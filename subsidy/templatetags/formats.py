"""Template filters for the Indonesian formats; each calls subsidy.formats (one place)."""

import datetime as dt
from decimal import Decimal

from django import template
from django.utils import translation

from subsidy import access, formats

register = template.Library()


@register.filter
def rupiah(value: int | None) -> str:
    return formats.rupiah(value)


@register.filter
def thousands(value: int | None) -> str:
    """A count with a dot between thousands: 12.345."""
    return "" if value is None else formats.group_thousands(value)


@register.filter
def percent(value: Decimal | str | None) -> str:
    if value is None or value == "":
        return ""
    return formats.percent(value if isinstance(value, Decimal) else Decimal(value))


@register.filter
def npwp(value: str | None) -> str:
    return formats.npwp(value or "")


@register.filter
def long_date(value: dt.date | str | None) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value) if value else None
    return formats.long_date(value, translation.get_language())


@register.filter
def long_datetime(value: dt.datetime | None) -> str:
    return formats.long_datetime(value, translation.get_language())


@register.filter
def bank_account(value: str | None, user: object) -> str:
    """`{{ number|bank_account:user }}`: whole or masked, as subsidy.access rules."""
    return access.bank_account_number(value, user)
