"""Finance's pages: payout details, the transfer batch CSV, recording the bank's CSV."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from subsidy.models import Application, AuditEntry, Company
from tests.web.office_cases import placed_case

S = Application.Status
PAGE = reverse("office:finance")
BATCH = reverse("office:finance_batch")
UPLOAD = reverse("office:finance_upload")
HEADER = "reference,transfer_reference,transferred_on\n"


def approved(programme, *, amount: int = 25_000_000, **company) -> Application:
    """An approved case whose payout details are its submission snapshot."""
    application = placed_case(programme, status=S.APPROVED, days=2, **company)
    application.company_snapshot = application.company.snapshot()
    application.approved_amount = amount
    application.save(update_fields=["company_snapshot", "approved_amount"])
    return application


def upload(client, user, text: str):
    client.force_login(user)
    file = SimpleUploadedFile("bank.csv", text.encode("utf-8"), content_type="text/csv")
    return client.post(UPLOAD, {"file": file})


def result_rows(response) -> list[list[str]]:
    """The per-row result table as the user reads it: line, reference, result, reason."""
    body = response.content.decode()
    table = body[body.index("data-transfer-results") :]
    table = table[: table.index("</table>")]
    rows = []
    for chunk in table.split("<tr>")[2:]:
        cells = [c.split(">", 1)[1].split("</td>")[0] for c in chunk.split("<td")[1:]]
        rows.append([" ".join(_strip(c).split()) for c in cells])
    return rows


def _strip(html: str) -> str:
    out, inside = [], False
    for ch in html:
        if ch == "<":
            inside = True
        elif ch == ">":
            inside = False
        elif not inside:
            out.append(ch)
    return "".join(out).replace("&#x27;", "'").replace("&amp;", "&")


def test_the_page_lists_the_payout_details_of_approved_cases_only(client, finance, programme):
    case = approved(programme, name="CV Sinar")
    # The payout is the snapshot: a later change of the company's bank does not move it.
    Company.objects.filter(pk=case.company_id).update(bank_name="Bank Baru")
    placed_case(programme, status=S.RECOMMENDED, name="CV Belum")
    client.force_login(finance)
    response = client.get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert case.reference in body and "CV Sinar" in body
    assert "BRI" in body and "Bank Baru" not in body
    assert case.payout_account_number in body
    assert "Rp25.000.000" in body or "Rp 25.000.000" in body
    assert "CV Belum" not in body
    assert f'name="case" value="{case.pk}"' in body


def test_the_page_query_count_does_not_grow_with_the_cases(
    client, finance, programme, django_assert_num_queries
):
    approved(programme)
    client.force_login(finance)
    client.get(PAGE)  # warm the session
    # 5, the staff second-factor check, and the companies the officer is a member of
    with django_assert_num_queries(7) as first:
        client.get(PAGE)
    for _ in range(5):
        approved(programme)
    with django_assert_num_queries(len(first.captured_queries)):
        assert client.get(PAGE).status_code == 200


def test_the_batch_csv_has_a_bom_the_selected_cases_and_no_formulas(client, finance, programme):
    plain = approved(programme, amount=12_500_000, name="CV Sinar")
    risky = approved(
        programme,
        amount=7_000_000,
        name='=HYPERLINK("http://evil","x")',
        bank_account_name="@SUM(A1)",
        bank_name="+BNI",
        bank_account_number="-123",
    )
    unselected = approved(programme, name="CV Lain")
    client.force_login(finance)
    response = client.get(BATCH, {"case": [plain.pk, risky.pk]})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="transfer-batch-')
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["reference", "company", "bank", "account_number", "account_name", "amount"]
    by_reference = {row[0]: row for row in rows[1:]}
    assert set(by_reference) == {plain.reference, risky.reference}
    assert unselected.reference not in by_reference
    assert by_reference[plain.reference] == [
        plain.reference,
        "CV Sinar",
        "BRI",
        plain.payout_account_number,
        "CV Sinar",
        "12500000",
    ]
    assert by_reference[risky.reference] == [
        risky.reference,
        '\'=HYPERLINK("http://evil","x")',
        "'+BNI",
        "'-123",
        "'@SUM(A1)",
        "7000000",
    ]


def test_the_batch_refuses_an_empty_or_foreign_selection(client, finance, programme):
    not_approved = placed_case(programme, status=S.RECOMMENDED)
    client.force_login(finance)
    assert client.get(BATCH).status_code == 400
    response = client.get(BATCH, {"case": [not_approved.pk]})
    assert response.status_code == 400
    assert "Pilih sedikitnya satu permohonan yang disetujui." in response.content.decode()


def test_upload_records_good_rows_and_refuses_the_rest_each_with_its_reason(
    client, finance, programme
):
    good = approved(programme)
    good2 = approved(programme)
    wrong_state = placed_case(programme, status=S.RECOMMENDED)
    bad_date = approved(programme)
    text = (
        HEADER
        + f"{good.reference},TRX-1,2026-01-05\n"
        + "only,two\n"
        + "RMP-1999-000001,TRX-2,2026-01-05\n"
        + f"{wrong_state.reference},TRX-3,2026-01-05\n"
        + f"{good.reference},TRX-4,2026-01-06\n"
        + f"{bad_date.reference},TRX-5,05/01/2026\n"
        + f"{good2.reference},TRX-6,2026-01-07\n"
    )
    response = upload(client, finance, text)
    assert response.status_code == 200
    rows = result_rows(response)
    outcomes = [(r[0], r[1], r[2]) for r in rows]
    assert [o[0] for o in outcomes] == ["2", "3", "4", "5", "6", "7", "8"]
    assert [r[2] for r in rows] == ["Dicatat"] + ["Ditolak"] * 5 + ["Dicatat"]
    assert rows[1][3].startswith("Baris tidak lengkap atau rusak")
    assert rows[2][3].startswith("Nomor registrasi tidak dikenal")
    assert "berstatus Direkomendasikan" in rows[3][3]
    assert rows[4][3].startswith("Baris ganda")
    assert "YYYY-MM-DD" in rows[5][3]

    good.refresh_from_db()
    assert (good.status, good.transfer_reference, str(good.transferred_on)) == (
        S.DISBURSED,
        "TRX-1",
        "2026-01-05",
    )
    assert good.disbursed_amount == good.approved_amount
    good2.refresh_from_db()
    assert good2.status == S.DISBURSED and good2.transfer_reference == "TRX-6"
    for refused in (wrong_state, bad_date):
        before = refused.status
        refused.refresh_from_db()
        assert refused.status == before
        assert refused.transfer_reference == "" and refused.disbursed_amount is None


def test_the_same_file_twice_records_nothing_twice(client, finance, programme):
    case = approved(programme)
    text = HEADER + f"{case.reference},TRX-9,2026-01-05\n"
    first = result_rows(upload(client, finance, text))
    assert first[0][2:] == ["Dicatat", "Dicatat: transfer TRX-9 pada 2026-01-05."]
    case.refresh_from_db()
    changed_at = case.status_changed_at
    disbursals = AuditEntry.objects.filter(application_id=case.pk, action="disburse")
    assert disbursals.count() == 1

    second = result_rows(upload(client, finance, text))
    assert second[0][2:] == ["Ditolak", "Sudah dicairkan: transfer TRX-9 pada 2026-01-05."]
    case.refresh_from_db()
    assert case.status == S.DISBURSED and case.status_changed_at == changed_at
    assert disbursals.count() == 1


def test_a_file_without_the_header_is_refused_as_a_whole(client, finance, programme):
    case = approved(programme)
    response = upload(client, finance, f"{case.reference},TRX-1,2026-01-05\n")
    assert response.status_code == 400
    body = response.content.decode()
    assert "Baris pertama harus berupa judul kolom: reference, transfer_reference" in body
    assert 'href="#id_file"' in body  # the error summary links to the field
    case.refresh_from_db()
    assert case.status == S.APPROVED


@pytest.mark.parametrize("who", ["verifier", "approver", "auditor"])
def test_other_officers_are_forbidden(client, request, programme, who):
    case = approved(programme)
    client.force_login(request.getfixturevalue(who))
    assert client.get(PAGE).status_code == 403
    assert client.get(BATCH, {"case": [case.pk]}).status_code == 403
    file = SimpleUploadedFile("bank.csv", (HEADER + f"{case.reference},T,2026-01-05\n").encode())
    assert client.post(UPLOAD, {"file": file}).status_code == 403
    case.refresh_from_db()
    assert case.status == S.APPROVED


def test_applicants_get_404_and_anonymous_users_go_to_log_in(client, applicant, programme):
    case = approved(programme)
    assert client.get(PAGE).status_code == 302
    client.force_login(applicant)
    assert client.get(PAGE).status_code == 404
    assert client.get(BATCH, {"case": [case.pk]}).status_code == 404
    file = SimpleUploadedFile("bank.csv", (HEADER + f"{case.reference},T,2026-01-05\n").encode())
    assert client.post(UPLOAD, {"file": file}).status_code == 404
    case.refresh_from_db()
    assert case.status == S.APPROVED


def test_the_workbench_leads_finance_to_the_payouts(client, finance, verifier):
    client.force_login(finance)
    assert reverse("office:finance") in client.get(reverse("office:workbench")).text
    client.force_login(verifier)
    assert reverse("office:finance") not in client.get(reverse("office:workbench")).text
