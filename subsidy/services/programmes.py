"""Writes to programmes: their settings and rates, and the staleness a change causes."""

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ServiceError
from subsidy import audit, jobs, validators
from subsidy.engine import rules, stale
from subsidy.models import (
    Application,
    Programme,
    ProgrammeRate,
    ReferenceCounter,
)
from subsidy.selectors import programme_spent
from subsidy.services.inputs import _whole_number_errors
from subsidy.services.permissions import require_superuser

User = get_user_model()


PROGRAMME_FIELDS = [
    "year",
    "name",
    "application_opens",
    "application_closes",
    "purchase_from",
    "purchase_to",
    "install_by",
    "budget",
    "min_refund",
    "max_refund_per_company",
    "max_participations",
    "required_documents",
]


# Settings the computation reads: changing one makes every open application's results stale.
# The year orders programmes, and "earlier programmes" decide participation_limit_reached.
PROGRAMME_COMPUTED_FIELDS = {
    "year",
    "purchase_from",
    "purchase_to",
    "install_by",
    "min_refund",
    "max_refund_per_company",
    "max_participations",
}


# Money and counts: Django's IntegerField would truncate 1.5 to 1 instead of refusing it.
PROGRAMME_WHOLE_NUMBERS = ("year", "budget", "min_refund", "max_refund_per_company")


def _parse_rates(rates: object) -> dict[tuple[str, str], Decimal]:
    """Exactly one rate for each of the four (scale, origin) pairs, 0 < rate <= 1, 4 places."""
    message = _("Give exactly four rates: kecil and menengah, each domestic and imported.")
    if not isinstance(rates, list) or len(rates) != len(rules.RATED_PAIRS):
        raise ValidationError({"rates": [message]})
    parsed: dict[tuple[str, str], Decimal] = {}
    for entry in rates:
        if not isinstance(entry, Mapping):
            raise ValidationError({"rates": [message]})
        pair = (entry.get("scale"), entry.get("origin"))
        if pair not in rules.RATED_PAIRS or pair in parsed:
            raise ValidationError({"rates": [message]})
        try:
            rate = Decimal(str(entry.get("rate")))
            # quantize() itself refuses a value too large for the context ("1E+30").
            exact = rate.is_finite() and rate == rate.quantize(Decimal("0.0001"))
        except (InvalidOperation, ValueError):
            exact = False
        if not exact:
            raise ValidationError({"rates": [_("A rate is a decimal with up to 4 places.")]})
        try:
            validators.rate(rate)
        except ValidationError as exc:
            raise ValidationError({"rates": exc.messages}) from None
        parsed[pair] = rate
    return parsed


def _programme_check(programme: Programme, errors: dict[str, list[str]]) -> None:
    """DOMAIN.md: windows in order, unique year, min_refund <= cap, budget >= what is spent."""
    errors = {name: list(messages) for name, messages in errors.items()}
    # Field checks first: full_clean turns "2026-04-01" into a date, so the comparisons
    # below only ever see values of the right type (a bad one is reported, not a 500).
    try:
        programme.full_clean()
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            if field not in PROGRAMME_WHOLE_NUMBERS or field not in errors:
                errors.setdefault(field, []).extend(messages)

    def valid(*names: str) -> bool:
        return not any(name in errors for name in names)

    for start, end in [
        ("application_opens", "application_closes"),
        ("purchase_from", "purchase_to"),
    ]:
        if valid(start, end) and getattr(programme, start) > getattr(programme, end):
            errors.setdefault(end, []).append(_("The window ends before it starts."))
    if (
        valid("min_refund", "max_refund_per_company")
        and programme.min_refund > programme.max_refund_per_company
    ):
        errors.setdefault("max_refund_per_company", []).append(
            _("The cap per company may not be below the minimum refund.")
        )
    if programme.pk and valid("budget"):
        spent = programme_spent(programme.pk)
        if programme.budget < spent:
            errors.setdefault("budget", []).append(
                _(
                    "The budget may not be lowered below what is committed "
                    "and disbursed (%(spent)s)."
                )
                % {"spent": spent}
            )
    if errors:
        raise ValidationError(errors)


def _programme_input_errors(
    rates: object, fields: Mapping[str, object], *, required: bool
) -> tuple[dict, dict]:
    """Parse the rates (when given or required) and check whole numbers: (rates, errors)."""
    errors = _whole_number_errors(fields, PROGRAMME_WHOLE_NUMBERS)
    parsed: dict = {}
    if rates is not None or required:
        try:
            parsed = _parse_rates(rates)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    return parsed, errors


def _save_rates(programme: Programme, rates: dict[tuple[str, str], Decimal]) -> None:
    programme.rates.all().delete()
    ProgrammeRate.objects.bulk_create(
        ProgrammeRate(programme=programme, scale=scale, origin=origin, rate=rate)
        for (scale, origin), rate in rates.items()
    )


def _rates_plain(programme: Programme) -> dict:
    return {f"{r.scale}/{r.origin}": str(r.rate) for r in programme.rates.all()}


@transaction.atomic
def programme_create(*, by: User, rates: object, **fields: object) -> Programme:
    require_superuser(by)
    # A new programme needs its four rates: None is parsed (and refused) like any bad list.
    parsed, errors = _programme_input_errors(rates, fields, required=True)
    programme = Programme(**{k: v for k, v in fields.items() if k in PROGRAMME_FIELDS})
    _programme_check(programme, errors)
    try:
        with transaction.atomic():
            programme.save()
    except IntegrityError:
        raise ValidationError({"year": [_("A programme for this year already exists.")]}) from None
    _save_rates(programme, parsed)
    audit.record(
        actor=by,
        action="create",
        object_type="programme",
        object_id=programme.pk,
        changes={
            **audit.diff({}, audit.snapshot(programme, PROGRAMME_FIELDS)),
            "rates": [None, _rates_plain(programme)],
        },
    )
    return programme


@transaction.atomic
def programme_update(
    *, programme: Programme, by: User, rates: object | None = None, **fields: object
) -> Programme:
    """Change a programme; a change the computation reads recomputes every open application."""
    require_superuser(by)
    # The budget check must see every approval: approvals lock this row too.
    # NO KEY, as approvals: they exclude each other, but a submission's foreign-key check at
    # COMMIT (FOR KEY SHARE) is let through (workflow.actions.application_approve).
    programme = Programme.objects.select_for_update(no_key=True).get(pk=programme.pk)
    year_before = programme.year
    before = audit.snapshot(programme, PROGRAMME_FIELDS)
    rates_before = _rates_plain(programme)
    for name, value in fields.items():
        if name in PROGRAMME_FIELDS:
            setattr(programme, name, value)
    parsed, errors = _programme_input_errors(rates, fields, required=False)
    _programme_check(programme, errors)
    if programme.year != year_before:
        _require_no_reference(programme, year=year_before)
    try:
        with transaction.atomic():
            programme.save()
    except IntegrityError:
        raise ValidationError({"year": [_("A programme for this year already exists.")]}) from None
    if rates is not None:
        _save_rates(programme, parsed)
    changes = audit.diff(before, audit.snapshot(programme, PROGRAMME_FIELDS))
    rates_after = _rates_plain(programme)
    if rates_after != rates_before:
        changes["rates"] = [rates_before, rates_after]
    if changes:
        if "rates" in changes or PROGRAMME_COMPUTED_FIELDS & changes.keys():
            programme_mark_stale(programme)
        if "year" in changes:
            # Moving the programme in time also moves its disbursed cases in or out of the
            # "earlier programmes" that other programmes' applications count.
            stale.mark_stale(
                Application.objects.filter(
                    status__in=Application.OPEN_STATUSES,
                    company__applications__programme=programme,
                    company__applications__status=Application.Status.DISBURSED,
                )
                .exclude(programme=programme)
                .values_list("pk", flat=True)
            )
        audit.record(
            actor=by,
            action="update",
            object_type="programme",
            object_id=programme.pk,
            changes=changes,
        )
    return programme


def _require_no_reference(programme: Programme, *, year: int) -> None:
    """The year is fixed once an application has a reference: references carry it."""
    # Take what a submission takes, in its order (its application, then the counter): it
    # has either committed its reference before the check below, or waits for this change
    # and then reads the new year (workflow.actions._next_reference). A counter not yet
    # made is not made here: the submission making it waits for this programme row.
    stale.lock_in_order(
        Application.objects.filter(programme=programme, status__in=Application.OPEN_STATUSES)
    )
    list(ReferenceCounter.objects.select_for_update().filter(programme=programme))
    if Application.objects.filter(programme=programme, reference__isnull=False).exists():
        raise ServiceError(
            "invalid_transition",
            _(
                "The programme's year cannot change: its applications already have reference "
                "numbers carrying the year %(year)s."
            )
            % {"year": year},
        )


def programme_mark_stale(programme: Programme) -> None:
    """Every open application's results go stale at once; one job recomputes them in bulk."""
    stale.lock_in_order(
        Application.objects.filter(programme=programme, status__in=Application.OPEN_STATUSES)
    ).update(computed_at=None, data_version=F("data_version") + 1, compute_queued_at=timezone.now())
    jobs.enqueue_after_commit(jobs.RECOMPUTE_PROGRAMME, programme.pk)
