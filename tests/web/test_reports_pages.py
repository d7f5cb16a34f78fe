"""The reports page: staff and auditors only, a chart, table and CSV per figure, its queries."""

import csv
import io

from django.urls import reverse

from subsidy.models import Application
from tests.factories import ProgrammeFactory
from tests.web.office_cases import placed_case

S = Application.Status
URL = reverse("office:report")


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_an_auditor_reads_every_table_with_its_chart_and_csv_link(client, auditor, programme):
    placed_case(programme, status=S.SUBMITTED, province="33")
    placed_case(programme, status=S.SUBMITTED, province="51")
    client.force_login(auditor)

    response = client.get(URL, {"programme": programme.pk})

    assert response.status_code == 200
    body = response.content.decode()
    for slug in ("status", "province", "kbli", "scale", "origin", "month", "budget", "stages"):
        assert f'id="{slug}-title"' in body
        assert reverse("office:report_csv", args=[slug]) + f"?programme={programme.pk}" in body
    assert body.count('<svg class="chart"') >= 4
    assert body.count("<table") == 8
    assert "Jawa Tengah" in body and "Bali" in body
    assert 'role="img"' in body and "<desc" in body


def test_the_programme_is_chosen_from_the_list(client, verifier, programme):
    older = ProgrammeFactory()
    placed_case(older, status=S.SUBMITTED, name="CV Lama")
    client.force_login(verifier)

    body = client.get(URL, {"programme": older.pk}).content.decode()
    assert older.name in body
    refused = client.get(URL, {"programme": "abc"})

    assert refused.status_code == 400
    assert "There is a problem" in refused.content.decode() or "Ada masalah" in (
        refused.content.decode()
    )


def test_an_applicant_cannot_open_the_reports_or_their_csv(client, applicant, programme):
    client.force_login(applicant)

    assert client.get(URL).status_code == 404
    csv_url = reverse("office:report_csv", args=["status"])
    assert client.get(csv_url, {"programme": programme.pk}).status_code == 404
    client.logout()
    assert client.get(URL).status_code == 302


def test_a_table_as_csv_has_a_bom_codes_names_and_no_formula(client, finance, programme):
    placed_case(programme, status=S.SUBMITTED, province="33")
    placed_case(programme, status=S.SUBMITTED, province="33")
    placed_case(programme, status=S.DISBURSED, province="51")
    client.force_login(finance)

    response = client.get(
        reverse("office:report_csv", args=["province"]), {"programme": programme.pk}
    )

    assert response["Content-Type"] == "text/csv"
    assert response.content.startswith("\ufeff".encode())
    assert csv_rows(response) == [
        ["province", "name", "applications", "computed_discount", "committed", "disbursed"],
        ["33", "Jawa Tengah", "2", "0", "0", "0"],
        ["51", "Bali", "1", "0", "0", "0"],
    ]
    status = csv_rows(
        client.get(reverse("office:report_csv", args=["status"]), {"programme": programme.pk})
    )
    assert status[1][:3] == ["draft", "Draf", "0"]
    assert status[2][:3] == ["submitted", "Diajukan", "2"]


def test_a_formula_in_a_cell_arrives_as_text(client, auditor, programme):
    from subsidy.web.reports import _csv_response

    rows = csv_rows(_csv_response("x.csv", ["a"], [['=HYPERLINK("x")'], ["-5"]]))

    assert rows == [["a"], ['\'=HYPERLINK("x")'], ["'-5"]]


def test_an_unknown_table_is_404(client, auditor, programme):
    client.force_login(auditor)
    url = reverse("office:report_csv", args=["nothing"])
    assert client.get(url, {"programme": programme.pk}).status_code == 404


def test_the_report_costs_the_same_queries_for_more_cases(
    client, auditor, programme, django_assert_num_queries
):
    placed_case(programme, status=S.SUBMITTED)
    client.force_login(auditor)
    client.get(URL, {"programme": programme.pk})
    with django_assert_num_queries(17) as few:  # with the second factor's check
        client.get(URL, {"programme": programme.pk})
    for status in (S.SUBMITTED, S.APPROVED, S.DISBURSED, S.REJECTED) * 5:
        placed_case(programme, status=status, province="35")
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(URL, {"programme": programme.pk})
