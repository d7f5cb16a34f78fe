"""After the rush: count in the database what the clients were told, and print the figures.

Run by bench/load/run.sh once locust has stopped (the web server and the worker still up):

    .venv/bin/python bench/load/check.py --run-dir var/load/RUN [--mail-log worker.log]

It waits (bounded) for the worker to finish what the rush queued, then checks that every
submission a client got a 200 for has its row in `submitted` or later, the reference it was
given, a computation and exactly one "submitted" notice, sent; that every acknowledged approval
has its amount and its one "approved" notice; that references have no gap and no duplicate;
that the audit chain is intact; and, with the worker's console mail log, that no e-mail went
out twice (one Message-ID each). Then the locust figures per endpoint, as the locust file
wrote them when it stopped. Prints a Markdown table and summary (also written to
RUN/summary.md); exits 1 when a goal is missed: a failed request, a lost submission, a
missing computation, a missing or doubled notice.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from django.db.models import Count, Q  # noqa: E402

from subsidy import audit  # noqa: E402
from subsidy.models import Application, Notice, ReferenceCounter  # noqa: E402

LATER = [s for s in Application.Status if s not in (Application.Status.DRAFT,)]


def wait_for_worker(timeout: float) -> tuple[float, int, int]:
    """Until no submitted case waits for its computation and no notice for its sending.
    Returns (seconds waited, computations still missing, notices still unsent)."""
    start = time.monotonic()
    while True:
        stale = Application.objects.filter(
            reference__isnull=False,
            computed_at__isnull=True,
            status__in=Application.OPEN_STATUSES,
        ).count()
        unsent = Notice.objects.filter(
            status__in=[Notice.Status.PENDING, Notice.Status.SENDING]
        ).count()
        waited = time.monotonic() - start
        if (not stale and not unsent) or waited > timeout:
            return waited, stale, unsent
        time.sleep(1)


def submissions(acknowledged: list[dict]) -> dict[str, int]:
    ids = [s["id"] for s in acknowledged]
    rows = {
        a.pk: a
        for a in Application.objects.filter(pk__in=ids).annotate(
            submitted_notices=Count("notices", filter=Q(notices__kind=Notice.Kind.SUBMITTED)),
            sent_notices=Count(
                "notices",
                filter=Q(notices__kind=Notice.Kind.SUBMITTED, notices__status=Notice.Status.SENT),
            ),
        )
    }
    figures = Counter()
    for s in acknowledged:
        row = rows.get(s["id"])
        if row is None or row.status not in LATER or row.submitted_at is None:
            figures["lost"] += 1
            continue
        figures["rows"] += 1
        figures["reference_differs"] += row.reference != s["reference"]
        figures["computation_missing"] += row.computed_at is None
        figures["notice_missing"] += row.submitted_notices == 0
        figures["notice_doubled"] += row.submitted_notices > 1
        figures["notice_unsent"] += row.sent_notices != row.submitted_notices
    acknowledged_refs = {s["reference"] for s in acknowledged}
    committed = set(
        Application.objects.filter(reference__isnull=False).values_list("reference", flat=True)
    )
    # A submit that committed but whose answer the client never counted as a success.
    figures["committed_unacknowledged"] = len(committed - acknowledged_refs)
    numbers = sorted(int(ref.rsplit("-", 1)[1]) for ref in committed)
    last = sum(ReferenceCounter.objects.values_list("last_number", flat=True))
    figures["references"] = len(committed)
    figures["reference_gaps"] = 0 if numbers == list(range(1, last + 1)) else 1
    return figures


def approvals(acknowledged: list[dict]) -> Counter:
    ids = {a["id"] for a in acknowledged}
    figures = Counter(acknowledged=len(acknowledged), distinct=len(ids))
    rows = Application.objects.filter(pk__in=ids).annotate(
        approved_notices=Count("notices", filter=Q(notices__kind=Notice.Kind.APPROVED))
    )
    found = 0
    for row in rows:
        found += 1
        figures["not_approved"] += row.status != Application.Status.APPROVED
        figures["amount_differs"] += row.approved_amount != row.computed_discount
        figures["notice_missing"] += row.approved_notices == 0
        figures["notice_doubled"] += row.approved_notices > 1
    figures["lost"] = len(ids) - found
    return figures


def mail_log(path: Path | None) -> tuple[int, int] | None:
    """(e-mails written by the console backend, distinct Message-IDs) from the worker's log."""
    if path is None or not path.exists():
        return None
    ids = re.findall(
        r"^(?:\[[^\]]*\] )?Message-ID: (<[^>]+>)", path.read_text(errors="replace"), re.M
    )
    return len(ids), len(set(ids))


def healthz_polls(path: Path) -> str | None:
    """'N polls, M not 200, slowest S s' from run.sh's probe (status and seconds a line)."""
    if not path.exists():
        return None
    polls = [line.split() for line in path.read_text().splitlines() if line.strip()]
    if not polls:
        return None
    bad = Counter(code for code, _seconds in polls if code != "200")
    slowest = max(float(seconds) for _code, seconds in polls)
    answers = ", ".join(f"{n} x {code}" for code, n in sorted(bad.items())) or "none"
    return f"{len(polls)} polls, not 200: {answers}; slowest {slowest:.2f} s"


def locust_table(results: dict) -> list[str]:
    """The per-endpoint rows and the total (Markdown), from the figures locust left."""
    lines = [
        "| endpoint | requests | failures | rps | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def cells(row: dict) -> str:
        return (
            f"{row['requests']} | {row['failures']} | {row['rps']:.2f} | {row['p50']:.0f} | "
            f"{row['p95']:.0f} | {row['p99']:.0f} | {row['max']:.0f}"
        )

    lines.extend(f"| {row['name']} | {cells(row)} |" for row in results["endpoints"])
    lines.append(f"| **all** | {cells(results['total'])} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--mail-log", type=Path)
    parser.add_argument("--drain-timeout", type=float, default=180)
    args = parser.parse_args()

    results = json.loads((args.run_dir / "results.json").read_text())
    waited, stale, unsent = wait_for_worker(args.drain_timeout)
    sub = submissions(results["submitted"])
    app = approvals(results["approved"])
    mails = mail_log(args.mail_log)
    verdict = audit.verify()
    table = locust_table(results)
    failures = [
        f"- {e['occurrences']} x {e['name']}: {e['error'][:160]}" for e in results["errors"]
    ]

    out = [*table, ""]
    out.append(
        f"- submissions acknowledged (200): {len(results['submitted'])}; rows found: "
        f"{sub['rows']}; **lost: {sub['lost']}**; reference differs: {sub['reference_differs']}"
    )
    out.append(
        f"- after the rush the worker needed {waited:.0f} s to catch up "
        f"(still stale: {stale}, notices unsent: {unsent}); computation missing: "
        f"{sub['computation_missing']}"
    )
    out.append(
        f"- 'submitted' notices: missing {sub['notice_missing']}, "
        f"**doubled {sub['notice_doubled']}**, not sent {sub['notice_unsent']}"
    )
    out.append(
        f"- references issued: {sub['references']}, gaps or duplicates: {sub['reference_gaps']}; "
        f"committed but not acknowledged to a client: {sub['committed_unacknowledged']}"
    )
    out.append(
        f"- approvals acknowledged: {app['acknowledged']} ({app['distinct']} cases); lost "
        f"{app['lost']}, not approved {app['not_approved']}, amount differs "
        f"{app['amount_differs']}, 'approved' notice missing {app['notice_missing']}, doubled "
        f"{app['notice_doubled']}"
    )
    if mails is not None:
        out.append(f"- e-mails written: {mails[0]}, distinct Message-IDs: {mails[1]}")
    probe = healthz_polls(args.run_dir / "healthz.txt")
    if probe is not None:
        out.append(f"- /healthz during the rush (every 2 s): {probe}")
    out.append(
        f"- audit chain: {'intact' if verdict.intact else 'BROKEN: ' + verdict.reason} "
        f"({verdict.checked} entries)"
    )
    conflicts = results.get("expected_conflicts") or {}
    out.append(
        "- expected 409s (counted as successes): "
        + (", ".join(f"{k}: {v}" for k, v in sorted(conflicts.items())) or "none")
    )
    if results.get("applicant_accounts_exhausted"):
        out.append(
            f"- the prepared applicant accounts ran out ({results['applicant_accounts_exhausted']}"
            " users stopped early): prepare more"
        )
    if failures:
        out.append("- failures:")
        out.extend(f"  {line}" for line in failures)
    text = "\n".join(out)
    print(text)
    (args.run_dir / "summary.md").write_text(text + "\n")

    missed = [
        name
        for name, bad in (
            ("failed requests", results["total"]["failures"]),
            ("lost submissions", sub["lost"] + app["lost"]),
            ("computations missing", sub["computation_missing"]),
            ("notices missing", sub["notice_missing"] + app["notice_missing"]),
            ("notices doubled", sub["notice_doubled"] + app["notice_doubled"]),
            ("reference gaps", sub["reference_gaps"]),
            ("e-mails doubled", mails[0] - mails[1] if mails else 0),
            ("audit chain", not verdict.intact),
        )
        if bad
    ]
    print("load goals: " + ("met" if not missed else "MISSED: " + ", ".join(missed)))
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
