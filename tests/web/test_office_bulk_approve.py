"""Bulk approve on the approver's workbench: a confirmation, then each case decided on its own."""

import pytest
from django.db import transaction
from django.urls import reverse

from accounts.roles import APPROVER, VERIFIER
from subsidy import audit, selectors
from subsidy.formats import rupiah
from subsidy.models import Application, AuditEntry
from tests.factories import CompanyFactory, ProgrammeFactory, UserFactory
from tests.subsidy.test_workflow_matrix import put_in_state

S = Application.Status
AMOUNT = 100_000_000
SELECT = reverse("office:approve_selected")
CONFIRM = reverse("office:approve_confirmed")


def recommended(programme, *, company=None, **extra) -> Application:
    made = Application.objects.create(programme=programme, company=company or CompanyFactory())
    return put_in_state(made, S.RECOMMENDED, computed_discount=AMOUNT, **extra)


@pytest.fixture
def mix(approver):
    """Budget for one and a half cases; the cases in id order, so the last one finds it spent."""
    programme = ProgrammeFactory(budget=AMOUNT * 3 // 2, required_documents=[])
    cases = {
        "approvable": recommended(programme),
        "four_eyes": recommended(programme),
        "conflict": recommended(programme, company=CompanyFactory(members=[approver])),
        "stale": recommended(programme, computed_at=None),
        "not_eligible": recommended(programme, findings=[{"code": "company_not_ikm"}]),
        "over_budget": recommended(programme),
    }
    with transaction.atomic():
        audit.record(
            actor=approver,
            action="recommend",
            object_type="application",
            object_id=cases["four_eyes"].pk,
            application_id=cases["four_eyes"].pk,
            from_status=S.FIELD_VERIFICATION,
            to_status=S.RECOMMENDED,
        )
    return programme, cases


def row_of(body: str, case: Application) -> str:
    """The result row of one case, by its reference."""
    start = body.index(f">{case.reference}</a>")
    return body[start : body.index("</tr>", start)]


def test_the_workbench_shows_the_budget_meter_and_what_each_case_would_reserve(
    client, approver, mix
):
    _programme, cases = mix
    client.force_login(approver)
    body = client.get(reverse("office:workbench")).content.decode()
    assert f'<progress class="budget-bar" max="{AMOUNT * 3 // 2}" value="0"' in body
    assert rupiah(150_000_000) in body  # budget and available, as Rupiah
    assert "Akan dicadangkan" in body  # the amount column says what a case would reserve
    # Every recommended case but the one of the approver's own company, which is not theirs.
    assert body.count('name="case"') == len(cases) - 1
    assert f'name="case" value="{cases["conflict"].pk}"' not in body
    assert f'name="case" value="{cases["approvable"].pk}"' in body


def test_the_confirmation_lists_the_cases_and_the_total_and_changes_nothing(client, approver, mix):
    _programme, cases = mix
    client.force_login(approver)
    entries = AuditEntry.objects.count()
    picked = [cases["approvable"], cases["over_budget"]]
    response = client.post(SELECT, {"case": [c.pk for c in picked]})
    assert response.status_code == 200
    body = response.content.decode()
    for case in picked:
        assert case.reference in body
    assert cases["stale"].reference not in body
    assert rupiah(200_000_000) in body  # the total of the two
    assert CONFIRM in body
    assert AuditEntry.objects.count() == entries
    assert Application.objects.filter(status=S.APPROVED).count() == 0


def test_nothing_selected_is_refused(client, approver, mix):
    client.force_login(approver)
    response = client.post(SELECT, {})
    assert response.status_code == 400
    assert "Pilih setidaknya satu permohonan" in response.content.decode()


def test_bulk_approve_decides_each_case_on_its_own(client, approver, mix):
    programme, cases = mix
    client.force_login(approver)
    response = client.post(CONFIRM, {"case": [c.pk for c in cases.values()]})
    assert response.status_code == 200
    body = response.content.decode()
    assert "1 disetujui" in body and "5 ditolak" in body

    approved = row_of(body, cases["approvable"])
    assert "Disetujui" in approved and rupiah(AMOUNT) in approved
    expected = {
        "four_eyes": "Anda telah memverifikasi atau merekomendasikan permohonan ini",
        "conflict": "Anda anggota perusahaan ini",
        "stale": "Potongan harga sedang dihitung ulang",
        "not_eligible": "company_not_ikm",
        "over_budget": f"Sisa anggaran program adalah {AMOUNT // 2},",
    }
    for name, words in expected.items():
        row = row_of(body, cases[name])
        assert "Ditolak" in row and words in row, name

    states = dict(Application.objects.values_list("pk", "status"))
    assert states[cases["approvable"].pk] == S.APPROVED
    for name in expected:
        refused = Application.objects.get(pk=cases[name].pk)
        assert refused.status == S.RECOMMENDED and refused.approved_amount is None, name
    assert selectors.programme_budget(programme)["committed"] == AMOUNT
    assert AuditEntry.objects.filter(action="approve").count() == 1
    assert audit.verify().intact


def test_approving_again_approves_nothing_twice(client, approver, mix):
    _programme, cases = mix
    client.force_login(approver)
    client.post(CONFIRM, {"case": [cases["approvable"].pk]})
    body = client.post(CONFIRM, {"case": [cases["approvable"].pk]}).content.decode()
    assert "0 disetujui" in body and "1 ditolak" in body
    assert AuditEntry.objects.filter(action="approve").count() == 1


@pytest.mark.parametrize("url", [SELECT, CONFIRM])
def test_a_verifier_is_refused_and_an_applicant_is_told_nothing_is_there(
    client, applicant, mix, url
):
    _programme, cases = mix
    data = {"case": [cases["approvable"].pk]}
    client.force_login(UserFactory(roles=[VERIFIER]))
    assert client.post(url, data).status_code == 403
    client.force_login(applicant)
    assert client.post(url, data).status_code == 404
    assert Application.objects.filter(status=S.APPROVED).count() == 0


def test_other_roles_see_no_checkboxes_or_meter(client, verifier, mix):
    client.force_login(verifier)
    body = client.get(reverse("office:workbench")).content.decode()
    assert 'name="case"' not in body
    assert "budget-bar" not in body


def test_the_approver_workbench_query_count_does_not_grow_with_cases(
    client, approver, django_assert_max_num_queries
):
    programme = ProgrammeFactory(required_documents=[])
    client.force_login(approver)
    for _ in range(3):
        recommended(programme)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("office:workbench"))
    for _ in range(10):
        recommended(programme)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("office:workbench")).status_code == 200


def test_a_user_with_both_roles_only_bulk_approves_as_approver(client, mix):
    officer = UserFactory(roles=[VERIFIER, APPROVER])
    client.force_login(officer)
    assert client.get(reverse("office:workbench")).status_code == 200
