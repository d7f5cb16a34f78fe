"""Query-parameter filters of the lists (API.md); a bad value is a 400, never a 500."""

import datetime as dt

import django_filters
from django import forms
from django.core.validators import RegexValidator
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema_field

from subsidy import signals

from .models import Application, Company, Scale

MAX_ID = 2**63 - 1
MAX_WAITING_DAYS = 36_500


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.NumberFilter):
    """A row id: a whole number within the database's range (a huge one is a 400, not a 500)."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)

    def get_max_validator(self) -> None:
        return None


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_WAITING_DAYS})
class WaitingDaysFilter(django_filters.NumberFilter):
    """A number of whole days, from 0 to about a century."""

    field_class = forms.IntegerField

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("max_value", MAX_WAITING_DAYS)
        super().__init__(*args, **kwargs)

    def get_max_validator(self) -> None:
        return None


class _TrueFalseField(forms.Field):
    """The text "true" or "false" (how a query encodes the schema's boolean); nothing else."""

    def to_python(self, value: object) -> bool | None:
        if value in (None, ""):
            return None
        if value in ("true", "false"):
            return value == "true"
        raise forms.ValidationError(_("Send true or false."), code="invalid")


@extend_schema_field({"type": "boolean"})
class TrueFalseFilter(django_filters.Filter):
    """A yes/no question: django-filter's BooleanFilter reads any other text as "no answer"
    and ignores it, where the schema's boolean calls it invalid (400)."""

    field_class = _TrueFalseField


# Leading and trailing spaces are stripped (a form field's way) before the two digits are read.
@extend_schema_field({"type": "string", "pattern": r"^\s*[0-9]{2}\s*$"})
class KbliDivisionFilter(django_filters.CharFilter):
    """The first two digits of a KBLI code."""


def _start_of(day: dt.date) -> dt.datetime | None:
    """Midnight of a local (Asia/Jakarta) day; None past the calendar's ends."""
    try:
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        start.astimezone(dt.UTC)
    except OverflowError:
        return None
    return start


class StrictFilterSet(django_filters.FilterSet):
    """A parameter sent empty (`?submitted_before=`) is a 400, as its schema says, unless it is
    free text (search): django-filter would otherwise ignore it."""

    def is_valid(self) -> bool:
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            if isinstance(filter_, django_filters.CharFilter) and not isinstance(
                filter_, KbliDivisionFilter
            ):
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else []
            if any(value == "" for value in values):
                self.form.add_error(name, _("This parameter may not be empty."))
                valid = False
        return valid


class ApplicationFilter(StrictFilterSet):
    # Not DISTINCT (django-filter's default for a multiple choice): a status never repeats a
    # row, and DISTINCT over every column made the page and its count sort the whole match.
    status = django_filters.MultipleChoiceFilter(choices=Application.Status.choices, distinct=False)
    programme = IdFilter(field_name="programme_id")
    company = IdFilter(field_name="company_id")
    province = django_filters.CharFilter(field_name="company__province")
    scale = django_filters.ChoiceFilter(choices=Scale.choices)
    submitted_after = django_filters.DateFilter(
        method="filter_submitted_after", label="First submitted on or after (Asia/Jakarta)"
    )
    submitted_before = django_filters.DateFilter(
        method="filter_submitted_before", label="First submitted on or before (Asia/Jakarta)"
    )
    search = django_filters.CharFilter(method="filter_search", label="Reference, company or NIB")
    regency = django_filters.CharFilter(field_name="company__regency")
    kbli_division = KbliDivisionFilter(
        method="filter_kbli_division",
        label="KBLI division: the first two digits (10 to 33)",
        validators=[
            RegexValidator(r"^[0-9]{2}$", gettext_lazy("A KBLI division is two digits, e.g. 25."))
        ],
    )
    has_findings = TrueFalseFilter(
        method="filter_has_findings", label="Has findings of the last computation"
    )
    has_signals = TrueFalseFilter(method="filter_has_signals", label="Has signals for officers")
    case_officer = IdFilter(field_name="case_officer_id")
    waiting_days_min = WaitingDaysFilter(
        method="filter_waiting_days_min",
        label="Waiting in its state at least this many days (Asia/Jakarta)",
    )

    # How search tests a company (filter_search): hashed for whole lists, probed per row for
    # lists read a page at a time in index order (QueueFilter).
    probes_each_row = False

    class Meta:
        model = Application
        fields = [
            "status",
            "programme",
            "company",
            "province",
            "scale",
            "submitted_after",
            "submitted_before",
            "search",
            "regency",
            "kbli_division",
            "has_findings",
            "has_signals",
            "case_officer",
            "waiting_days_min",
        ]

    # Bounds of local days rather than submitted_at__date, so the index on submitted_at is used.
    def filter_submitted_after(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        start = _start_of(value)
        if start is None:
            return queryset.filter(submitted_at__isnull=False)
        return queryset.filter(submitted_at__gte=start)

    def filter_submitted_before(self, queryset: QuerySet, name: str, value: dt.date) -> QuerySet:
        end = _start_of(value + dt.timedelta(days=1)) if value < dt.date.max else None
        if end is None:
            return queryset.filter(submitted_at__isnull=False)
        return queryset.filter(submitted_at__lt=end)

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        # The company's side as an EXISTS inside the OR. Correlated by equality, PostgreSQL
        # finds the matching companies once (in their name's trigram index, migration 0011)
        # and hashes them: best for a whole list counted exactly (the API). Correlated by a
        # range of one key, it cannot hash, and probes each row's company instead: best for a
        # list read in index order a page at a time and counted only a few pages ahead (the
        # workbench, QueueFilter), whose cost then stays the same at any size
        # (docs/benchmarks.md, "Officers' pages"). The same rows either way.
        if self.probes_each_row:
            company = {"pk__gte": OuterRef("company_id"), "pk__lte": OuterRef("company_id")}
        else:
            company = {"pk": OuterRef("company_id")}
        company_matches = Company.objects.filter(**company).filter(
            Q(name__icontains=value) | Q(nib=value)
        )
        return queryset.filter(Q(reference__icontains=value) | Exists(company_matches))

    def filter_kbli_division(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(company__kbli__startswith=value)

    def filter_has_findings(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        without = Q(findings=[])
        return queryset.exclude(without) if value else queryset.filter(without)

    def filter_has_signals(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        if value is None:
            return queryset
        return signals.with_signal_flag(queryset).filter(has_signals=value)

    def filter_waiting_days_min(self, queryset: QuerySet, name: str, value: int) -> QuerySet:
        # Waited at least N Jakarta days: entered its state on or before today - N.
        last_day = timezone.localdate() - dt.timedelta(days=value)
        end = _start_of(last_day + dt.timedelta(days=1)) if last_day > dt.date.min else None
        if end is None:
            return queryset.none()
        return queryset.filter(status_changed_at__lt=end)


class CompanyFilter(StrictFilterSet):
    class Meta:
        model = Company
        fields = ["province", "regency", "kbli"]


class QueueFilter(ApplicationFilter):
    """The API's filters, the same rows, for the workbench: its queue is read in index order a
    page at a time, so search probes each row's company rather than hashing every match."""

    probes_each_row = True
