"""A deadline rush: applicants fill in and submit applications while officers work their queues.

Started by bench/load/run.sh (`make load`), which prepares the people (bench/load/prepare.py),
starts gunicorn and a Celery worker on production settings, and checks the database after.
Only the API is driven, as the phones' and the office's clients do:

- Applicant (the majority): takes the next prepared account, gets a token, reads /me/,
  creates an application for its company, adds two machines, uploads the six required
  documents and a second invoice (PDFs and a JPEG made here), reads the application back,
  submits it, then reads its notices. One flow per account: a company has one live
  application per programme.
- Verifier (one per prepared verifier, with its TOTP code): its own cases first, else a
  random case of the submitted queue: start_review, breakdown, documents, pass_review,
  recommend with the site-visit checklist.
- Approver (one per prepared approver): a random recommended case: breakdown, approve.

Officers racing for one case, and an approval that arrives before the worker has computed the
refund, get the contract's 409 (invalid_transition, stale_computation): those answers are
right, so they count as successes, under their own name ("... [409 code]") so the table
shows how many there were. Anything else unexpected is a failure.

When every user has stopped, the figures per endpoint (requests, failures, requests per
second, p50/p95/p99, max) and the acknowledged submissions and approvals are written to
LOAD_RESULTS for check.py; locust's --csv files keep the history.

Each simulated user sends X-Forwarded-For with an address of its own and X-Forwarded-Proto
https, as the TLS proxy in front of gunicorn would (run.sh sets TRUSTED_PROXY_COUNT=1): the
per-address throttles and the HTTPS redirect stay as production has them.

Environment: LOAD_PEOPLE (prepare.py's JSON), LOAD_RESULTS (where the acknowledged
submissions and approvals are written for bench/load/check.py), LOAD_THINK_MAX (seconds,
default 1.0: the longest pause between two steps of one user).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import itertools
import json
import os
import random
import struct
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from locust import HttpUser, between, events, task
from locust.exception import StopUser
from PIL import Image

PEOPLE = json.loads(Path(os.environ["LOAD_PEOPLE"]).read_text())
RESULTS = Path(os.environ["LOAD_RESULTS"])
THINK_MAX = float(os.environ.get("LOAD_THINK_MAX", "1.0"))

API = "/api/v1"
REQUIRED_PDFS = ("nib", "npwp", "tax_invoice", "payment_proof")

# A small valid PDF and JPEG, made here: the upload check reads the content, not the name.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (40, 120, 60)).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


JPEG = _jpeg()

# What the run acknowledged, for check.py: every 200 submit and approve, and the expected 409s.
submitted: list[dict] = []
approved: list[dict] = []
expected_conflicts: Counter[str] = Counter()
_applicant_accounts = iter(PEOPLE["applicants"])
_verifier_accounts = iter(PEOPLE["verifiers"])
_approver_accounts = iter(PEOPLE["approvers"])
_addresses = itertools.count(1)
pool_exhausted = Counter()


def totp(secret: str, at: float | None = None) -> str:
    """The 6-digit code (RFC 6238: HMAC-SHA1, 30-second steps) an authenticator app shows."""
    counter = int((time.time() if at is None else at) // 30)
    key = base64.b32decode(secret.encode("ascii"), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def think() -> None:
    """A user's pause between two steps (gevent patches time.sleep under locust)."""
    time.sleep(random.uniform(0.1, THINK_MAX))


class ApiUser(HttpUser):
    abstract = True
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        n = next(_addresses)
        self.client.headers.update(
            {
                "X-Forwarded-For": f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}",
                "X-Forwarded-Proto": "https",
            }
        )

    def call(
        self,
        method: str,
        path: str,
        name: str,
        expect: int,
        *,
        tolerate: tuple[str, ...] = (),
        **kwargs: object,
    ) -> tuple[int, dict | list | None]:
        """One request; a status other than `expect` fails it, except a 409 whose code is in
        `tolerate` (renamed "name [409 code]" and counted). Returns (status, JSON or None)."""
        with self.client.request(
            method, path, name=name, catch_response=True, **kwargs
        ) as response:
            try:
                body = response.json()
            except ValueError:
                body = None
            code = body.get("code") if isinstance(body, dict) else None
            if response.status_code == expect:
                response.success()
            elif response.status_code == 409 and code in tolerate:
                response.request_meta["name"] = f"{name} [409 {code}]"
                expected_conflicts[f"{name.split()[-1]} {code}"] += 1
                response.success()
            else:
                snippet = response.text[:200].replace("\n", " ") if response.text else ""
                response.failure(f"{response.status_code} {snippet}")
            return response.status_code, body

    def log_in(self, username: str, name: str, otp: str | None = None) -> bool:
        payload = {"username": username, "password": PEOPLE["password"]}
        if otp is not None:
            payload["otp"] = otp
        status, body = self.call("POST", f"{API}/auth/token/", name, 200, json=payload)
        if status != 200:
            return False
        self.client.headers["Authorization"] = f"Token {body['token']}"
        return True


class Applicant(ApiUser):
    weight = 1  # every user the fixed officers leave

    @task
    def apply(self) -> None:
        username = next(_applicant_accounts, None)
        if username is None:
            pool_exhausted["applicant"] += 1
            raise StopUser()
        self.client.headers.pop("Authorization", None)
        if not self.log_in(username, f"POST {API}/auth/token/ (applicant)"):
            return
        think()
        status, me = self.call("GET", f"{API}/me/", f"GET {API}/me/", 200)
        if status != 200 or not me["companies"]:
            return
        think()
        status, application = self.call(
            "POST",
            f"{API}/applications/",
            f"POST {API}/applications/",
            201,
            json={"programme": PEOPLE["programme"], "company": me["companies"][0]},
        )
        if status != 201:
            return
        case = f"{API}/applications/{application['id']}"
        items = []
        for k in (1, 2):
            think()
            status, item = self.call(
                "POST",
                f"{case}/items/",
                f"POST {API}/applications/[id]/items/",
                201,
                json=_machine(username, k),
            )
            if status != 201:
                return
            items.append(item["id"])
        uploads = [
            ("invoice", items[0], "faktur-1.pdf", PDF, "application/pdf"),
            ("invoice", items[1], "faktur-2.pdf", PDF, "application/pdf"),
            ("installation_photo", items[0], "mesin.jpg", JPEG, "image/jpeg"),
            *((kind, None, f"{kind}.pdf", PDF, "application/pdf") for kind in REQUIRED_PDFS),
        ]
        for kind, item, filename, content, content_type in uploads:
            think()
            data = {"kind": kind, **({"item": str(item)} if item else {})}
            status, _document = self.call(
                "POST",
                f"{case}/documents/",
                f"POST {API}/applications/[id]/documents/",
                201,
                data=data,
                files={"file": (filename, content, content_type)},
            )
            if status != 201:
                return
        think()
        self.call("GET", f"{case}/", f"GET {API}/applications/[id]/", 200)
        think()
        status, answer = self.call(
            "POST",
            f"{case}/transitions/",
            f"POST {API}/applications/[id]/transitions/ submit",
            200,
            json={"action": "submit"},
        )
        if status == 200:
            submitted.append(
                {"id": answer["id"], "reference": answer["reference"], "username": username}
            )
        think()
        self.call("GET", f"{API}/notifications/", f"GET {API}/notifications/", 200)


def _machine(username: str, k: int) -> dict:
    """An eligible machine with an invoice and serial number no other item claims."""
    today = time.strftime("%Y-%m-%d", time.localtime(time.time() - 60 * 86400))
    installed = time.strftime("%Y-%m-%d", time.localtime(time.time() - 30 * 86400))
    return {
        "description": "Mesin press hidrolik",
        "brand": "Krisbow",
        "model": "HP-20",
        "serial_number": f"LOAD-{username}-{k}",
        "origin": "domestic" if k == 1 else "imported",
        "supplier_name": "PT Sumber Mesin",
        "supplier_npwp": "01.234.567.8-901.000",
        "invoice_number": f"INV/LOAD/{username}/{k}",
        "tax_invoice_number": f"010.000-26.{username[-5:]}{k:03d}",
        "invoice_date": today,
        "price": 50_000_000,
        "vat": 5_500_000,
        "payment_method": "bank_transfer",
        "is_new": True,
        "installed_on": installed,
    }


class Officer(ApiUser):
    abstract = True
    role = ""
    accounts: Iterator[dict]

    def on_start(self) -> None:
        super().on_start()
        person = next(self.accounts, None)
        if person is None:
            raise StopUser()
        if not self.log_in(
            person["username"], f"POST {API}/auth/token/ (officer)", totp(person["totp_secret"])
        ):
            raise StopUser()
        _status, me = self.call("GET", f"{API}/me/", f"GET {API}/me/", 200)
        self.user_id = me["id"]

    def queue(self, query: str, label: str) -> list[dict]:
        status, page = self.call(
            "GET", f"{API}/applications/?{query}", f"GET {API}/applications/?{label}", 200
        )
        return page["results"] if status == 200 else []

    def read(self, case: int, part: str) -> None:
        self.call(
            "GET",
            f"{API}/applications/{case}/{part}/",
            f"GET {API}/applications/[id]/{part}/",
            200,
        )

    def act(self, case: int, action: str, **payload: object) -> int:
        status, _body = self.call(
            "POST",
            f"{API}/applications/{case}/transitions/",
            f"POST {API}/applications/[id]/transitions/ {action}",
            200,
            tolerate=("invalid_transition", "stale_computation"),
            json={"action": action, **payload},
        )
        return status


class Verifier(Officer):
    fixed_count = len(PEOPLE["verifiers"])
    accounts = _verifier_accounts

    @task
    def work_queue(self) -> None:
        mine = self.queue(
            f"status=under_review&status=field_verification&case_officer={self.user_id}"
            "&page_size=5",
            "status=under_review&status=field_verification&case_officer=[me]",
        )
        if mine:
            case, stage = mine[0]["id"], mine[0]["status"]
        else:
            waiting = self.queue("status=submitted&page_size=20", "status=submitted")
            if not waiting:
                return
            case = random.choice(waiting)["id"]
            think()
            if self.act(case, "start_review") != 200:
                return  # another verifier took it first
            stage = "under_review"
        think()
        self.read(case, "breakdown")
        self.read(case, "documents")
        if stage == "under_review":
            think()
            if self.act(case, "pass_review") != 200:
                return
        think()
        checklist = {
            "machines_present": True,
            "machines_new": True,
            "machines_installed": True,
            "not_transferred": True,
        }
        self.act(case, "recommend", checklist=checklist, comment="Kunjungan lapangan sesuai.")


class Approver(Officer):
    fixed_count = len(PEOPLE["approvers"])
    accounts = _approver_accounts

    @task
    def work_queue(self) -> None:
        waiting = self.queue("status=recommended&page_size=20", "status=recommended")
        if not waiting:
            return
        case = random.choice(waiting)["id"]
        think()
        self.read(case, "breakdown")
        think()
        if self.act(case, "approve") == 200:
            approved.append({"id": case})


def _figures(entry: object) -> dict:
    """One endpoint's (or the total's) figures, as locust's own summary prints them."""
    return {
        "name": entry.name,
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "rps": entry.total_rps,
        "p50": entry.get_response_time_percentile(0.5),
        "p95": entry.get_response_time_percentile(0.95),
        "p99": entry.get_response_time_percentile(0.99),
        "max": entry.max_response_time,
    }


@events.test_stop.add_listener
def write_results(environment: object, **_kwargs: object) -> None:
    """Fired once every user has stopped: the figures are final here (the --csv files are
    written on a timer and may miss the last requests of the stop timeout)."""
    stats = environment.stats
    RESULTS.write_text(
        json.dumps(
            {
                "endpoints": [
                    _figures(e) for e in sorted(stats.entries.values(), key=lambda e: e.name)
                ],
                "total": _figures(stats.total),
                "errors": [
                    {"occurrences": e.occurrences, "name": e.name, "error": str(e.error)}
                    for e in stats.errors.values()
                ],
                "submitted": submitted,
                "approved": approved,
                "expected_conflicts": dict(expected_conflicts),
                "applicant_accounts_exhausted": pool_exhausted["applicant"],
            },
            indent=1,
        )
    )
