"""Benchmark the officers' workbench and case page at 10,000 and 100,000 applications.

Run by hand against PostgreSQL, with two databases seeded by `manage.py seed_demo` (the same
two as `bench/applicant_pages.py`):

    .venv/bin/python bench/office_pages.py \\
        --small postgres://postgres@127.0.0.1:5432/ikm_pages_10k \\
        --large postgres://postgres@127.0.0.1:5432/ikm_pages_100k --rounds 3 --requests 30

Each round starts one measuring process per database, alternating, so both sizes see the same
machine load. A measuring process makes (once) a verifier, `bench-verifikator`, and a case
with 20 machines, 40 machine documents and 4 company documents (submitted through the
services by `bench-pemohon-kasus`),
then times the server side of each page in process (Django's test client: the view, its
queries, the template; no network) and counts its queries. The workbench and the API list
are asked the same filters in the same process, one after the other:

    workbench:          GET /office/                         API: GET /api/v1/applications/
    workbench filtered: GET /office/?province=34&scale=kecil API: the same query
    workbench searched: GET /office/?search=Keramik          API: the same query
    case page:          GET /office/cases/<id>/  (20 machines, 44 documents)

It prints the median and p95 per page and size, the queries per page, the ratio of the
medians 100k / 10k (goal <= 1.2 for the workbench and case pages; the API list's lines are
the comparison's reference) and, per size, each workbench page's median against the API
list's for the same filter (goal <= 1.5).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GROWTH_GOAL = 1.2
API_GOAL = 1.5
MACHINES = 20
FILTERS = {
    "workbench": "",
    "workbench filtered": "province=34&scale=kecil",
    "workbench searched": "search=Keramik",
}


def _case(programme):
    """The case page's case: 20 machines, each with its invoice and installation photo, and
    the programme's other required documents, submitted through the services."""
    from accounts.models import User
    from accounts.roles import APPLICANT, grant_role
    from subsidy.models import Application
    from subsidy.services import applications as application_services
    from subsidy.services import documents as document_services
    from subsidy.workflow import actions as workflow
    from tests.factories import CompanyFactory
    from tests.utils import item_data, jpeg, pdf_upload

    applicant, _ = User.objects.get_or_create(
        username="bench-pemohon-kasus", defaults={"email": "bench-pemohon-kasus@localhost"}
    )
    grant_role(applicant, APPLICANT)
    case = Application.objects.filter(company__members=applicant).first()
    if case is None:
        company = CompanyFactory(members=[applicant], name="PT Bench Dua Puluh Mesin")
        case = application_services.application_create(
            by=applicant, programme=programme, company=company
        )
    if case.status == Application.Status.DRAFT:
        for number in range(MACHINES - case.items.count()):
            item = application_services.item_create(
                application=case,
                by=applicant,
                **item_data(serial_number=f"BENCH-K-{number}", invoice_number=f"BENCH/K/{number}"),
            )
            for kind, file in (("invoice", pdf_upload()), ("installation_photo", jpeg())):
                document_services.document_upload(
                    application=case, by=applicant, kind=kind, file=file, item=item
                )
        for kind in set(programme.required_documents) - {"invoice", "installation_photo"}:
            document_services.document_upload(
                application=case, by=applicant, kind=kind, file=pdf_upload()
            )
        case = workflow.application_submit(application=case, by=applicant)
    return case


def _measure(requests: int) -> dict:
    """In the child: set up the verifier and the case once, then time each page."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()

    from django.test import Client

    from accounts.models import User
    from accounts.roles import VERIFIER, grant_role
    from accounts.second_factor import has_second_factor
    from subsidy.models import Application
    from subsidy.selectors import current_programme
    from tests.factories import enrol_totp
    from tests.utils import pass_second_factor

    verifier, _ = User.objects.get_or_create(
        username="bench-verifikator", defaults={"email": "bench-verifikator@localhost"}
    )
    grant_role(verifier, VERIFIER)
    if not has_second_factor(verifier):
        enrol_totp(verifier)  # staff pages need one
    case = _case(current_programme())
    client = Client()
    client.force_login(verifier)
    pass_second_factor(client, verifier)  # as the log-in's second step records it
    pages = {}
    for name, query in FILTERS.items():
        pages[name] = lambda query=query: client.get(f"/office/?{query}")
        pages[f"API list ({name})"] = lambda query=query: client.get(
            f"/api/v1/applications/?{query}"
        )
    pages["case page"] = lambda: client.get(f"/office/cases/{case.pk}/")

    from bench.common import time_pages

    return {
        "applications": Application.objects.count(),
        "case": {"machines": case.items.count(), "documents": case.documents.count()},
        "pages": time_pages(pages, requests),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", help="DATABASE_URL of the 10k database")
    parser.add_argument("--large", help="DATABASE_URL of the 100k database")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(_measure(args.requests)))
        return
    if not (args.small and args.large):
        parser.error("--small and --large are required")
    sys.path.insert(0, str(ROOT))
    from bench.common import p95

    collected: dict[str, dict] = {"small": {}, "large": {}}
    counts: dict[str, int] = {}
    queries: dict[str, dict] = {"small": {}, "large": {}}
    cases: dict[str, dict] = {}
    for number in range(args.rounds):
        for size, url in (("small", args.small), ("large", args.large)):
            env = {
                **os.environ,
                "DATABASE_URL": url,
                "DJANGO_SETTINGS_MODULE": "config.settings.local",
                "DJANGO_DEBUG": "0",
                "DJANGO_ALLOWED_HOSTS": "testserver,127.0.0.1",
                "LOG_LEVEL": "WARNING",
            }
            sys.stderr.write(f"round {number + 1}: {size}\n")
            output = subprocess.run(
                [sys.executable, __file__, "--measure", "--requests", str(args.requests)],
                env=env,
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            measured = json.loads(output.strip().splitlines()[-1])
            counts[size] = measured["applications"]
            cases[size] = measured["case"]
            for page, figures in measured["pages"].items():
                collected[size].setdefault(page, []).extend(figures["ms"])
                queries[size][page] = figures["queries"]

    out = sys.stdout.write
    out(f"case page: {cases['small']} / {cases['large']}\n\n")
    out(
        f"| page | {counts['small']:,} apps: median, p95 | {counts['large']:,} apps: "
        "median, p95 | queries (10k / 100k) | ratio of medians |\n|---|---|---|---|---|\n"
    )
    worst = 0.0
    medians: dict[str, dict] = {"small": {}, "large": {}}
    for page in collected["small"]:
        small, large = collected["small"][page], collected["large"][page]
        medians["small"][page] = statistics.median(small)
        medians["large"][page] = statistics.median(large)
        ratio = medians["large"][page] / medians["small"][page]
        if not page.startswith("API list"):  # the API's own growth is the API's benchmark's
            worst = max(worst, ratio)
        out(
            f"| {page} | {medians['small'][page]:.1f} ms, {p95(small):.1f} ms "
            f"| {medians['large'][page]:.1f} ms, {p95(large):.1f} ms "
            f"| {queries['small'][page]} / {queries['large'][page]} | {ratio:.2f} |\n"
        )
    verdict = "meets" if worst <= GROWTH_GOAL else "misses"
    out(
        f"\nworst 100k/10k ratio of the workbench and case pages {worst:.2f}: {verdict} the "
        f"goal of <= {GROWTH_GOAL}\n\n"
    )
    out("| workbench page / API list, same filter | 10k | 100k |\n|---|---|---|\n")
    worst_api = 0.0
    for name in FILTERS:
        ratios = [
            medians[size][name] / medians[size][f"API list ({name})"] for size in ("small", "large")
        ]
        worst_api = max(worst_api, *ratios)
        out(f"| {name} | {ratios[0]:.2f} | {ratios[1]:.2f} |\n")
    verdict = "meets" if worst_api <= API_GOAL else "misses"
    out(f"\nworst workbench/API ratio {worst_api:.2f}: {verdict} the goal of <= {API_GOAL}\n")


if __name__ == "__main__":
    main()
