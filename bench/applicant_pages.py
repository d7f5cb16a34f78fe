"""Benchmark the applicant's pages at 10,000 and 100,000 applications, measured in one run.

Run by hand against PostgreSQL, with two databases seeded by `manage.py seed_demo`:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ikm_pages_10k \\
        .venv/bin/python manage.py seed_demo --applications 10000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ikm_pages_100k \\
        .venv/bin/python manage.py seed_demo --applications 100000
    .venv/bin/python bench/applicant_pages.py \\
        --small postgres://postgres@127.0.0.1:5432/ikm_pages_10k \\
        --large postgres://postgres@127.0.0.1:5432/ikm_pages_100k --rounds 3 --requests 30

Each round starts one measuring process per database, alternating, so both sizes see the same
machine load. A measuring process makes (once) an applicant, `bench-pemohon`, a member of one
seeded company whose draft gets 20 machines and 40 documents through the services, then
times the server side of each page in process (Django's test client: the view, its
queries, the template; no network) and counts its queries:

    dashboard:        GET  /dashboard/
    application page: GET  /applications/<id>/
    eligibility page: GET  /eligibility-check/
    eligibility API:  POST /api/v1/eligibility-check/ (one company, two machines)

It prints the median and p95 per page and size, the queries per page, and the ratio of the
medians, 100k / 10k (goal <= 1.2).
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
GOAL = 1.2
MACHINES = 20
DOCUMENTS = 40


def _measure(requests: int) -> dict:
    """In the child: set up the applicant once, then time each page `requests` times."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.test import Client

    from accounts.models import User
    from accounts.roles import APPLICANT, grant_role
    from subsidy.models import Application
    from subsidy.selectors import current_programme
    from subsidy.services import applications as application_services
    from subsidy.services import documents as document_services
    from tests.utils import PDF_BYTES, item_data

    user, _ = User.objects.get_or_create(
        username="bench-pemohon", defaults={"email": "bench-pemohon@localhost"}
    )
    grant_role(user, APPLICANT)
    application = Application.objects.filter(company__members=user).first()
    if application is None:
        application = (
            Application.objects.filter(status=Application.Status.DRAFT)
            .order_by("id")
            .select_related("company")
            .first()
        )
        application.company.members.add(user)
        for number in range(MACHINES - application.items.count()):
            application_services.item_create(
                application=application,
                by=user,
                **item_data(serial_number=f"BENCH-{number}", invoice_number=f"BENCH/{number}"),
            )
        kinds = application.programme.required_documents or ["other"]
        for number in range(DOCUMENTS):
            document_services.document_upload(
                application=application,
                by=user,
                kind=kinds[number % len(kinds)],
                file=SimpleUploadedFile(
                    f"bench-{number}.pdf", PDF_BYTES + f"% {number}\n".encode(), "application/pdf"
                ),
            )
    programme = current_programme()
    eligibility = {
        "programme": programme.pk,
        "company": {"workers": 12, "investment_value": 800_000_000, "kbli": "25120"},
        "items": [
            {
                "price": 150_000_000,
                "origin": "domestic",
                "invoice_date": programme.purchase_from.isoformat(),
                "is_new": True,
                "installed_on": programme.purchase_from.isoformat(),
                "payment_method": "bank_transfer",
            },
            {
                "price": 40_000_000,
                "origin": "imported",
                "invoice_date": programme.purchase_from.isoformat(),
                "is_new": True,
                "installed_on": None,
                "payment_method": "cash",
            },
        ],
    }
    client = Client()
    client.force_login(user)
    pages = {
        "dashboard": lambda: client.get("/dashboard/"),
        "application page": lambda: client.get(f"/applications/{application.pk}/"),
        "eligibility page": lambda: client.get("/eligibility-check/"),
        "eligibility API": lambda: client.post(
            "/api/v1/eligibility-check/", eligibility, content_type="application/json"
        ),
    }
    from bench.common import time_pages

    return {"applications": Application.objects.count(), "pages": time_pages(pages, requests)}


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
            print(f"round {number + 1}: {size}", file=sys.stderr, flush=True)
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
            for page, figures in measured["pages"].items():
                collected[size].setdefault(page, []).extend(figures["ms"])
                queries[size][page] = figures["queries"]

    print(
        f"| page | {counts['small']:,} apps: median, p95 | {counts['large']:,} apps: "
        "median, p95 | queries (10k / 100k) | ratio of medians |"
    )
    print("|---|---|---|---|---|")
    worst = 0.0
    for page in collected["small"]:
        small, large = collected["small"][page], collected["large"][page]
        ratio = statistics.median(large) / statistics.median(small)
        worst = max(worst, ratio)
        print(
            f"| {page} | {statistics.median(small):.1f} ms, {p95(small):.1f} ms "
            f"| {statistics.median(large):.1f} ms, {p95(large):.1f} ms "
            f"| {queries['small'][page]} / {queries['large'][page]} | {ratio:.2f} |"
        )
    verdict = "meets" if worst <= GOAL else "misses"
    print(f"\nworst ratio {worst:.2f}: {verdict} the goal of <= {GOAL}")


if __name__ == "__main__":
    main()
