"""Public and applicant pages. Thin: selectors read, services write, templates render."""

from decimal import Decimal

from django.forms import BaseForm, BaseFormSet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _

from subsidy import formats, selectors
from subsidy.engine import rules
from subsidy.findings import finding_detail
from subsidy.models import Origin, PaymentMethod, Programme, Scale

from .forms import CompanyFactsForm, MachineFormSet

MACHINES_PREFIX = "machines"


def _rate_sentence(scale: str, origin: str, rate: Decimal) -> str:
    """A programme rate in words, as a visitor reads it."""
    sentences = {
        (rules.KECIL, rules.DOMESTIC): _(
            "%(rate)s of the machine price for a small industry buying a domestically made machine"
        ),
        (rules.KECIL, rules.IMPORTED): _(
            "%(rate)s of the machine price for a small industry buying an imported machine"
        ),
        (rules.MENENGAH, rules.DOMESTIC): _(
            "%(rate)s of the machine price for a medium industry buying a domestically made machine"
        ),
        (rules.MENENGAH, rules.IMPORTED): _(
            "%(rate)s of the machine price for a medium industry buying an imported machine"
        ),
    }
    return sentences[(scale, origin)] % {"rate": formats.percent(rate)}


def _rate_sentences(programme: Programme) -> list[str]:
    rates = {(r.scale, r.origin): r.rate for r in programme.rates.all()}
    return [_rate_sentence(s, o, rates[(s, o)]) for s, o in rules.RATED_PAIRS if (s, o) in rates]


def home(request: HttpRequest) -> HttpResponse:
    """`/`: the programme of the year in plain words, and the ways in."""
    programme = selectors.current_programme()
    context: dict[str, object] = {"programme": programme}
    if programme is not None:
        budget = selectors.programme_budget(programme)
        used = budget["committed"] + budget["disbursed"]
        share = Decimal(used) / Decimal(budget["budget"]) if budget["budget"] else Decimal(0)
        context.update(
            budget=budget,
            used=used,
            used_share=share.quantize(Decimal("0.001")),
            rate_sentences=_rate_sentences(programme),
        )
    return render(request, "public/home.html", context)


def _as_initial(form: BaseForm) -> dict[str, object]:
    """What was typed into a bound form, to show again without judging it."""
    return {name: form.data.get(form.add_prefix(name)) for name in form.fields}


def _with_one_more_machine(formset: BaseFormSet) -> BaseFormSet:
    """ "Add a machine" without JavaScript: the same machines, unjudged, and an empty one."""
    initial = [_as_initial(form) for form in formset.forms]
    more = MachineFormSet(prefix=MACHINES_PREFIX, initial=initial)
    more.extra = 1 if len(initial) < more.max_num else 0
    return more


# What a would-be applicant can do about each blocking finding.
def _advice(code: str, programme: Programme) -> str:
    language = translation.get_language()
    advice = {
        rules.COMPANY_NOT_IKM: _(
            "Only small and medium industries can take part. Check the number of workers and "
            "that the investment value leaves out land and buildings."
        ),
        rules.KBLI_NOT_MANUFACTURING: _(
            "Enter the 5-digit KBLI of your manufacturing activity (divisions 10 to 33) as it "
            "stands on your NIB."
        ),
        rules.NO_ELIGIBLE_ITEMS: _(
            "Fix the reason given under each machine: for example pay through a bank and "
            "install the machine by %(install_by)s."
        )
        % {"install_by": formats.long_date(programme.install_by, language)},
        rules.BELOW_MINIMUM: _(
            "The programme refunds at least %(minimum)s. Add eligible machines bought between "
            "%(start)s and %(end)s."
        )
        % {
            "minimum": formats.rupiah(programme.min_refund),
            "start": formats.long_date(programme.purchase_from, language),
            "end": formats.long_date(programme.purchase_to, language),
        },
    }
    return advice.get(code, "")


def _result(
    programme: Programme, computation: rules.Computation, formset: BaseFormSet
) -> dict[str, object]:
    """The computation in the words of the page."""
    machines = []
    for form, item in zip(formset.forms, computation.items, strict=True):
        machines.append(
            {
                "number": item.id,
                "price": form.cleaned_data["price"],
                "origin": Origin(form.cleaned_data["origin"]).label,
                "payment_method": PaymentMethod(form.cleaned_data["payment_method"]).label,
                "rate": item.rate,
                "discount": item.discount,
                "reasons": [finding_detail(code) for code in item.exclusions],
            }
        )
    return {
        "scale": computation.scale,
        "scale_label": Scale(computation.scale).label,
        "machines": machines,
        "eligible_total": computation.eligible_total,
        "computed_discount": computation.computed_discount,
        "cap_applied": computation.cap_applied,
        "max_refund": programme.max_refund_per_company,
        "blocking": [
            {"detail": finding_detail(code), "advice": _advice(code, programme)}
            for code in computation.blocking
        ],
    }


def eligibility_check(request: HttpRequest) -> HttpResponse:
    """Public self-check: the engine's rules on facts the visitor types; nothing is stored."""
    programme = selectors.current_programme()
    result = None
    if request.method == "POST":
        company_form = CompanyFactsForm(request.POST)
        machine_formset = MachineFormSet(request.POST, prefix=MACHINES_PREFIX)
        if "add_machine" in request.POST:
            company_form = CompanyFactsForm(initial=_as_initial(company_form))
            machine_formset = _with_one_more_machine(machine_formset)
        elif company_form.is_valid() & machine_formset.is_valid():
            chosen = company_form.cleaned_data["programme"]
            computation = selectors.eligibility_check(
                chosen,
                workers=company_form.cleaned_data["workers"],
                investment_value=company_form.cleaned_data["investment_value"],
                kbli=company_form.cleaned_data["kbli"],
                machines=[form.facts() for form in machine_formset.forms],
            )
            result = _result(chosen, computation, machine_formset)
    else:
        company_form = CompanyFactsForm(initial={"programme": programme})
        machine_formset = MachineFormSet(prefix=MACHINES_PREFIX)
    return render(
        request,
        "public/eligibility_check.html",
        {
            "programme": programme,
            "company_form": company_form,
            "machine_formset": machine_formset,
            "result": result,
        },
    )
