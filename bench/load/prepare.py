"""Prepare the deadline-rush load test's people: a programme, applicants with companies,
verifiers and approvers with an authenticator app; write what the simulated users need to log in.

Run by bench/load/run.sh against its own fresh database, after `migrate`:

    .venv/bin/python bench/load/prepare.py --applicants 600 --verifiers 4 --approvers 2 \\
        --out var/load/RUN/people.json

The accounts share one random password, hashed once (hashing it for each of hundreds of
accounts would take minutes); each officer gets its own TOTP secret, written to the JSON file
so the locust file can compute the code the officer's app would show. The file holds
secrets of a throwaway database only: run.sh keeps it under var/ (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import secrets
import sys
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

import django  # noqa: E402

django.setup()

from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes  # noqa: E402
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from accounts.roles import APPLICANT, APPROVER, VERIFIER, grant_role, role_group  # noqa: E402
from subsidy.models import Company, Programme, ProgrammeRate  # noqa: E402

REQUIRED = ["nib", "npwp", "invoice", "tax_invoice", "payment_proof", "installation_photo"]


def _programme() -> Programme:
    """A programme open today, with a budget no rush can exhaust: the test measures the
    workflow, not a refusal."""
    today = timezone.localdate()
    programme = Programme.objects.create(
        year=today.year,
        name=f"Program Uji Beban {today.year}",
        application_opens=today - dt.timedelta(days=30),
        application_closes=today + dt.timedelta(days=30),
        purchase_from=today - dt.timedelta(days=365),
        purchase_to=today,
        install_by=today,
        budget=1_000_000_000_000,
        min_refund=5_000_000,
        max_refund_per_company=300_000_000,
        max_participations=3,
        required_documents=REQUIRED,
    )
    for scale in ("kecil", "menengah"):
        for origin, rate in (("domestic", "0.4000"), ("imported", "0.2500")):
            ProgrammeRate.objects.create(
                programme=programme, scale=scale, origin=origin, rate=Decimal(rate)
            )
    return programme


def _applicants(count: int, password_hash: str) -> list[str]:
    """`count` applicants, each the one member of its own complete company."""
    users = User.objects.bulk_create(
        User(
            username=f"pemohon{n:05d}",
            email=f"pemohon{n:05d}@load.invalid",
            password=password_hash,
            language="id" if n % 4 else "en",
        )
        for n in range(count)
    )
    companies = Company.objects.bulk_create(
        Company(
            name=f"CV Beban Jaya {n:05d}",
            nib=f"{8800000000000 + n:013d}",
            npwp=f"{20000000000000 + n:015d}",
            kbli="25120",
            workers=12,
            investment_value=500_000_000,
            province="33",
            regency="33.10",
            address=f"Jl. Uji Beban No. {n}, Klaten",
            bank_name="BRI",
            bank_account_number=f"0031{n:08d}",
            bank_account_name=f"CV Beban Jaya {n:05d}",
        )
        for n in range(count)
    )
    Membership = Company.members.through
    Membership.objects.bulk_create(
        Membership(company_id=company.pk, user_id=user.pk)
        for company, user in zip(companies, users, strict=True)
    )
    Groups = User.groups.through
    group = role_group(APPLICANT)
    Groups.objects.bulk_create(Groups(user_id=user.pk, group_id=group.pk) for user in users)
    return [user.username for user in users]


def _officers(role: str, prefix: str, count: int, password_hash: str) -> list[dict]:
    """Officers of one role, each with an authenticator app (staff must send a code)."""
    people = []
    for n in range(count):
        user = User.objects.create(
            username=f"{prefix}{n:02d}",
            email=f"{prefix}{n:02d}@load.invalid",
            password=password_hash,
        )
        grant_role(user, role)
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        RecoveryCodes.activate(user)
        people.append({"username": user.username, "totp_secret": secret})
    return people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applicants", type=int, default=600)
    parser.add_argument("--verifiers", type=int, default=4)
    parser.add_argument("--approvers", type=int, default=2)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()

    password = secrets.token_urlsafe(18)
    password_hash = make_password(password)
    with transaction.atomic():
        programme = _programme()
        applicants = _applicants(args.applicants, password_hash)
        verifiers = _officers(VERIFIER, "verifikator", args.verifiers, password_hash)
        approvers = _officers(APPROVER, "penyetuju", args.approvers, password_hash)
    people = {
        "password": password,
        "programme": programme.pk,
        "applicants": applicants,
        "verifiers": verifiers,
        "approvers": approvers,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(people, indent=1))
    args.out.chmod(0o600)
    print(
        f"prepared programme {programme.year} (id {programme.pk}), {len(applicants)} applicants "
        f"with companies, {len(verifiers)} verifiers, {len(approvers)} approvers -> {args.out}"
    )


if __name__ == "__main__":
    main()
