"""A programme's settings: exactly the checks of DOMAIN.md, superusers only, and recomputation."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from config.errors import ServiceError
from subsidy import audit
from subsidy.models import Application, AuditEntry, Programme, ProgrammeRate
from subsidy.services import applications as application_services
from subsidy.services import programmes as programme_services
from subsidy.workflow import actions as workflow
from tests.factories import ApplicationFactory, CompanyFactory, UserFactory
from tests.utils import complete_application, item_data

pytestmark = pytest.mark.django_db

S = Application.Status


def rates(**changes: str) -> list[dict]:
    """The four rates; rates(kecil_domestic="0.5") changes one."""
    values = {
        ("kecil", "domestic"): "0.4000",
        ("kecil", "imported"): "0.2500",
        ("menengah", "domestic"): "0.4000",
        ("menengah", "imported"): "0.2500",
    }
    for key, rate in changes.items():
        values[tuple(key.split("_"))] = rate
    return [{"scale": s, "origin": o, "rate": r} for (s, o), r in values.items()]


def programme_data(**overrides: object) -> dict:
    today = timezone.localdate()
    data = {
        "year": 2001,  # the factory takes years from 2050 up: no collision
        "name": "Program Restrukturisasi 2001",
        "application_opens": today - dt.timedelta(days=10),
        "application_closes": today + dt.timedelta(days=50),
        "purchase_from": today - dt.timedelta(days=300),
        "purchase_to": today,
        "install_by": today,
        "budget": 10_000_000_000,
        "min_refund": 5_000_000,
        "max_refund_per_company": 300_000_000,
        "max_participations": 3,
        "required_documents": ["invoice", "tax_invoice"],
        "rates": rates(),
    }
    data.update(overrides)
    return data


def stored() -> tuple[int, int, int]:
    return Programme.objects.count(), ProgrammeRate.objects.count(), AuditEntry.objects.count()


def refused(field: str, call, **kwargs) -> None:
    before = stored()
    with pytest.raises(ValidationError) as caught:
        call(**kwargs)
    assert field in caught.value.message_dict, caught.value.message_dict
    assert stored() == before


# --- The checks ----------------------------------------------------------------------------


def test_superuser_creates_a_programme_with_its_four_rates(superuser):
    programme = programme_services.programme_create(by=superuser, **programme_data())
    assert programme.terms().rates == {
        ("kecil", "domestic"): Decimal("0.4000"),
        ("kecil", "imported"): Decimal("0.2500"),
        ("menengah", "domestic"): Decimal("0.4000"),
        ("menengah", "imported"): Decimal("0.2500"),
    }
    entry = AuditEntry.objects.order_by("-seq").first()
    assert (entry.action, entry.object_type, entry.object_id) == (
        "create",
        "programme",
        programme.pk,
    )


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        (
            "application_closes",
            {"application_opens": dt.date(2301, 5, 2), "application_closes": dt.date(2301, 5, 1)},
        ),
        ("purchase_to", {"purchase_from": dt.date(2301, 5, 2), "purchase_to": dt.date(2301, 5, 1)}),
        ("max_refund_per_company", {"min_refund": 300_000_001}),
        ("rates", {"rates": rates()[:3]}),
        ("rates", {"rates": [*rates(), {"scale": "besar", "origin": "domestic", "rate": "0.1"}]}),
        ("rates", {"rates": [*rates()[:3], rates()[0]]}),  # one pair twice, one missing
        ("rates", {"rates": [*rates()[:3], {"scale": "besar", "origin": "imported", "rate": "1"}]}),
        ("rates", {"rates": rates(kecil_domestic="0.40001")}),  # five places
        ("rates", {"rates": rates(kecil_domestic="0")}),
        ("rates", {"rates": rates(kecil_domestic="-0.25")}),
        ("rates", {"rates": rates(kecil_domestic="1.0001")}),
        ("rates", {"rates": rates(kecil_domestic="empat puluh")}),
        ("rates", {"rates": rates(kecil_domestic="NaN")}),
        ("rates", {"rates": rates(kecil_domestic="1E+30")}),
        ("rates", {"rates": None}),
        ("rates", {"rates": "0.4"}),
        ("budget", {"budget": 1.5}),
        ("budget", {"budget": "banyak"}),
        # Typed as text, as a form would send them: still compared as dates.
        (
            "application_closes",
            {"application_opens": "2301-05-02", "application_closes": "2301-05-01"},
        ),
        ("purchase_from", {"purchase_from": "2301-02-30"}),
    ],
)
def test_programme_create_refuses_what_domain_md_forbids(superuser, field, overrides):
    refused(field, programme_services.programme_create, by=superuser, **programme_data(**overrides))


def test_programme_year_is_unique(superuser):
    programme_services.programme_create(by=superuser, **programme_data(year=2002))
    refused("year", programme_services.programme_create, by=superuser, **programme_data(year=2002))


# --- The year once a reference carries it --------------------------------------------------


def _submitted(programme, applicant, company) -> Application:
    application = application_services.application_create(
        by=applicant, programme=programme, company=company
    )
    complete_application(application, applicant)
    return workflow.application_submit(application=application, by=applicant)


def test_programme_year_cannot_change_once_an_application_has_a_reference(
    superuser, programme, applicant, company
):
    year = programme.year
    application = _submitted(programme, applicant, company)
    assert application.reference == f"RMP-{year}-000001"
    entries = AuditEntry.objects.count()

    with pytest.raises(ServiceError) as caught:
        programme_services.programme_update(programme=programme, by=superuser, year=year + 1)

    assert (caught.value.code, caught.value.status) == ("invalid_transition", 409)
    assert str(year) in str(caught.value.detail)
    programme.refresh_from_db()
    application.refresh_from_db()
    assert (programme.year, application.reference) == (year, f"RMP-{year}-000001")
    assert AuditEntry.objects.count() == entries


def test_programme_with_references_keeps_taking_other_changes_and_its_own_year(
    superuser, programme, applicant, company
):
    _submitted(programme, applicant, company)
    changed = programme_services.programme_update(
        programme=programme, by=superuser, year=programme.year, name="Program Baru"
    )
    assert changed.name == "Program Baru"


def test_programme_year_may_change_while_its_applications_are_drafts_and_then_numbers_them(
    superuser, programme, applicant, company
):
    draft = application_services.application_create(
        by=applicant, programme=programme, company=company
    )
    new_year = programme.year + 50
    programme_services.programme_update(programme=programme, by=superuser, year=new_year)
    complete_application(draft, applicant)
    submitted = workflow.application_submit(application=draft, by=applicant)
    assert submitted.reference == f"RMP-{new_year}-000001"


def test_programme_year_refusal_comes_after_the_field_checks(
    superuser, programme, applicant, company
):
    _submitted(programme, applicant, company)
    with pytest.raises(ValidationError) as caught:
        programme_services.programme_update(programme=programme, by=superuser, year="tahun")
    assert "year" in caught.value.message_dict


@pytest.mark.parametrize(
    "overrides",
    [
        {"rates": rates(kecil_domestic="1")},
        {"rates": rates(kecil_domestic="0.0001", menengah_imported="0.99")},
        {"rates": rates(kecil_domestic="0.35")},  # fewer places than four
        {"min_refund": 300_000_000},  # equal to the cap
        {"application_opens": dt.date(2301, 5, 1), "application_closes": dt.date(2301, 5, 1)},
        # Not checks of DOMAIN.md, so not refused: windows are not tied to the year, calls
        # straddle years, and install_by is a single date.
        {"year": 2016, "application_opens": dt.date(2025, 12, 1)},
        {"install_by": dt.date(2000, 1, 1)},
        {"max_participations": None},
    ],
)
def test_programme_create_accepts_everything_domain_md_allows(superuser, overrides):
    programme = programme_services.programme_create(by=superuser, **programme_data(**overrides))
    assert programme.pk is not None
    assert ProgrammeRate.objects.filter(programme=programme).count() == 4


def test_a_rate_of_one_is_stored_as_one(superuser):
    programme = programme_services.programme_create(
        by=superuser, **programme_data(rates=rates(kecil_domestic="1"))
    )
    assert programme.rates.get(scale="kecil", origin="domestic").rate == Decimal("1")


@pytest.mark.parametrize("role", ["applicant", "verifier", "approver", "finance", "auditor"])
def test_only_superusers_create_or_change_programmes(role, programme):
    user = UserFactory(roles=[role], is_staff=True)  # is_staff is no role, either
    before = stored()
    with pytest.raises(ServiceError) as caught:
        programme_services.programme_create(by=user, **programme_data())
    assert caught.value.code == "forbidden"
    with pytest.raises(ServiceError) as caught:
        programme_services.programme_update(programme=programme, by=user, budget=1)
    assert caught.value.code == "forbidden"
    assert stored() == before
    programme.refresh_from_db()
    assert programme.budget == 10_000_000_000


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("year", "taken"),
        ("purchase_to", {"purchase_to": dt.date(2000, 1, 1)}),  # before purchase_from
        ("max_refund_per_company", {"max_refund_per_company": 4_999_999}),
        ("rates", {"rates": rates(menengah_imported="0.25001")}),
    ],
)
def test_programme_update_refuses_and_changes_nothing(superuser, programme, field, changes):
    if changes == "taken":
        changes = {
            "year": programme_services.programme_create(by=superuser, **programme_data()).year
        }
    before = audit.snapshot(programme, programme_services.PROGRAMME_FIELDS)
    refused(
        field, programme_services.programme_update, programme=programme, by=superuser, **changes
    )
    programme.refresh_from_db()
    assert audit.snapshot(programme, programme_services.PROGRAMME_FIELDS) == before
    assert programme.terms().rates[("menengah", "imported")] == Decimal("0.2500")


def test_budget_may_not_go_below_what_is_committed_and_disbursed(superuser, programme):
    ApplicationFactory(programme=programme, status=S.APPROVED, approved_amount=120_000_000)
    ApplicationFactory(
        programme=programme,
        status=S.DISBURSED,
        approved_amount=80_000_000,
        disbursed_amount=80_000_000,
    )
    # Rejected and withdrawn cases hold nothing.
    ApplicationFactory(programme=programme, status=S.REJECTED, approved_amount=None)
    refused(
        "budget",
        programme_services.programme_update,
        programme=programme,
        by=superuser,
        budget=199_999_999,
    )
    programme.refresh_from_db()
    assert programme.budget == 10_000_000_000
    programme_services.programme_update(programme=programme, by=superuser, budget=200_000_000)
    programme.refresh_from_db()
    assert programme.budget == 200_000_000


def test_programme_update_records_what_changed(superuser, programme):
    programme_services.programme_update(
        programme=programme, by=superuser, budget=9_000_000_000, rates=rates(kecil_domestic="0.5")
    )
    entry = AuditEntry.objects.order_by("-seq").first()
    assert entry.action == "update"
    assert entry.changes["budget"] == [10_000_000_000, 9_000_000_000]
    assert entry.changes["rates"][1]["kecil/domestic"] == "0.5000"


# --- Changes the computation reads -----------------------------------------------------------

OPEN = list(Application.OPEN_STATUSES)
DECIDED = [S.APPROVED, S.DISBURSED, S.REJECTED, S.WITHDRAWN]


@pytest.fixture
def one_of_each(applicant, programme, django_capture_on_commit_callbacks) -> dict[str, int]:
    """An application in every state, each with one 100,000,000 domestic item (40% = 40 M)."""
    ids = {}
    with django_capture_on_commit_callbacks(execute=True):
        for status in OPEN + DECIDED:
            company = CompanyFactory(members=[applicant])
            application = application_services.application_create(
                by=applicant, programme=programme, company=company
            )
            application_services.item_create(application=application, by=applicant, **item_data())
            ids[status] = application.pk
    for status, pk in ids.items():
        # Moving the states directly keeps this test about the programme, not the workflow;
        # the results stay those computed while the case was open, as in real life.
        Application.objects.filter(pk=pk).update(status=status)
    assert set(
        Application.objects.filter(pk__in=ids.values()).values_list("computed_discount", flat=True)
    ) == {40_000_000}
    return ids


@pytest.mark.parametrize(
    ("changes", "discount", "finding"),
    [
        ({"rates": rates(kecil_domestic="0.5")}, 50_000_000, None),
        ({"max_refund_per_company": 30_000_000}, 30_000_000, None),
        ({"min_refund": 45_000_000}, 40_000_000, "below_minimum"),
        ({"purchase_from": "tomorrow"}, 0, "purchase_outside_window"),
        ({"install_by": "long ago"}, 0, "not_installed"),
        ({"max_participations": 0}, 40_000_000, "participation_limit_reached"),
    ],
)
def test_a_change_the_computation_reads_makes_open_applications_stale_then_recomputes_them(
    superuser,
    programme,
    one_of_each,
    django_capture_on_commit_callbacks,
    changes,
    discount,
    finding,
):
    today = timezone.localdate()
    if changes.get("purchase_from") == "tomorrow":
        changes = {"purchase_from": today - dt.timedelta(days=10)}
    if changes.get("install_by") == "long ago":
        changes = {"install_by": today - dt.timedelta(days=45)}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        programme_services.programme_update(programme=programme, by=superuser, **changes)
    apps = Application.objects.in_bulk(one_of_each.values())
    for status in OPEN:
        assert apps[one_of_each[status]].computed_at is None, status
    for status in DECIDED:
        assert apps[one_of_each[status]].computed_at is not None, status

    for callback in callbacks:  # the recompute_programme job
        callback()
    apps = Application.objects.in_bulk(one_of_each.values())
    for status in OPEN:
        application = apps[one_of_each[status]]
        assert application.computed_at is not None, status
        assert application.computed_discount == discount, status
        codes = {f["code"] for f in application.findings}
        assert finding is None or finding in codes, (status, codes)
    for status in DECIDED:
        application = apps[one_of_each[status]]
        assert application.computed_discount == 40_000_000, status
        assert application.findings == [], status


def test_new_rates_show_in_each_open_applications_breakdown(
    superuser, programme, one_of_each, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        programme_services.programme_update(
            programme=programme, by=superuser, rates=rates(kecil_domestic="0.3333")
        )
    for status in OPEN:
        breakdown = Application.objects.get(pk=one_of_each[status]).breakdown
        assert breakdown["items"][0]["rate"] == "0.3333"
        assert breakdown["items"][0]["discount"] == 33_330_000
        assert {"scale": "kecil", "origin": "domestic", "rate": "0.3333"} in breakdown["programme"][
            "rates"
        ]
    assert Application.objects.get(pk=one_of_each[S.APPROVED]).breakdown["items"][0]["rate"] == (
        "0.4000"
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"name": "Nama baru"},
        {"budget": 9_000_000_000},
        {"application_closes": dt.date(2999, 1, 1)},
        {"required_documents": ["invoice", "nib"]},
        {"rates": rates()},  # the same rates again
    ],
)
def test_a_change_the_computation_does_not_read_keeps_results(
    superuser, programme, one_of_each, django_capture_on_commit_callbacks, changes
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        programme_services.programme_update(programme=programme, by=superuser, **changes)
    assert not Application.objects.filter(
        pk__in=one_of_each.values(), computed_at__isnull=True
    ).exists()
    assert callbacks == []
