"""The workbench's CSV export links: the current filters, for staff and auditors."""

import csv
import io
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from subsidy.models import Application
from tests.web.office_cases import placed_case

S = Application.Status
URL = reverse("office:workbench")


@pytest.fixture
def cases(programme):
    return {
        "near": placed_case(programme, status=S.SUBMITTED, name="CV Klaten", province="33"),
        "far": placed_case(
            programme, status=S.SUBMITTED, name="CV Medan", province="12", regency="12.01"
        ),
        "done": placed_case(programme, status=S.APPROVED, name="CV Selesai", province="33"),
    }


def export_links(body: str) -> dict[str, str]:
    found = re.findall(r'href="(/api/v1/exports/(applications|items)\.csv[^"]*)"', body)
    return {kind: unescape(href) for href, kind in found}


def test_the_export_links_carry_the_filters_and_give_the_filtered_rows(client, auditor, cases):
    client.force_login(auditor)
    query = "?status=submitted&province=33&search=&sort=company&page=1"
    response = client.get(URL + query)
    assert response.status_code == 200
    links = export_links(response.content.decode())
    assert set(links) == {"applications", "items"}
    for link in links.values():
        # The filters as the list read them: the blank one and the page's own order left out.
        assert parse_qs(urlsplit(link).query) == {"province": ["33"], "status": ["submitted"]}
    exported = client.get(links["applications"])
    assert exported.status_code == 200
    text = b"".join(exported.streaming_content).decode("utf-8-sig")
    names = [row["company_name"] for row in csv.DictReader(io.StringIO(text))]
    assert names == ["CV Klaten"]


def test_after_an_htmx_filter_change_the_links_follow(client, auditor, cases):
    client.force_login(auditor)
    response = client.get(URL + "?province=12", headers={"HX-Request": "true"})
    links = export_links(response.content.decode())
    assert parse_qs(urlsplit(links["items"]).query) == {"province": ["12"]}


def test_without_filters_the_links_export_everything(client, verifier, cases):
    client.force_login(verifier)
    body = client.get(URL).content.decode()
    assert export_links(body) == {
        "applications": "/api/v1/exports/applications.csv",
        "items": "/api/v1/exports/items.csv",
    }
    # A verifier's workbench is their queue; the export says it covers every matching case.
    assert "bukan hanya antrean Anda" in body


def test_an_invalid_filter_offers_no_export(client, auditor, cases):
    client.force_login(auditor)
    body = client.get(URL + "?kbli_division=x").content.decode()
    assert export_links(body) == {}


def test_an_applicant_gets_neither_the_page_nor_the_file(client, applicant, cases):
    client.force_login(applicant)
    assert client.get(URL).status_code == 404
    assert client.get("/api/v1/exports/applications.csv").status_code == 403
