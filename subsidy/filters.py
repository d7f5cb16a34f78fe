import django_filters
from django.db.models import Q, QuerySet

from .models import Application, Scale


class ApplicationFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Application.Status.choices)
    programme = django_filters.NumberFilter(field_name="programme_id")
    company = django_filters.NumberFilter(field_name="company_id")
    province = django_filters.CharFilter(field_name="company__province")
    scale = django_filters.ChoiceFilter(choices=Scale.choices)
    submitted_after = django_filters.DateFilter(field_name="submitted_at", lookup_expr="date__gte")
    submitted_before = django_filters.DateFilter(field_name="submitted_at", lookup_expr="date__lte")
    search = django_filters.CharFilter(method="filter_search", label="Reference, company or NIB")

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
        ]

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(reference__iexact=value)
            | Q(reference__icontains=value)
            | Q(company__name__icontains=value)
            | Q(company__nib=value)
        )
