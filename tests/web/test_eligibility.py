"""The public eligibility self-check: page and API give the engine's answer; nothing stored."""

import datetime as dt

import pytest

from subsidy.models import Application, Company

MACHINE = {
    "price": 100_000_000,
    "origin": "domestic",
    "is_new": True,
    "payment_method": "bank_transfer",
}


def _dates(programme) -> dict:
    return {
        "invoice_date": programme.purchase_from.isoformat(),
        "installed_on": programme.purchase_from.isoformat(),
    }


def _page_data(programme, *machines: dict, **company) -> dict:
    data = {
        "programme": programme.pk,
        "workers": 10,
        "investment_value": 500_000_000,
        "kbli": "25120",
        **company,
        "machines-TOTAL_FORMS": len(machines),
        "machines-INITIAL_FORMS": 0,
        "machines-MIN_NUM_FORMS": 1,
        "machines-MAX_NUM_FORMS": 50,
    }
    for number, machine in enumerate(machines):
        for name, value in machine.items():
            if isinstance(value, bool):
                value = "true" if value else "false"
            data[f"machines-{number}-{name}"] = value
    return data


@pytest.mark.django_db
def test_page_shows_the_refund_and_the_reason_a_cash_machine_is_excluded(client, programme):
    machine = {**MACHINE, **_dates(programme)}
    response = client.post(
        "/eligibility-check/",
        _page_data(programme, machine, {**machine, "payment_method": "cash"}),
    )
    assert response.status_code == 200
    assert "Industri Kecil" in response.text
    assert "Rp 40.000.000" in response.text
    assert "Pembayaran tidak dilakukan melalui bank." in response.text
    assert Application.objects.count() == Company.objects.count() == 0


@pytest.mark.django_db
def test_page_in_english_shows_the_exclusion_in_english(client, programme):
    machine = {**MACHINE, **_dates(programme), "payment_method": "cash"}
    response = client.post(
        "/eligibility-check/", _page_data(programme, machine), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Payment was not made through a bank." in response.text
    assert "No machine item is eligible for a refund." in response.text


@pytest.mark.django_db
def test_page_shows_what_to_do_about_a_non_manufacturing_kbli(client, programme):
    machine = {**MACHINE, **_dates(programme)}
    response = client.post("/eligibility-check/", _page_data(programme, machine, kbli="47111"))
    assert "Kode KBLI bukan kegiatan industri pengolahan (10-33)." in response.text
    assert "KBLI 5 digit" in response.text


@pytest.mark.django_db
def test_page_refuses_a_bad_kbli_with_the_field_message(client, programme):
    machine = {**MACHINE, **_dates(programme)}
    response = client.post("/eligibility-check/", _page_data(programme, machine, kbli="25a"))
    assert response.status_code == 200
    assert "KBLI harus terdiri atas tepat 5 digit." in response.text
    assert 'href="#id_kbli"' in response.text
    assert "Hasil" not in response.text


@pytest.mark.django_db
def test_page_refuses_a_missing_price_in_english(client, programme):
    machine = {**MACHINE, **_dates(programme), "price": ""}
    response = client.post(
        "/eligibility-check/", _page_data(programme, machine), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Machine 1: Price excluding VAT, in Rupiah: This field is required." in response.text
    assert 'href="#id_machines-0-price"' in response.text


@pytest.mark.django_db
def test_add_machine_shows_one_more_empty_machine_and_keeps_what_was_typed(client, programme):
    machine = {**MACHINE, **_dates(programme)}
    data = {**_page_data(programme, machine), "add_machine": "1"}
    response = client.post("/eligibility-check/", data)
    assert 'id="id_machines-1-price"' in response.text
    assert 'value="100000000"' in response.text
    assert "There is a problem" not in response.text and "Ada masalah" not in response.text


def _api_body(programme, *machines: dict, **company) -> dict:
    return {
        "programme": programme.pk,
        "company": {"workers": 10, "investment_value": 500_000_000, "kbli": "25120", **company},
        "items": list(machines),
    }


@pytest.mark.django_db
def test_api_gives_each_machine_its_refund_or_exclusion(api, programme):
    machine = {**MACHINE, **_dates(programme)}
    response = api.post(
        "/api/v1/eligibility-check/",
        _api_body(programme, machine, {**machine, "payment_method": "cash"}),
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["scale"] == "kecil"
    assert body["items"][0] == {"rate": "0.4000", "discount": 40_000_000, "findings": []}
    assert body["items"][1]["discount"] == 0
    assert [f["code"] for f in body["items"][1]["findings"]] == ["payment_not_via_bank"]
    assert body["eligible_total"] == body["computed_discount"] == 40_000_000
    assert body["findings"] == []
    assert Application.objects.count() == 0


@pytest.mark.django_db
def test_api_reports_blocking_findings_and_the_cap(api, programme):
    machine = {**MACHINE, **_dates(programme), "price": 1_000_000_000}
    response = api.post(
        "/api/v1/eligibility-check/",
        _api_body(programme, machine, kbli="47111"),
        format="json",
    )
    body = response.json()
    assert body["eligible_total"] == 400_000_000
    assert body["computed_discount"] == programme.max_refund_per_company
    assert body["cap_applied"] is True
    assert [f["code"] for f in body["findings"]] == ["kbli_not_manufacturing"]


@pytest.mark.django_db
def test_api_refuses_no_machines(api, programme):
    response = api.post("/api/v1/eligibility-check/", _api_body(programme), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "items" in response.json()["errors"]


@pytest.mark.django_db
def test_api_refuses_an_unknown_programme_and_a_float_price(api, programme):
    machine = {**MACHINE, **_dates(programme), "price": 1.5}
    body = _api_body(programme, machine)
    body["programme"] = programme.pk + 1000
    response = api.post("/api/v1/eligibility-check/", body, format="json")
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"programme", "items"}


@pytest.mark.django_db
def test_api_does_not_check_the_participation_limit(api, programme):
    programme.max_participations = 0
    programme.save(update_fields=["max_participations"])
    machine = {**MACHINE, **_dates(programme)}
    response = api.post("/api/v1/eligibility-check/", _api_body(programme, machine), format="json")
    assert response.json()["findings"] == []


@pytest.mark.django_db
def test_home_shows_the_programme_in_words(client):
    from tests.factories import ProgrammeFactory

    ProgrammeFactory(year=dt.date.today().year, min_refund=5_000_000)
    response = client.get("/")
    assert "40% dari harga mesin untuk industri kecil" in response.text
    assert "Rp 5.000.000" in response.text
    assert "<progress" in response.text
