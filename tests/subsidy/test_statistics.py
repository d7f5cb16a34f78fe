"""The public statistics: sums, suppression, nothing identifying, the cache after a payment."""

import csv
import io

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.throttling import ScopedRateThrottle

from config.errors import ServiceError
from subsidy import statistics
from subsidy.models import Application
from subsidy.workflow.actions import application_disburse
from tests.factories import ApplicationFactory, CompanyFactory, MachineItemFactory

S = Application.Status
API = reverse("api-statistics")
PAGE = reverse("statistics")

# Distinctive values: if any of them reaches a response, it is found in the bytes.
SECRETS = {
    "name": "PT Rahasia Sekali Zqx",
    "nib": "9876543210987",
    "npwp": "019283746501928",
    "bank_account_number": "777000111222333",
    "bank_account_name": "Pemilik Rekening Zqx",
    "bank_name": "Bank Rahasia Zqx",
}

_numbers = iter(range(1, 10**6))


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def paid(
    programme,
    *,
    amount: int,
    province: str = "33",
    kbli: str = "25120",
    machines: tuple[tuple[str, int], ...] = (("domestic", 0),),
    status: str = S.DISBURSED,
    eligible_total: int | None = None,
    **company,
) -> Application:
    """A case placed in its state with its snapshot; machines (origin, discount); a discount of
    0 is filled with the amount shared out equally."""
    number = next(_numbers)
    company = CompanyFactory(province=province, regency=f"{province}.01", kbli=kbli, **company)
    discounts = [d or amount // len(machines) for _o, d in machines]
    application = ApplicationFactory(
        programme=programme,
        company=company,
        status=status,
        reference=f"RMP-{programme.year}-8{number:05d}",
        company_snapshot=company.snapshot(),
        scale="kecil",
        eligible_total=eligible_total if eligible_total is not None else sum(discounts),
        computed_discount=amount,
        approved_amount=amount if status in (S.APPROVED, S.DISBURSED) else None,
        disbursed_amount=amount if status == S.DISBURSED else None,
    )
    for (origin, _d), discount in zip(machines, discounts, strict=True):
        MachineItemFactory(application=application, origin=origin, discount=discount)
    return application


def test_totals_and_every_table_add_up_to_the_disbursed_amounts(client, programme):
    cases = [paid(programme, amount=10_000_000 * (n + 1), province="33") for n in range(3)]
    cases += [paid(programme, amount=7_000_000, province="35", kbli="10110") for _ in range(4)]
    paid(programme, amount=99_000_000, status=S.APPROVED)  # not paid: not counted
    paid(programme, amount=55_000_000, status=S.REJECTED)

    body = client.get(API, {"year": programme.year}).json()

    expected = sum(case.disbursed_amount for case in cases)
    assert body["disbursed_amount"] == expected == 88_000_000
    assert (body["companies"], body["applications"], body["machines"]) == (7, 7, 7)
    for table in ("by_province", "by_sector", "by_scale", "by_origin"):
        assert sum(row["disbursed_amount"] for row in body[table]) == expected, table
    assert {row["province"]: row["disbursed_amount"] for row in body["by_province"]} == {
        "33": 60_000_000,
        "35": 28_000_000,
    }
    assert body["by_province"][0]["province_name"] == "Jawa Tengah"
    sectors = {row["kbli_division"]: row["name"] for row in body["by_sector"]}
    assert sectors == {
        "10": "Industri Makanan",
        "25": "Industri Barang Logam, Bukan Mesin dan Peralatannya",
    }


def test_a_province_with_two_companies_is_suppressed(client, programme):
    for _ in range(3):
        paid(programme, amount=10_000_000, province="33")
    for _ in range(2):
        paid(programme, amount=20_000_000, province="51")

    rows = {row["province"]: row for row in client.get(API).json()["by_province"]}

    assert rows["51"] == {
        "province": "51",
        "province_name": "Bali",
        "companies": None,
        "machines": None,
        "disbursed_amount": None,
        "suppressed": True,
    }
    assert rows["33"]["suppressed"] is False
    assert (rows["33"]["companies"], rows["33"]["disbursed_amount"]) == (3, 30_000_000)


def test_a_capped_refund_is_shared_between_origins_and_adds_up(client, programme):
    # 40 + 20 million of machine refunds capped to 45 million: 30 domestic, 15 imported.
    for _ in range(3):
        paid(
            programme,
            amount=45_000_000,
            machines=(("domestic", 40_000_000), ("imported", 20_000_000)),
            eligible_total=60_000_000,
        )

    rows = {row["origin"]: row for row in client.get(API).json()["by_origin"]}

    assert rows["domestic"]["disbursed_amount"] == 90_000_000
    assert rows["imported"]["disbursed_amount"] == 45_000_000
    assert (rows["domestic"]["machines"], rows["imported"]["companies"]) == (3, 3)


def test_no_name_nib_npwp_or_bank_data_reaches_the_api_the_page_or_a_csv(client, programme):
    for _ in range(3):
        paid(programme, amount=10_000_000)
    secret = paid(programme, amount=12_345_678, **SECRETS)
    secret.transfer_reference = "TRX-RAHASIA-Zqx"
    secret.save(update_fields=["transfer_reference"])

    responses = [client.get(API, {"year": programme.year}), client.get(PAGE)]
    responses += [
        client.get(reverse("statistics_csv", args=[slug]), {"year": programme.year})
        for slug in ("province", "sector", "scale", "origin")
    ]

    assert all(r.status_code == 200 for r in responses)
    for response in responses:
        content = response.content
        for value in [*SECRETS.values(), "TRX-RAHASIA-Zqx", "01.928.374.6-501.928"]:
            assert value.encode() not in content, (response.request["PATH_INFO"], value)
    assert "PT Rahasia" not in responses[1].content.decode()


def test_the_cached_figures_count_a_new_disbursement(
    client, programme, finance, django_capture_on_commit_callbacks
):
    for _ in range(3):
        paid(programme, amount=10_000_000)
    waiting = paid(programme, amount=25_000_000, status=S.APPROVED)
    assert client.get(API).json()["disbursed_amount"] == 30_000_000
    # Cached: a change behind the cache's back is not seen...
    Application.objects.filter(pk=waiting.pk).update(transfer_reference="x")
    assert statistics.public_statistics(programme.year)["applications"] == 3

    with django_capture_on_commit_callbacks(execute=True):
        application_disburse(
            application=waiting, by=finance, transfer_reference="TRX-1", transferred_on="2026-01-05"
        )

    body = client.get(API).json()
    assert (body["applications"], body["disbursed_amount"]) == (4, 55_000_000)


def test_a_refused_disbursement_keeps_the_cache(
    programme, finance, django_capture_on_commit_callbacks
):
    paid(programme, amount=10_000_000)
    statistics.public_statistics(programme.year)
    draft = paid(programme, amount=1, status=S.DRAFT)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(ServiceError):
            application_disburse(
                application=draft, by=finance, transfer_reference="T", transferred_on="2026-01-05"
            )

    assert callbacks == []


def test_a_year_without_a_programme_is_404_and_a_bad_year_400(client, programme):
    assert client.get(API, {"year": 2099}).json()["code"] == "not_found"
    response = client.get(API, {"year": "twenty"})
    assert response.status_code == 400
    assert "year" in response.json()["errors"]
    page = client.get(PAGE, {"year": "twenty"})
    assert page.status_code == 400
    assert "Pilih tahun dari daftar." in page.content.decode()


def test_the_api_needs_no_login_and_is_throttled(client, programme, settings, monkeypatch):
    rates = {"statistics": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    # DRF reads the rates once, into a class attribute: point it at the lowered ones.
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)

    responses = [client.get(API) for _ in range(3)]

    assert [r.status_code for r in responses] == [200, 200, 429]
    assert responses[-1].json()["code"] == "throttled"


def test_a_table_as_csv_has_a_bom_and_the_api_columns(client, programme):
    for _ in range(3):
        paid(programme, amount=10_000_000, province="33")
    paid(programme, amount=5_000_000, province="51")

    response = client.get(reverse("statistics_csv", args=["province"]), {"year": programme.year})

    assert response["Content-Type"] == "text/csv"
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [
        ["province", "province_name", "companies", "machines", "disbursed_amount", "suppressed"],
        ["33", "Jawa Tengah", "3", "3", "30000000", "false"],
        ["51", "Bali", "", "", "", "true"],
    ]


def test_the_page_shows_the_figures_and_less_than_three(client, programme):
    for _ in range(3):
        paid(programme, amount=10_000_000, province="33")
    paid(programme, amount=5_000_000, province="51")

    body = client.get(PAGE, {"year": programme.year}).content.decode()

    assert "Rp 35.000.000" in body and "Rp 30.000.000" in body
    assert "&lt; 3" in body and "Rp 5.000.000" not in body
    assert reverse("statistics_csv", args=["sector"]) + f"?year={programme.year}" in body
    assert "<svg" in body and "<title" in body


def test_the_statistics_page_answers_from_the_cache_in_constant_queries(
    client, programme, django_assert_num_queries
):
    for n in range(3):
        paid(programme, amount=10_000_000, province=("33", "35", "51")[n])
    client.get(PAGE)
    with django_assert_num_queries(1):  # the list of years
        client.get(PAGE)
    cache.clear()
    with django_assert_num_queries(9) as cold:
        client.get(PAGE)
    for _ in range(20):
        paid(programme, amount=1_000_000, province="52")
    cache.clear()
    with django_assert_num_queries(len(cold.captured_queries)):
        client.get(PAGE)


def test_a_year_sent_empty_is_refused(client, programme):
    response = client.get(API + "?year=")

    assert response.status_code == 400
    assert response.json()["errors"]["year"] == ["Parameter ini tidak boleh kosong."]
