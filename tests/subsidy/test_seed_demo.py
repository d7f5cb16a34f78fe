"""Tests of manage.py seed_demo (subsidy/seeding.py): bulk demo data that obeys the rules."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from subsidy import regions
from subsidy.engine import rules
from subsidy.models import Application, Company, MachineItem, ReferenceCounter
from subsidy.selectors import programme_spent


def seed(applications: int = 40, **options: object) -> str:
    out = StringIO()
    call_command("seed_demo", applications=applications, stdout=out, **options)
    return out.getvalue()


def this_year() -> int:
    return timezone.localdate().year


def preset_applications():
    return Application.objects.filter(programme__year=this_year())


@pytest.mark.django_db
def test_seed_demo_creates_the_applications_asked_for():
    seed(40)
    assert preset_applications().count() == 40
    assert Company.objects.count() == 40
    assert MachineItem.objects.filter(application__programme__year=this_year()).count() == 120


@pytest.mark.django_db
def test_seed_demo_covers_every_status():
    seed(40)
    statuses = set(preset_applications().values_list("status", flat=True))
    assert statuses == set(Application.Status.values)


@pytest.mark.django_db
def test_seed_demo_sets_the_claim_keys_as_save_would():
    seed(40)
    for item in MachineItem.objects.all():
        assert item.invoice_key == rules.invoice_key(item.supplier_npwp, item.invoice_number)
        assert item.serial_key == rules.serial_key(item.serial_number)
        assert item.invoice_key and item.serial_key


@pytest.mark.django_db
def test_seed_demo_references_are_gap_free_from_the_counter():
    seed(40)
    submitted = preset_applications().exclude(submitted_at=None)
    references = sorted(submitted.values_list("reference", flat=True))
    assert references == [f"RMP-{this_year()}-{n:06d}" for n in range(1, len(references) + 1)]
    assert ReferenceCounter.objects.get(programme__year=this_year()).last_number == len(references)
    assert not preset_applications().filter(submitted_at=None).exclude(reference=None).exists()


@pytest.mark.django_db
def test_seed_demo_twice_continues_the_references_without_collisions():
    seed(20, seed=1)
    seed(20, seed=1)
    references = list(preset_applications().exclude(reference=None).values_list("reference"))
    numbers = sorted(int(ref[0].rsplit("-", 1)[1]) for ref in references)
    assert numbers == list(range(1, len(numbers) + 1))
    assert Company.objects.values("nib").distinct().count() == 40
    assert MachineItem.objects.values("serial_key").distinct().count() == 120


@pytest.mark.django_db
def test_seed_demo_keeps_committed_and_disbursed_within_the_budget():
    seed(40)
    programme = preset_applications().first().programme
    assert 0 < programme_spent(programme.pk) <= programme.budget
    for app in preset_applications().filter(status__in=["approved", "disbursed"]):
        assert app.approved_amount == app.computed_discount > 0
        assert app.computed_at is not None
        assert not {f["code"] for f in app.findings} & rules.BLOCKING_CODES
    for app in preset_applications().filter(status="disbursed"):
        assert app.disbursed_amount == app.approved_amount
        assert app.transfer_reference and app.transferred_on


@pytest.mark.django_db
def test_seed_demo_puts_every_regency_inside_its_province():
    seed(40)
    for province, regency in Company.objects.values_list("province", "regency"):
        assert province in regions.provinces()
        assert regions.regency_in_province(regency, province)


@pytest.mark.django_db
def test_seed_demo_computes_the_open_applications():
    seed(40)
    open_apps = preset_applications().filter(status__in=Application.OPEN_STATUSES)
    assert open_apps.exists()
    assert not open_apps.filter(computed_at=None).exists()


@pytest.mark.django_db
def test_seed_demo_no_compute_leaves_open_applications_stale():
    seed(40, no_compute=True)
    open_apps = preset_applications().filter(status__in=Application.OPEN_STATUSES)
    assert open_apps.exists()
    assert not open_apps.exclude(computed_at=None).exists()


@pytest.mark.django_db
def test_seed_demo_snapshot_is_the_company_snapshot():
    seed(40)
    for app in preset_applications().exclude(submitted_at=None).select_related("company"):
        assert app.company_snapshot == app.company.snapshot()


@pytest.mark.django_db
def test_seed_demo_refuses_outside_local_settings(settings):
    settings.DEMO_USERS_ALLOWED = False
    with pytest.raises(CommandError):
        seed(1)


@pytest.mark.django_db
def test_seed_demo_gives_each_company_one_applicant_member():
    seed(10)
    for company in Company.objects.prefetch_related("members__groups"):
        members = list(company.members.all())
        assert len(members) == 1
        assert [g.name for g in members[0].groups.all()] == ["applicant"]
        assert not members[0].has_usable_password()


@pytest.mark.django_db
def test_seed_demo_dates_are_not_in_the_future():
    seed(40)
    today, now = timezone.localdate(), timezone.now()
    items = MachineItem.objects.all()
    assert not items.filter(invoice_date__gt=today).exists()
    assert not items.filter(installed_on__gt=today).exists()
    assert not preset_applications().filter(submitted_at__gt=now).exists()
    assert not preset_applications().filter(status_changed_at__gt=now).exists()
    assert not preset_applications().filter(transferred_on__gt=today).exists()
