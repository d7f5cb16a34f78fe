"""The programme report's figures: each table against a direct count, the stage days."""

import datetime as dt

import pytest
from django.utils import timezone

from subsidy import reports
from subsidy.models import Application, AuditEntry
from tests.factories import ApplicationFactory, CompanyFactory, MachineItemFactory
from tests.utils import audit_trigger_off

S = Application.Status
_seq = iter(range(1, 10**6))


def case(programme, *, status: str = S.SUBMITTED, province: str = "33", **fields) -> Application:
    company = CompanyFactory(province=province, regency=f"{province}.01")
    return ApplicationFactory(programme=programme, company=company, status=status, **fields)


def transitions(application: Application, *steps: tuple[str, dt.datetime]) -> None:
    """The history of a case: it entered each state at the time given."""
    previous = ""
    for state, at in steps:
        seq = next(_seq)
        AuditEntry.objects.create(
            seq=seq,
            at=at,
            application_id=application.pk,
            object_type="application",
            object_id=application.pk,
            action="create" if not previous else "move",
            from_status=previous,
            to_status=state,
            prev_mac="",
            mac=f"{seq:064d}",
        )
        previous = state


def values(table: reports.Table) -> dict[str, dict]:
    return {row.key: row.values for row in table.rows}


def test_the_status_and_province_figures_equal_a_direct_count(programme, other_company):
    for status, province, amount in [
        (S.SUBMITTED, "33", 1_000),
        (S.SUBMITTED, "35", 2_000),
        (S.APPROVED, "33", 3_000),
        (S.DISBURSED, "33", 4_000),
        (S.DISBURSED, "51", 5_000),
        (S.DRAFT, "35", 0),
    ]:
        case(
            programme,
            status=status,
            province=province,
            computed_discount=amount,
            approved_amount=amount if status in (S.APPROVED, S.DISBURSED) else None,
            disbursed_amount=amount if status == S.DISBURSED else None,
        )
    ApplicationFactory(company=other_company, status=S.DISBURSED, disbursed_amount=9)  # elsewhere

    by_status = values(reports.by_status(programme))
    by_province = values(reports.by_province(programme))

    mine = Application.objects.filter(programme=programme)
    for status in S:
        assert by_status[status]["applications"] == mine.filter(status=status).count()
    for province in ("33", "35", "51"):
        assert by_province[province]["applications"] == (
            mine.filter(company__province=province).count()
        )
    assert by_status[S.DISBURSED]["disbursed"] == 9_000
    assert by_province["33"] == {
        "applications": 3,
        "computed_discount": 8_000,
        "committed": 3_000,
        "disbursed": 4_000,
    }
    assert reports.by_province(programme).rows[0].label == "Jawa Tengah"


def test_kbli_scale_origin_and_month(programme):
    first = case(programme, scale="kecil", submitted_at=timezone.now())
    first.company.kbli = "10110"
    first.company.save(update_fields=["kbli"])
    second = case(programme, scale="menengah", submitted_at=timezone.now())
    MachineItemFactory(application=first, origin="domestic", discount=40)
    MachineItemFactory(application=first, origin="imported", discount=25)
    MachineItemFactory(application=second, origin="imported", discount=10)

    kbli = reports.by_kbli_division(programme)
    origin = values(reports.by_origin(programme))
    month = reports.by_month(programme)

    assert [(r.key, r.label) for r in kbli.rows] == [
        ("10", "Industri Makanan"),
        ("25", "Industri Barang Logam, Bukan Mesin dan Peralatannya"),
    ]
    assert values(reports.by_scale(programme)).keys() == {"kecil", "menengah"}
    assert origin["imported"] == {
        "machines": 2,
        "price": 200_000_000,
        "discount": 35,
    }
    assert [r.values["applications"] for r in month.rows] == [2]
    assert month.rows[0].key == timezone.localdate().strftime("%Y-%m")


def test_median_and_90th_percentile_of_the_days_in_each_stage(programme):
    start = timezone.now() - dt.timedelta(days=60)
    for days in (1, 2, 3, 4, 10):
        application = case(programme)
        transitions(
            application,
            ("draft", start),
            ("submitted", start + dt.timedelta(days=1)),
            ("under_review", start + dt.timedelta(days=1 + days)),
        )
    review = case(programme)
    transitions(
        review,
        ("under_review", start + dt.timedelta(days=1)),
        ("field_verification", start + dt.timedelta(days=3)),
    )

    stages = values(reports.stage_days(programme))

    # Five stays of 1, 2, 3, 4 and 10 days: the median is 3; the 90th percentile lies 0.6 of
    # the way from 4 to 10, 7.6 days (tenths of a day: 76).
    assert stages["submitted"] == {"stays": 5, "median_days": 30, "p90_days": 76}
    assert stages["draft"] == {"stays": 5, "median_days": 10, "p90_days": 10}
    # Still under review: only the stay that ended counts.
    assert stages["under_review"] == {"stays": 1, "median_days": 20, "p90_days": 20}
    assert stages["recommended"] == {"stays": 0, "median_days": None, "p90_days": None}


def test_the_percentile_rule_matches_the_database():
    assert reports.percentile([1, 2, 3, 4, 10], 50) == 3
    assert reports.percentile([10, 40], 90) == 37
    assert reports.percentile([], 50) is None


@pytest.mark.postgres
def test_the_stage_days_on_postgresql_use_percentile_cont(programme):
    start = timezone.now() - dt.timedelta(days=30)
    for days in (1, 2, 3, 4, 10):
        transitions(
            case(programme),
            ("submitted", start),
            ("under_review", start + dt.timedelta(days=days)),
        )

    stages = values(reports.stage_days(programme))

    assert stages["submitted"] == {"stays": 5, "median_days": 30, "p90_days": 76}


def test_budget_over_time_is_cumulative_per_month(programme):
    march = dt.datetime(2026, 3, 10, 9, tzinfo=dt.UTC)
    may = dt.datetime(2026, 5, 3, 9, tzinfo=dt.UTC)
    paid = case(
        programme,
        status=S.DISBURSED,
        approved_amount=100,
        disbursed_amount=100,
        transferred_on=dt.date(2026, 5, 4),
    )
    transitions(paid, ("recommended", march), ("approved", march))
    with audit_trigger_off():  # the trail of a case approved in March, written as it would be
        AuditEntry.objects.filter(application_id=paid.pk, to_status="approved").update(
            action="approve"
        )
    case(programme, status=S.APPROVED, approved_amount=50, status_changed_at=may)

    rows = values(reports.budget_over_time(programme))

    assert rows == {
        "2026-03": {"committed": 100, "disbursed": 0, "available": programme.budget - 100},
        "2026-05": {"committed": 50, "disbursed": 100, "available": programme.budget - 150},
    }
