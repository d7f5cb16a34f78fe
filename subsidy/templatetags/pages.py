"""Page parts shared by every area: the error summary."""

from django import template
from django.forms import BaseForm, BaseFormSet

register = template.Library()


@register.inclusion_tag("includes/error_summary.html")
def error_summary(*forms: BaseForm | BaseFormSet | None) -> dict:
    """GOV.UK's error summary of the given forms and formsets (their forms included)."""
    with_errors: list[BaseForm] = []
    formset_errors: list[str] = []
    for item in forms:
        if isinstance(item, BaseFormSet):
            if item.is_bound:
                formset_errors.extend(item.non_form_errors())
            with_errors.extend(form for form in item.forms if form.is_bound and form.errors)
        elif item is not None and item.is_bound and item.errors:
            with_errors.append(item)
    return {"forms_with_errors": with_errors, "formset_errors": formset_errors}
