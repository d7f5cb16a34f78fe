"""Page parts shared by every area: the error summary, a select's options."""

from django import template
from django.forms import BaseForm, BaseFormSet, BoundField
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

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


@register.filter
def select_options(field: BoundField) -> str:
    """A select's <option>s, the field's current value selected: joined here in one pass, since
    the workbench's filters list some hundred options on every page and the template's loop
    cost a tenth of the page (docs/benchmarks.md, "Officers' pages")."""
    current = str(field.value()) if field.value() is not None else ""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        (
            (value, mark_safe(" selected") if str(value) == current else "", text)
            for value, text in field.field.choices
        ),
    )
