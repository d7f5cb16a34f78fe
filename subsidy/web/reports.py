"""The programme reports (staff and auditors) and the public statistics page.

Thin: the figures come from subsidy.reports and subsidy.statistics; this module only lays
them out as charts (SVG drawn by the template, readable without JavaScript and printable),
the table beneath each chart (the accessible source of the chart) and a CSV of that table.
"""

import csv
import io
from dataclasses import dataclass, field

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from subsidy import formats, reports, selectors, statistics
from subsidy.formats import spreadsheet_safe
from subsidy.models import Origin, Programme, Scale

from .office import staff_only

BAR_MAX = 60  # percent of the chart's width; the rest holds the figure after the bar
ROW_HEIGHT = 44
LABEL_LENGTH = 40
NO_FIGURE = "\N{EN DASH}"  # a figure withheld or not measured


@dataclass
class Bar:
    label: str
    text: str
    segments: list[tuple[int, str]] = field(default_factory=list)  # (percent, css class)
    y: int = 0

    @property
    def placed(self) -> list[tuple[int, int, str]]:
        """(x, width, css class) of each segment, one after the other."""
        x, out = 0, []
        for width, css in self.segments:
            out.append((x, width, css))
            x += width
        return out

    @property
    def text_x(self) -> int:
        return sum(width for width, _css in self.segments) + 1


@dataclass
class Chart:
    slug: str
    title: str
    description: str
    bars: list[Bar]

    @property
    def height(self) -> int:
        return max(len(self.bars), 1) * ROW_HEIGHT


@dataclass
class Section:
    slug: str
    title: str
    caption: str
    chart: Chart
    headers: list[tuple[str, bool]]  # (text, numeric)
    rows: list[list[tuple[str, bool]]]
    csv_url: str
    legend: list[tuple[str, str]] = field(default_factory=list)  # (css class, text)
    caption_hidden: bool = False  # the heading above says it all; a screen reader still reads it


def _short(label: str) -> str:
    return label if len(label) <= LABEL_LENGTH else label[: LABEL_LENGTH - 1].rstrip() + "…"


def _width(value: int | None, largest: int) -> int:
    """A bar's length in whole percent of the chart; a value above zero shows at least 1."""
    if not value or largest <= 0:
        return 0
    return max(1, value * BAR_MAX // largest)


def _bars(lines: list[tuple[str, int | None, str]]) -> list[Bar]:
    """One bar per (label, value, text), scaled to the largest value."""
    largest = max((value or 0 for _label, value, _text in lines), default=0)
    return [
        Bar(_short(label), text, [(_width(value, largest), "bar")] if value else [], i * ROW_HEIGHT)
        for i, (label, value, text) in enumerate(lines)
    ]


def _number(value: int | None) -> str:
    return "" if value is None else formats.group_thousands(value)


def _days(tenths: int | None) -> str:
    """Tenths of a day as the reader writes decimals: 2,5 in Indonesian, 2.5 in English."""
    if tenths is None:
        return NO_FIGURE
    separator = "." if (translation.get_language() or "").startswith("en") else ","
    return f"{formats.group_thousands(tenths // 10)}{separator}{tenths % 10}"


def _csv_response(filename: str, header: list[str], rows: list[list[object]]) -> HttpResponse:
    """UTF-8 with a BOM (spreadsheets read it so); no cell runs as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if cell is None else spreadsheet_safe(cell) for cell in row])
    response = HttpResponse(out.getvalue().encode("utf-8-sig"), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- Reports (staff and auditors) ------------------------------------------------------------

REPORT_TITLES = {
    "status": gettext_lazy("Applications by status"),
    "province": gettext_lazy("Applications by province"),
    "kbli": gettext_lazy("Applications by KBLI division"),
    "scale": gettext_lazy("Applications by scale"),
    "origin": gettext_lazy("Machines by origin"),
    "month": gettext_lazy("Applications by month of first submission"),
    "budget": gettext_lazy("Budget used over time"),
    "stages": gettext_lazy("Days in each stage"),
}
REPORT_KEYS = {
    "status": "status",
    "province": "province",
    "kbli": "kbli_division",
    "scale": "scale",
    "origin": "origin",
    "month": "month",
    "budget": "month",
    "stages": "stage",
}
COLUMN_TITLES = {
    "applications": gettext_lazy("Applications"),
    "computed_discount": gettext_lazy("Computed refund"),
    "committed": gettext_lazy("Committed"),
    "disbursed": gettext_lazy("Disbursed"),
    "available": gettext_lazy("Available"),
    "machines": gettext_lazy("Machines"),
    "price": gettext_lazy("Price excluding VAT"),
    "discount": gettext_lazy("Refund"),
    "stays": gettext_lazy("Stays ended"),
    "median_days": gettext_lazy("Median (days)"),
    "p90_days": gettext_lazy("90th percentile (days)"),
}
COUNTS = {"applications", "machines", "stays"}
DAYS = {"median_days", "p90_days"}


def _cell(column: str, value: int | None) -> str:
    if column in DAYS:
        return _days(value)
    if column in COUNTS:
        return _number(value)
    return formats.rupiah(value)


def _label(row: reports.Row, with_code: bool = False) -> str:
    """The name a reader knows; a KBLI division also with its code ("10 Industri Makanan")."""
    if row.label:
        return f"{row.key} {row.label}" if with_code else row.label
    return row.key or _("(not recorded)")


def _report_chart(
    programme: Programme, table: reports.Table
) -> tuple[Chart, list[tuple[str, str]]]:
    slug = table.slug
    title = str(REPORT_TITLES[slug])
    if slug == "budget":
        totals = [r.values["committed"] + r.values["disbursed"] for r in table.rows]
        budget = max(programme.budget, *totals, 0)
        bars = []
        for i, row in enumerate(table.rows):
            paid = _width(row.values["disbursed"], budget)
            committed = _width(row.values["committed"], budget)
            bars.append(
                Bar(
                    row.label,
                    formats.rupiah(row.values["committed"] + row.values["disbursed"]),
                    [(paid, "bar-paid"), (committed, "bar-committed")],
                    i * ROW_HEIGHT,
                )
            )
        legend = [("bar-paid", _("Disbursed")), ("bar-committed", _("Committed"))]
        description = _("Disbursed and committed Rupiah at the end of each month, of the budget.")
        return Chart(slug, title, description, bars), legend
    if slug == "stages":
        longest = max((r.values["p90_days"] or 0 for r in table.rows), default=0)
        bars = []
        for i, row in enumerate(table.rows):
            median = _width(row.values["median_days"], longest)
            p90 = _width(row.values["p90_days"], longest)
            bars.append(
                Bar(
                    row.label,
                    _("%(median)s / %(p90)s days")
                    % {
                        "median": _days(row.values["median_days"]),
                        "p90": _days(row.values["p90_days"]),
                    },
                    [(median, "bar"), (max(p90 - median, 0), "bar-p90")] if p90 else [],
                    i * ROW_HEIGHT,
                )
            )
        legend = [("bar", _("Median")), ("bar-p90", _("Up to the 90th percentile"))]
        description = _("Median and 90th percentile of the days a case stayed in each state.")
        return Chart(slug, title, description, bars), legend
    if slug == "origin":
        lines = [
            (_label(r), r.values["machines"], _number(r.values["machines"])) for r in table.rows
        ]
        return Chart(slug, title, _("Machines of each origin."), _bars(lines)), []
    lines = [
        (_label(r, slug == "kbli"), r.values["applications"], _number(r.values["applications"]))
        for r in table.rows
    ]
    return Chart(slug, title, _("Number of applications in each group."), _bars(lines)), []


REPORT_CAPTIONS = {
    "status": gettext_lazy("Every application of the programme, drafts included."),
    "province": gettext_lazy("By the company's province today, as the workbench filters."),
    "kbli": gettext_lazy("By the first two digits of the company's KBLI code today."),
    "scale": gettext_lazy("By the scale of the last computation; empty while never computed."),
    "origin": gettext_lazy("Every machine item of the programme's applications."),
    "month": gettext_lazy("Months in Asia/Jakarta time; drafts never submitted are left out."),
    "budget": gettext_lazy(
        "The cases approved or disbursed today: committed from the month of approval, "
        "disbursed from the month of the transfer."
    ),
    "stages": gettext_lazy(
        "From the transition history: the time from entering a state to leaving it, for "
        "stays that have ended."
    ),
}


def _report_section(programme: Programme, table: reports.Table) -> Section:
    chart, legend = _report_chart(programme, table)
    headers = [(_("Month") if table.slug in ("month", "budget") else _("Group"), False)]
    headers += [(str(COLUMN_TITLES[c]), True) for c in table.columns]
    rows = [
        [
            (_label(row, table.slug == "kbli"), False),
            *((_cell(c, row.values[c]), True) for c in table.columns),
        ]
        for row in table.rows
    ]
    url = reverse("office:report_csv", args=[table.slug]) + f"?programme={programme.pk}"
    return Section(
        table.slug,
        chart.title,
        str(REPORT_CAPTIONS[table.slug]),
        chart,
        headers,
        rows,
        url,
        legend,
    )


class ProgrammeForm(forms.Form):
    programme = forms.ModelChoiceField(
        queryset=Programme.objects.order_by("-year"),
        label=gettext_lazy("Programme"),
        empty_label=None,
        widget=forms.Select(attrs={"class": "form-select w-auto"}),
        error_messages={"invalid_choice": gettext_lazy("Choose a programme from the list.")},
    )


def _chosen_programme(request: HttpRequest) -> tuple[ProgrammeForm, Programme | None]:
    if "programme" in request.GET:
        form = ProgrammeForm(request.GET)
        return form, form.cleaned_data["programme"] if form.is_valid() else None
    programme = selectors.current_programme() or Programme.objects.order_by("-year").first()
    form = ProgrammeForm(initial={"programme": programme.pk if programme else None})
    return form, programme


@staff_only
def report(request: HttpRequest) -> HttpResponse:
    """The report of one programme: a chart, its table and its CSV per figure."""
    form, programme = _chosen_programme(request)
    sections = []
    if programme is not None:
        tables = reports.programme_report(programme)
        sections = [_report_section(programme, table) for table in tables.values()]
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(
        request,
        "reports/report.html",
        {"form": form, "programme": programme, "sections": sections},
        status=status,
    )


@staff_only
def report_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """One table of the report as CSV (codes in the first column, names in the second)."""
    build = reports.TABLES.get(slug)
    form = ProgrammeForm(request.GET)
    if build is None or not form.is_valid():
        return render(
            request,
            "reports/report.html",
            {"form": form, "programme": None, "sections": []},
            status=400 if build else 404,
        )
    programme = form.cleaned_data["programme"]
    table = build(programme)
    header = [REPORT_KEYS[slug], "name", *table.columns]
    rows = [[row.key, row.label, *(row.values[c] for c in table.columns)] for row in table.rows]
    return _csv_response(f"report-{programme.year}-{slug}.csv", header, rows)


# --- Public statistics -----------------------------------------------------------------------

STATISTICS_TITLES = {
    "by_province": gettext_lazy("By province"),
    "by_sector": gettext_lazy("By sector (KBLI division)"),
    "by_scale": gettext_lazy("By scale"),
    "by_origin": gettext_lazy("By origin of the machines"),
}
STATISTICS_SLUGS = {
    "province": "by_province",
    "sector": "by_sector",
    "scale": "by_scale",
    "origin": "by_origin",
}


def _statistics_label(table: str, row: dict) -> str:
    if table == "by_province":
        return row["province_name"] or row["province"] or _("(not recorded)")
    if table == "by_sector":
        return f"{row['kbli_division']} {row['name']}".strip() or _("(not recorded)")
    if table == "by_scale":
        labels = dict(Scale.choices)
        return str(labels.get(row["scale"], row["scale"])) or _("(not recorded)")
    return str(dict(Origin.choices).get(row["origin"], row["origin"]))


def _statistics_section(year: int, slug: str, table: str, rows: list[dict]) -> Section:
    fewer = _("< 3")
    lines = [
        (
            _statistics_label(table, row),
            row["disbursed_amount"],
            fewer if row["suppressed"] else formats.rupiah(row["disbursed_amount"]),
        )
        for row in rows
    ]
    title = str(STATISTICS_TITLES[table])
    chart = Chart(
        slug,
        title,
        _("Refunds disbursed, in Rupiah; a group of fewer than 3 companies is not shown."),
        _bars(lines),
    )
    headers = [
        (_("Group"), False),
        (_("IKM"), True),
        (_("Machines"), True),
        (_("Disbursed (Rp)"), True),
    ]
    body = []
    for row in rows:
        if row["suppressed"]:
            figures = [(fewer, True), (NO_FIGURE, True), (NO_FIGURE, True)]
        else:
            figures = [
                (_number(row["companies"]), True),
                (_number(row["machines"]), True),
                (_number(row["disbursed_amount"]), True),
            ]
        body.append([(_statistics_label(table, row), False), *figures])
    url = reverse("statistics_csv", args=[slug]) + f"?year={year}"
    caption = _("%(title)s: IKM funded, machines and refunds disbursed") % {"title": title}
    return Section(slug, title, caption, chart, headers, body, url, caption_hidden=True)


class YearForm(forms.Form):
    year = forms.TypedChoiceField(
        label=gettext_lazy("Programme year"),
        coerce=int,
        error_messages={"invalid_choice": gettext_lazy("Choose a year from the list.")},
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in statistics.years()]


def _chosen_year(request: HttpRequest) -> tuple[YearForm, int | None]:
    if "year" in request.GET:
        form = YearForm(request.GET)
        return form, form.cleaned_data["year"] if form.is_valid() else None
    form = YearForm()
    # The newest year, as statistics.default_year gives it, from the list the form holds.
    year = next((value for value, _text in form.fields["year"].choices), None)
    form.initial = {"year": year}
    return form, year


def statistics_page(request: HttpRequest) -> HttpResponse:
    """`/statistics/`: what the programme paid in a year, to whom in aggregate only."""
    form, year = _chosen_year(request)
    figures = statistics.public_statistics(year) if year is not None else None
    sections = []
    if figures is not None:
        sections = [
            _statistics_section(year, slug, table, figures[table])
            for slug, table in STATISTICS_SLUGS.items()
        ]
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(
        request,
        "reports/statistics.html",
        {"form": form, "figures": figures, "sections": sections},
        status=status,
    )


def statistics_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """One table of the public statistics as CSV, as the API gives it."""
    table = STATISTICS_SLUGS.get(slug)
    form, year = _chosen_year(request)
    figures = statistics.public_statistics(year) if (table and year is not None) else None
    if figures is None:
        return render(
            request,
            "reports/statistics.html",
            {"form": form, "figures": None, "sections": []},
            status=400 if table and form.is_bound else 404,
        )
    rows = figures[table]
    header = _statistics_header(table)
    return _csv_response(
        f"statistics-{year}-{slug}.csv",
        header,
        [[_csv_value(row[column]) for column in header] for row in rows],
    )


def _statistics_header(table: str) -> list[str]:
    keys = {
        "by_province": ["province", "province_name"],
        "by_sector": ["kbli_division", "name"],
        "by_scale": ["scale"],
        "by_origin": ["origin"],
    }[table]
    return [*keys, "companies", "machines", "disbursed_amount", "suppressed"]


def _csv_value(value: object) -> object:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value
