"""Bulk demo data: companies, applicants, applications in every state, machine items.

This is the bulk path of STYLE.md: the values are generated valid by construction and
stored with bulk_create in batches, with no save() per row, no audit entry and no task.
Everything is drawn from one random.Random(seed), so a seed reproduces the same data
(NIBs, serials and references continue after what the database already holds).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from random import Random

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.db.models import DateTimeField, ExpressionWrapper, F
from django.utils import timezone

from accounts.roles import APPLICANT, VERIFIER, role_group
from subsidy.demo.generate import (
    MAX_ITEMS_PER_APPLICATION,
    PERSON_FIRST,
    PERSON_LAST,
    first_nib,
    make_company,
    make_items,
    random_digits,
    supplier_pool,
    weighted_provinces,
)
from subsidy.demo.preset import ensure_preset_programme
from subsidy.engine import computation, rules
from subsidy.models import Application, Company, MachineItem, Programme, ReferenceCounter
from subsidy.selectors import programme_budget
from subsidy.workflow.transitions import CHECKLIST_ITEMS

User = get_user_model()
S = Application.Status


BATCH = 5000


# A realistic spread over the workflow: most cases are in progress, a few ended.
STATUS_WEIGHTS: Mapping[str, int] = {
    S.DRAFT: 10,
    S.SUBMITTED: 14,
    S.UNDER_REVIEW: 16,
    S.REVISION_REQUESTED: 7,
    S.FIELD_VERIFICATION: 10,
    S.RECOMMENDED: 12,
    S.APPROVED: 8,
    S.DISBURSED: 10,
    S.REJECTED: 7,
    S.WITHDRAWN: 6,
}


# Final states are reached only through the computation: such an application is stored in an
# open state first (the state it was in before), computed, and then moved.
_PROVISIONAL = {
    S.APPROVED: (S.RECOMMENDED,),
    S.DISBURSED: (S.RECOMMENDED,),
    S.REJECTED: (S.UNDER_REVIEW, S.FIELD_VERIFICATION, S.RECOMMENDED),
    S.WITHDRAWN: (S.SUBMITTED, S.UNDER_REVIEW, S.REVISION_REQUESTED),
}


_CHECKED_ON_SITE = (S.RECOMMENDED, S.APPROVED, S.DISBURSED)


_WITH_CASE_OFFICER = frozenset(
    {S.UNDER_REVIEW, S.REVISION_REQUESTED, S.FIELD_VERIFICATION, *_CHECKED_ON_SITE, S.REJECTED}
)


@dataclass
class SeedReport:
    """What one seeding run stored, and how long each step took."""

    programme_id: int
    programme_year: int
    companies: int = 0
    applications: int = 0
    items: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    spent: int = 0  # committed + disbursed of the programme after the run
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class _Plan:
    """One application to create: its final state and the submission facts."""

    status: str
    stored_status: str
    submitted_at: dt.datetime | None = None
    status_changed_at: dt.datetime | None = None
    profile: str = "ordinary"  # "clean" (to be approved), "ordinary" or "doubtful" (rejected)


def _plan(
    rng: Random,
    count: int,
    weights: Mapping[str, int],
    *,
    opens: dt.datetime,
    closes: dt.datetime,
    now: dt.datetime,
) -> list[_Plan]:
    """Final states (each weighted state at least once when count allows) in submission order."""
    states = [s for s, w in weights.items() if w > 0]
    if not states:
        raise ValueError("at least one status needs a positive weight")
    chosen = states[:count] if count >= len(states) else []
    chosen += rng.choices(states, [weights[s] for s in states], k=count - len(chosen))
    rng.shuffle(chosen)

    profiles = {S.APPROVED: "clean", S.DISBURSED: "clean", S.REJECTED: "doubtful"}
    plans = []
    for status in chosen:
        stored = rng.choice(_PROVISIONAL.get(status, (status,)))
        # A case may be withdrawn before it was ever submitted.
        if status == S.WITHDRAWN and rng.random() < 0.4:
            stored = S.DRAFT
        plans.append(_Plan(status, stored, profile=profiles.get(status, "ordinary")))

    # Submission times are drawn, sorted and handed out in creation order, so reference
    # numbers, ids and submission times all ascend together as they would in real life.
    submitted = [p for p in plans if p.stored_status != S.DRAFT]
    span = max((closes - opens).total_seconds(), 0)
    times = sorted(opens + dt.timedelta(seconds=rng.uniform(0, span)) for _ in submitted)
    for plan, at in zip(submitted, times, strict=True):
        plan.submitted_at = at
        # Review, approval and payment go on after the application window closes.
        later = 0 if plan.status == S.SUBMITTED else rng.random()
        plan.status_changed_at = at + (now - at) * later
    return plans


def _chunks(values: Sequence[int], size: int = 1000) -> Iterator[Sequence[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def seed_demo(
    *,
    applications: int,
    seed: int = 0,
    programme_year: int | None = None,
    items_per_application: int = 3,
    compute: bool = True,
    status_weights: Mapping[str, int] | None = None,
    batch_size: int = BATCH,
    progress: Callable[[str], object] | None = None,
) -> SeedReport:
    """Create `applications` demo companies, applicants and applications of a programme.

    The programme is the preset one of `programme_year` (default: the current year).
    """
    if applications < 0:
        raise ValueError("applications must not be negative")
    if not 1 <= items_per_application <= MAX_ITEMS_PER_APPLICATION:
        raise ValueError(f"items per application must be 1..{MAX_ITEMS_PER_APPLICATION}")
    weights = dict(STATUS_WEIGHTS if status_weights is None else status_weights)
    unknown = set(weights) - set(S.values)
    if unknown:
        raise ValueError(f"unknown statuses: {sorted(unknown)}")
    say = progress or (lambda message: None)
    started = time.perf_counter()
    rng = Random(seed)
    programme = ensure_preset_programme(year=programme_year)
    report = SeedReport(programme_id=programme.pk, programme_year=programme.year)

    now = timezone.now()
    today = timezone.localdate()
    opens = timezone.make_aware(dt.datetime.combine(programme.application_opens, dt.time(8)))
    closes = timezone.make_aware(dt.datetime.combine(programme.application_closes, dt.time(17)))
    plans = _plan(
        rng, applications, weights, opens=min(opens, now), closes=min(closes, now), now=now
    )

    provinces, province_weights = weighted_provinces()
    suppliers = supplier_pool()
    applicant_group = role_group(APPLICANT)
    officers = list(
        User.objects.filter(groups__name=VERIFIER, is_active=True)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    # A stream of its own: whether verifiers exist must not change the rest of the data.
    officer_rng = Random(seed)
    # One unusable hash for all: these accounts have no password, and hashing per row
    # would only cost time.
    no_password = make_password(None)
    checklist = dict.fromkeys(CHECKLIST_ITEMS, True)
    UserGroup = User.groups.through
    Membership = Company.members.through

    final_status: dict[int, str] = {}
    with transaction.atomic():
        # Approvals lock the programme row and submissions the counter: taking both orders
        # this run with them, so references stay gap-free and the budget is never overrun.
        Programme.objects.select_for_update().get(pk=programme.pk)
        ReferenceCounter.objects.get_or_create(programme=programme)
        counter = ReferenceCounter.objects.select_for_update().get(programme=programme)
        next_nib = first_nib(applications)
        first_app_id = None

        for start in range(0, applications, batch_size):
            batch = plans[start : start + batch_size]
            nibs = [f"{next_nib + start + i:013d}" for i in range(len(batch))]
            built = [
                make_company(rng, nib, plan.profile, provinces, province_weights)
                for nib, plan in zip(nibs, batch, strict=True)
            ]
            companies = [company for company, _ in built]
            users = [
                User(
                    username=f"ikm{nib}",
                    email=f"ikm{nib}@example.com",
                    first_name=rng.choice(PERSON_FIRST),
                    last_name=rng.choice(PERSON_LAST),
                    password=no_password,
                )
                for nib in nibs
            ]
            User.objects.bulk_create(users, batch_size=batch_size)
            UserGroup.objects.bulk_create(
                [UserGroup(user_id=u.pk, group_id=applicant_group.pk) for u in users],
                batch_size=batch_size,
            )
            Company.objects.bulk_create(companies, batch_size=batch_size)
            Membership.objects.bulk_create(
                [
                    Membership(company_id=c.pk, user_id=u.pk)
                    for c, u in zip(companies, users, strict=True)
                ],
                batch_size=batch_size,
            )

            apps = []
            for plan, company, user in zip(batch, companies, users, strict=True):
                app = Application(
                    programme=programme,
                    company=company,
                    status=plan.stored_status,
                    created_by=user,
                )
                if plan.submitted_at is not None:
                    counter.last_number += 1
                    app.reference = f"RMP-{programme.year}-{counter.last_number:06d}"
                    app.submitted_at = plan.submitted_at
                    app.status_changed_at = plan.status_changed_at
                    app.company_snapshot = company.snapshot()
                    if officers and plan.status in _WITH_CASE_OFFICER:
                        app.case_officer_id = officer_rng.choice(officers)
                    if plan.status in _CHECKED_ON_SITE or plan.stored_status == S.RECOMMENDED:
                        app.checklist = checklist
                    if plan.status == S.DISBURSED:
                        app.transferred_on = timezone.localdate(plan.status_changed_at)
                        app.transfer_reference = f"SP2D/{programme.year}/{random_digits(rng, 8)}"
                apps.append(app)
            Application.objects.bulk_create(apps, batch_size=batch_size)
            if first_app_id is None and apps:
                first_app_id = apps[0].pk
            for app, plan in zip(apps, batch, strict=True):
                if plan.status != app.status:
                    final_status[app.pk] = plan.status

            items = []
            for app, plan, (_, machines), nib in zip(apps, batch, built, nibs, strict=True):
                items += make_items(
                    rng,
                    application=app,
                    nib=nib,
                    count=items_per_application,
                    machines=machines,
                    profile=plan.profile,
                    programme=programme,
                    suppliers=suppliers,
                    today=today,
                )
            MachineItem.objects.bulk_create(items, batch_size=batch_size)
            report.companies += len(companies)
            report.applications += len(apps)
            report.items += len(items)
            say(
                f"  {report.applications}/{applications} applications, {report.items} items "
                f"({time.perf_counter() - started:.1f} s)"
            )
        counter.save(update_fields=["last_number"])
        report.seconds["insert"] = time.perf_counter() - started

        if first_app_id is not None:
            # auto_now_add stamped every row with this moment; a case was created before it
            # was submitted and last touched when its state last changed.
            Application.objects.filter(
                programme=programme, pk__gte=first_app_id, submitted_at__isnull=False
            ).update(
                created_at=ExpressionWrapper(
                    F("submitted_at") - dt.timedelta(days=2), output_field=DateTimeField()
                ),
                updated_at=F("status_changed_at"),
            )

        step = time.perf_counter()
        _finish(programme, final_status, say)
        report.seconds["finish"] = time.perf_counter() - step

    if compute:
        step = time.perf_counter()
        say("  computing the open applications (recompute_programme) ...")
        computation.recompute_programme(programme.pk)
        report.seconds["compute"] = time.perf_counter() - step

    if first_app_id is not None:
        report.by_status = dict(
            Counter(
                Application.objects.filter(programme=programme, pk__gte=first_app_id)
                .values_list("status", flat=True)
                .order_by()
            )
        )
    budget = programme_budget(programme)
    report.spent = budget["committed"] + budget["disbursed"]
    report.seconds["total"] = time.perf_counter() - started
    return report


def _finish(programme: Programme, final_status: Mapping[int, str], say: Callable) -> None:
    """Compute the cases bound for a final state, then move them there within the budget."""
    ids = sorted(final_status)
    if not ids:
        return
    say(f"  computing {len(ids)} applications bound for approved/disbursed/rejected/withdrawn")
    computation.compute_applications(ids)

    to_pay = [pk for pk in ids if final_status[pk] in (S.APPROVED, S.DISBURSED)]
    results = {}
    for chunk in _chunks(to_pay):
        results.update(
            (pk, (amount, at, findings))
            for pk, amount, at, findings in Application.objects.filter(pk__in=chunk).values_list(
                "pk", "computed_discount", "computed_at", "findings"
            )
        )
    # The same checks as application_approve, in submission (= id) order: first come,
    # first served until the budget is spent; the rest stay recommended.
    available = programme_budget(programme)["available"]
    moved: dict[str, list[int]] = {S.APPROVED: [], S.DISBURSED: [], S.RECOMMENDED: []}
    for pk in to_pay:
        amount, computed_at, findings = results[pk]
        refusal = rules.approval_refusal(
            computed=computed_at is not None,
            finding_codes=[f["code"] for f in findings],
            amount=amount,
            available=available,
        )
        if refusal:
            moved[S.RECOMMENDED].append(pk)
            continue
        available -= amount
        moved[final_status[pk]].append(pk)
    for pk in ids:
        if final_status[pk] in (S.REJECTED, S.WITHDRAWN):
            moved.setdefault(final_status[pk], []).append(pk)

    amount = F("computed_discount")
    changes = {
        S.APPROVED: {"status": S.APPROVED, "approved_amount": amount},
        S.DISBURSED: {"status": S.DISBURSED, "approved_amount": amount, "disbursed_amount": amount},
        S.RECOMMENDED: {"transfer_reference": "", "transferred_on": None},
        S.REJECTED: {"status": S.REJECTED},
        S.WITHDRAWN: {"status": S.WITHDRAWN},
    }
    for status, pks in moved.items():
        for chunk in _chunks(pks):
            Application.objects.filter(pk__in=chunk).update(**changes[status])
    if moved[S.RECOMMENDED]:
        say(f"  {len(moved[S.RECOMMENDED])} stay recommended (budget spent or not eligible)")
