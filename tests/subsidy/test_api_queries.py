"""Lists cost a fixed number of queries whatever their length (STYLE.md "Writes, reads, rules").

Each list is read with 1 and with 100 rows on the page (at least 100 rows exist); both must
run the same statements. The bound catches a list that grows a query per row type.
"""

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from subsidy.models import (
    Application,
    AuditChainHead,
    AuditEntry,
    Company,
    Document,
    MachineItem,
    Notice,
    Programme,
    ProgrammeRate,
)
from tests.factories import ApplicationFactory, CompanyFactory, ProgrammeFactory, UserFactory
from tests.utils import client_for, item_data

pytestmark = pytest.mark.django_db

ROWS = 105
MAX_QUERIES = 6


def _item(**overrides: object) -> dict:
    """A valid item as the database stores it (NPWP digits only)."""
    return item_data(supplier_npwp="012345678901000", **overrides)


def _programmes(n: int) -> list[Programme]:
    today = timezone.localdate()
    programmes = Programme.objects.bulk_create(
        Programme(
            year=3000 + i,
            name=f"Program {3000 + i}",
            application_opens=today,
            application_closes=today,
            purchase_from=today - dt.timedelta(days=365),
            purchase_to=today,
            install_by=today,
            budget=10**10,
            min_refund=5 * 10**6,
            max_refund_per_company=3 * 10**8,
            required_documents=["invoice"],
        )
        for i in range(n)
    )
    ProgrammeRate.objects.bulk_create(
        ProgrammeRate(programme=p, scale=scale, origin=origin, rate="0.4000")
        for p in programmes
        for scale in ("kecil", "menengah")
        for origin in ("domestic", "imported")
    )
    return programmes


def _applications(member, officer, n: int) -> list[Application]:
    """n applications of n companies of ``member``, each with 3 items and a case officer."""
    programme = ProgrammeFactory()
    companies = Company.objects.bulk_create(
        Company(name=f"CV Sentosa {i}", province="33", regency="33.10") for i in range(n)
    )
    Company.members.through.objects.bulk_create(
        Company.members.through(company=c, user=member) for c in companies
    )
    now = timezone.now()
    applications = Application.objects.bulk_create(
        Application(
            programme=programme,
            company=c,
            status=Application.Status.UNDER_REVIEW,
            submitted_at=now,
            reference=f"RMP-{programme.year}-{i:06d}",
            case_officer=officer,
            findings=[{"code": "duplicate_serial", "item": None}],
        )
        for i, c in enumerate(companies)
    )
    MachineItem.objects.bulk_create(
        MachineItem(
            application=a,
            **_item(serial_number=f"Q-{a.pk}-{k}", invoice_number=f"I-{a.pk}-{k}"),
            invoice_key=f"{a.pk}-{k}",
            serial_key=f"{a.pk}-{k}",
            findings=[{"code": "not_new"}],
        )
        for a in applications
        for k in range(3)
    )
    return applications


def _notices(user, n: int, application: Application | None = None) -> None:
    Notice.objects.bulk_create(
        Notice(
            key=f"q:{user.pk}:{i}:{application.pk if application else 0}",
            recipient=user,
            application=application,
            kind=Notice.Kind.REMINDER,
            title="Pengingat",
            body="Pengingat",
        )
        for i in range(n)
    )


def _count(user, url: str) -> tuple[int, object]:
    # A fresh user object each time: nothing cached from an earlier request helps.
    client = client_for(get_user_model().objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    return len(queries), response.json()


def _assert_constant(user, url: str, expected_rows: int) -> None:
    sep = "&" if "?" in url else "?"
    one, small = _count(user, f"{url}{sep}page_size=1")
    many, large = _count(user, f"{url}{sep}page_size=100")

    assert len(small["results"]) == 1
    assert len(large["results"]) == 100
    assert large["count"] == small["count"] == expected_rows
    assert one == many, f"{url}: {one} queries for 1 row, {many} for 100"
    assert many <= MAX_QUERIES


@pytest.fixture(params=["verifier", "applicant"])
def reader(request):
    return request.getfixturevalue(request.param)


def test_application_list(reader, applicant, verifier):
    _applications(applicant, verifier, ROWS)

    _assert_constant(reader, "/api/v1/applications/", ROWS)


def test_filtered_application_list(reader, applicant, verifier):
    _applications(applicant, verifier, ROWS)

    _assert_constant(
        reader, "/api/v1/applications/?status=under_review&province=33&search=CV", ROWS
    )


def test_company_list(reader, applicant, verifier):
    _applications(applicant, verifier, ROWS)

    _assert_constant(reader, "/api/v1/companies/", ROWS)


def test_programme_list(reader):
    _programmes(ROWS)

    _assert_constant(reader, "/api/v1/programmes/", ROWS)


def test_notification_list(reader, applicant):
    application = ApplicationFactory(company=CompanyFactory(members=[applicant]))
    _notices(reader, ROWS, application)

    _assert_constant(reader, "/api/v1/notifications/", ROWS)


def test_item_list(reader, applicant):
    application = ApplicationFactory(company=CompanyFactory(members=[applicant]))
    MachineItem.objects.bulk_create(
        MachineItem(application=application, **_item(), invoice_key=f"i{k}", serial_key=f"s{k}")
        for k in range(ROWS)
    )

    _assert_constant(reader, f"/api/v1/applications/{application.pk}/items/", ROWS)


def test_document_list(reader, applicant):
    application = ApplicationFactory(company=CompanyFactory(members=[applicant]))
    item = MachineItem.objects.create(application=application, **_item())
    Document.objects.bulk_create(
        Document(
            application=application,
            item=item if k % 2 else None,
            kind="invoice",
            file=f"documents/00/{k}.pdf",
            original_name="faktur.pdf",
            size=100,
            content_type="application/pdf",
            sha256="0" * 64,
            uploaded_by=applicant,
        )
        for k in range(ROWS)
    )

    _assert_constant(reader, f"/api/v1/applications/{application.pk}/documents/", ROWS)


def test_member_list(reader, applicant):
    company = CompanyFactory(members=[applicant])
    company.members.add(*[UserFactory(username=f"anggota{k}") for k in range(ROWS - 1)])

    _assert_constant(reader, f"/api/v1/companies/{company.pk}/members/", ROWS)


# --- The history is not paginated: one entry and a hundred cost the same ------------------


def _two_applications(applicant):
    company = CompanyFactory(members=[applicant])
    return ApplicationFactory(company=company), ApplicationFactory(company=company)


def _assert_same(user, small_url: str, large_url: str, small_rows: int, large_rows: int) -> None:
    one, small = _count(user, small_url)
    many, large = _count(user, large_url)

    assert len(small) == small_rows
    assert len(large) == large_rows
    assert one == many, f"{one} queries for {small_rows} rows, {many} for {large_rows}"
    assert many <= MAX_QUERIES


def test_history(reader, applicant, verifier):
    small, large = _two_applications(applicant)
    AuditChainHead.objects.get_or_create(pk=1)
    seq = iter(range(1, 10**6))
    for application, n in ((small, 1), (large, 50)):
        # Entries by different actors, and notices to different recipients.
        AuditEntry.objects.bulk_create(
            AuditEntry(
                seq=next(seq),
                at=timezone.now(),
                actor=applicant if k % 2 else verifier,
                application_id=application.pk,
                object_type="item",
                object_id=k,
                action="update",
                changes={"brand": ["A", "B"]},
                prev_mac="0" * 64,
                mac="0" * 64,
            )
            for k in range(n)
        )
        if n > 1:
            _notices(applicant, n // 2, application)
            _notices(verifier, n // 2, application)

    _assert_same(
        reader,
        f"/api/v1/applications/{small.pk}/history/",
        f"/api/v1/applications/{large.pk}/history/",
        1,
        100,
    )


def test_filtered_list_and_its_count_are_not_distinct(verifier, applicant):
    """DISTINCT over every column made the page and its count sort the whole match."""
    _applications(applicant, verifier, 3)
    client = client_for(verifier)

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/applications/?status=under_review&status=draft&province=33")

    assert response.json()["count"] == 3
    assert not [q["sql"] for q in queries if "DISTINCT" in q["sql"].upper()]


def test_the_count_joins_only_what_the_filters_need(verifier, applicant):
    """Names shown on the page are subqueries: the count does not join programmes or users."""
    _applications(applicant, verifier, 3)
    client = client_for(verifier)

    with CaptureQueriesContext(connection) as queries:
        client.get("/api/v1/applications/?status=under_review")

    count = next(q["sql"] for q in queries if "COUNT(" in q["sql"].upper())
    assert "subsidy_programme" not in count
    assert "accounts_user" not in count
