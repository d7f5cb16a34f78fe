"""The officers' workbench: each role's queue, the filters, the order, the query count."""

import re

import pytest
from django.db import connection
from django.urls import reverse

from accounts.roles import APPROVER, VERIFIER
from subsidy.models import Application
from tests.factories import UserFactory
from tests.web.office_cases import placed_case

S = Application.Status
URL = reverse("office:workbench")


@pytest.fixture
def cases(programme, verifier, verifier2):
    """One case in each queue: untaken submitted, the verifier's own, another's, recommended,
    approved, and a draft."""
    return {
        "untaken": placed_case(programme, status=S.SUBMITTED, days=3, name="CV Untaken"),
        "mine": placed_case(programme, status=S.UNDER_REVIEW, days=1, name="CV Mine"),
        "theirs": placed_case(programme, status=S.UNDER_REVIEW, days=2, name="CV Theirs"),
        "recommended": placed_case(programme, status=S.RECOMMENDED, days=5, name="CV Rec"),
        "approved": placed_case(programme, status=S.APPROVED, days=6, name="CV Approved"),
    }


@pytest.fixture
def owned(cases, verifier, verifier2):
    Application.objects.filter(pk=cases["mine"].pk).update(case_officer=verifier)
    Application.objects.filter(pk=cases["theirs"].pk).update(case_officer=verifier2)
    return cases


def shown(client, user, query: str = "") -> str:
    client.force_login(user)
    response = client.get(URL + query)
    assert response.status_code == 200
    return response.content.decode()


def test_verifier_sees_untaken_and_own_cases_only(client, verifier, owned):
    body = shown(client, verifier)
    assert "CV Untaken" in body and "CV Mine" in body
    for name in ("CV Theirs", "CV Rec", "CV Approved"):
        assert name not in body


def test_approver_sees_recommended_cases_only(client, approver, owned):
    body = shown(client, approver)
    assert "CV Rec" in body
    for name in ("CV Untaken", "CV Mine", "CV Approved"):
        assert name not in body


def test_finance_sees_approved_cases_only(client, finance, owned):
    body = shown(client, finance)
    assert "CV Approved" in body
    for name in ("CV Untaken", "CV Rec"):
        assert name not in body


def test_auditor_sees_every_case_read_only(client, auditor, owned):
    body = shown(client, auditor)
    for name in ("CV Untaken", "CV Mine", "CV Theirs", "CV Rec", "CV Approved"):
        assert name in body
    assert "read-only" in body or "hanya-baca" in body


def test_applicant_gets_404_and_anonymous_goes_to_log_in(client, applicant):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    client.force_login(applicant)
    assert client.get(URL).status_code == 404


def test_the_oldest_waiting_comes_first_with_days_and_service_level(
    client, auditor, owned, settings
):
    settings.CASE_SLA_DAYS = 4
    body = shown(client, auditor)
    order = [body.index(name) for name in ("CV Approved", "CV Rec", "CV Untaken", "CV Mine")]
    assert order == sorted(order)
    # 6 days against 4: late, said in words too; 3 of 4: due.
    assert 'sla sla-late">6' in body
    assert 'sla sla-due">3' in body


def test_sorting_by_company_name(client, auditor, owned):
    body = shown(client, auditor, "?sort=company")
    order = [body.index(n) for n in ("CV Approved", "CV Mine", "CV Rec", "CV Theirs", "CV Untaken")]
    assert order == sorted(order)


def test_filter_by_province_narrows_the_list(client, auditor, programme):
    placed_case(programme, name="CV Jawa Tengah", province="33", regency="33.10")
    placed_case(programme, name="CV Bali", province="51", regency="51.71")
    body = shown(client, auditor, "?province=51")
    assert "CV Bali" in body and "CV Jawa Tengah" not in body
    # The filter keeps its choice on the page, and only that one.
    assert '<option value="51" selected>Bali</option>' in body
    assert '<option value="33" selected>' not in body
    assert '<option value="" selected>Semua</option>' not in body.split('name="province"')[1][:200]


def test_filter_by_status_narrows_the_list(client, auditor, owned):
    body = shown(client, auditor, "?status=recommended")
    assert "CV Rec" in body and "CV Untaken" not in body


def test_search_by_nib_finds_the_company(client, auditor, programme):
    wanted = placed_case(programme, name="CV Cari Saya")
    placed_case(programme, name="CV Lain")
    body = shown(client, auditor, f"?search={wanted.company.nib}")
    assert "CV Cari Saya" in body and "CV Lain" not in body


def test_waiting_days_filter_keeps_long_waiting_cases(client, auditor, owned):
    body = shown(client, auditor, "?waiting_days_min=5")
    assert "CV Rec" in body and "CV Approved" in body and "CV Untaken" not in body


def test_blank_filters_of_the_get_form_are_ignored(client, auditor, owned):
    body = shown(client, auditor, "?search=&programme=&status=&has_signals=&waiting_days_min=")
    assert "CV Untaken" in body and "CV Approved" in body


def test_a_bad_filter_value_is_said_not_a_500(client, auditor, owned):
    body = shown(client, auditor, "?kbli_division=abc")
    assert "CV Untaken" not in body
    assert "KBLI" in body


def test_counts_per_status(client, auditor, owned):
    body = shown(client, auditor)
    assert "Verifikasi administrasi" in body
    assert '<span class="badge text-bg-secondary">2</span>' in body  # two under review
    assert '<span class="badge text-bg-secondary">5</span>' in body  # all


def test_htmx_gets_only_the_table(client, auditor, owned):
    client.force_login(auditor)
    response = client.get(URL + "?status=approved", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="workbench-table"')
    assert "CV Approved" in body and "CV Rec" not in body
    assert "<html" not in body


def test_pagination_keeps_the_filters(client, auditor, programme):
    for _ in range(27):
        placed_case(programme, status=S.SUBMITTED, province="33")
    body = shown(client, auditor, "?province=33")
    assert "page=2" in body and "province=33" in body


def test_verifier_with_a_company_of_their_own_does_not_see_its_case(client, programme):
    officer = UserFactory(roles=[VERIFIER, APPROVER])
    case = placed_case(programme, name="CV Milik Sendiri")
    case.company.members.add(officer)
    assert "CV Milik Sendiri" not in shown(client, officer)


def _queries_for(client, user, django_assert_num_queries, expected: int, query: str) -> None:
    client.force_login(user)
    with django_assert_num_queries(expected):
        assert client.get(URL + query).status_code == 200


PARTS_COUNTED = 1 if connection.features.supports_slicing_ordering_in_compound else 4


@pytest.mark.parametrize("rows", [5, 30])
@pytest.mark.parametrize(
    "query, expected",
    [
        # session, user, roles, second factor, the companies the officer is a member of, the
        # status counts of the queue's four parts (one statement where the database cuts the
        # parts of a UNION, PostgreSQL; else one per part, SQLite), page, programmes, the
        # verifier group, case officers, the menu's unread notices; the list's count is the
        # sum of the status counts
        ("", PARTS_COUNTED + 10),
        # the filtered list's count comes with its page (COUNT(*) OVER the candidates)
        ("?province=33", PARTS_COUNTED + 10),
    ],
)
def test_the_workbench_reads_a_fixed_number_of_queries(
    client, verifier, programme, django_assert_num_queries, rows, query, expected
):
    for _ in range(rows):
        placed_case(programme, status=S.SUBMITTED, province="33")
    _queries_for(client, verifier, django_assert_num_queries, expected, query)


def _pages(client, user, query: str = "") -> list[str]:
    """The references of every page of the workbench, in order."""
    import re

    client.force_login(user)
    references, number = [], 1
    while True:
        body = client.get(f"{URL}?{query}&page={number}").content.decode()
        references += re.findall(r"RMP-\d{4}-9\d{5}", body)
        if f"page={number + 1}" not in body:
            return references
        number += 1


@pytest.mark.parametrize("sort", ["", "sort=days", "sort=company", "sort=-reference"])
def test_pages_of_a_queue_in_two_parts_come_in_one_order(client, verifier, programme, sort):
    """The verifier's queue is read in parts (untaken, own per status): their rows interleave by
    waiting time, page after page, each once, as the single ordered query would give them."""
    from subsidy import selectors
    from subsidy.web.office import DEFAULT_SORT, SORTS

    for days in range(60):
        case = placed_case(programme, status=S.SUBMITTED, days=days, name=f"CV Antre {days % 7}")
        if days % 3 == 0:
            case.status, case.case_officer = S.UNDER_REVIEW, verifier
            case.save(update_fields=["status", "case_officer"])
    ordering = SORTS[sort.partition("=")[2] or DEFAULT_SORT]
    expected = list(
        selectors.queue_for(verifier).order_by(*ordering).values_list("reference", flat=True)
    )
    assert len(expected) == 60
    assert _pages(client, verifier, sort) == expected


def test_signals_and_findings_filters(client, auditor, programme, applicant):
    from tests.factories import CompanyFactory
    from tests.web.office_cases import case_with_machines

    # The same invoice file in two companies' cases: both carry a signal.
    for name in ("CV Salinan A", "CV Salinan B"):
        case_with_machines(
            programme, CompanyFactory(name=name, members=[applicant]), applicant, machines=1
        )
    placed_case(programme, name="CV Bersih")
    body = shown(client, auditor, "?has_signals=true")
    assert "CV Salinan A" in body and "CV Salinan B" in body and "CV Bersih" not in body
    body = shown(client, auditor, "?has_signals=false")
    assert "CV Bersih" in body and "CV Salinan A" not in body
    body = shown(client, auditor, "?has_findings=true")
    assert "CV Bersih" not in body


def test_a_wide_filter_is_counted_a_few_pages_ahead_then_said_to_be_more(
    client, verifier, programme, monkeypatch
):
    """A filtered list is counted up to COUNTED_PAGES pages (and one past the page asked for),
    so that its count costs the same in a programme of any size; past that it says "more
    than", and every case is still reached by paging on, each once."""
    from subsidy.web import office

    monkeypatch.setattr(office, "PAGE_SIZE", 2)
    monkeypatch.setattr(office, "COUNTED_PAGES", 2)
    for days in range(9):
        case = placed_case(programme, status=S.SUBMITTED, days=days, province="33")
        if days % 3 == 0:  # the verifier's own: the queue's second part
            case.status, case.case_officer = S.UNDER_REVIEW, verifier
            case.save(update_fields=["status", "case_officer"])
    placed_case(programme, status=S.SUBMITTED, province="51")

    first = shown(client, verifier, "?province=33")
    assert "Lebih dari 4 kasus cocok" in first
    assert "Halaman 1<" in first and "page=2" in first
    # Page 4 counts to 10: the nine cases, exactly, and the pages are numbered again.
    fourth = shown(client, verifier, "?province=33&page=4")
    assert "9 kasus cocok." in fourth and "Halaman 4 dari 5" in fourth
    assert len(_pages(client, verifier, "province=33")) == 9
    # Unfiltered, the count is the queue's (the status counts), never bounded.
    assert "10 kasus cocok." in shown(client, verifier)


def test_a_page_number_too_large_to_count_to_is_the_first_page(client, verifier, programme):
    placed_case(programme, status=S.SUBMITTED, province="33")
    body = shown(client, verifier, "?province=33&page=99999999999999999999999")
    assert "1 kasus cocok." in body


@pytest.mark.parametrize("search", ["Keramik", "keramik", "RMP-", "8000000000001", "tidak ada"])
def test_the_workbench_search_finds_exactly_the_api_s_rows(programme, search):
    """QueueFilter only changes how the database tests a company (probed per row rather than
    hashed): the rows are ApplicationFilter's."""
    from django.http import QueryDict

    from subsidy.filters import ApplicationFilter, QueueFilter

    for number, name in enumerate(["CV Keramik Kasongan", "PT Logam Jaya", "UD Keramik Plered"]):
        placed_case(programme, status=S.SUBMITTED, name=name, nib=f"8{number:012d}")
    params = QueryDict(f"search={search}")
    everything = Application.objects.all()

    api = set(ApplicationFilter(params, queryset=everything).qs.values_list("pk", flat=True))
    queue = set(QueueFilter(params, queryset=everything).qs.values_list("pk", flat=True))

    assert api == queue
    expected = {"Keramik": 2, "keramik": 2, "RMP-": 3, "8000000000001": 1, "tidak ada": 0}
    assert len(api) == expected[search]


def test_a_long_queue_is_counted_per_status_up_to_a_limit(client, verifier, programme, monkeypatch):
    """The status counts stop at STATUS_COUNT_LIMIT ("lebih dari …"), so that they cost the same
    in a programme of any size; the list below still counts what it shows."""
    from subsidy.web import office

    monkeypatch.setattr(office, "STATUS_COUNT_LIMIT", 3)
    for _ in range(5):
        placed_case(programme, status=S.SUBMITTED)
    own = placed_case(programme, status=S.UNDER_REVIEW)
    own.case_officer = verifier
    own.save(update_fields=["case_officer"])

    body = shown(client, verifier)
    assert re.search(r"Semua <span[^>]*>lebih dari 3</span>", body)
    assert re.search(r"Diajukan <span[^>]*>lebih dari 3</span>", body)
    assert re.search(r"Verifikasi administrasi <span[^>]*>1</span>", body)
    assert "6 kasus cocok." in body
