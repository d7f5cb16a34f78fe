"""DOMAIN.md "Input checks" and "Companies and applications", through the services.

Every refusal is a field error (a ValidationError naming the field) and stores nothing: no
row, no audit entry.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from config.errors import ServiceError
from subsidy import audit
from subsidy.engine import rules
from subsidy.models import Application, AuditEntry, Company, Document, MachineItem
from subsidy.services import applications as application_services
from subsidy.services import companies as company_services
from subsidy.services import documents as document_services
from subsidy.workflow import actions as workflow
from tests.factories import ProgrammeFactory
from tests.utils import complete_application, item_data, pdf_upload

pytestmark = pytest.mark.django_db

JAKARTA = ZoneInfo("Asia/Jakarta")


def tomorrow_in_jakarta() -> dt.date:
    return timezone.localdate(timezone=JAKARTA) + dt.timedelta(days=1)


def company_data(**overrides: object) -> dict:
    data = {
        "name": "CV Sinar Logam",
        "nib": "1234567890123",
        "npwp": "01.234.567.8-901.000",
        "kbli": "25120",
        "workers": 10,
        "investment_value": 500_000_000,
        "province": "33",
        "regency": "33.10",
        "address": "Jl. Veteran 2, Klaten",
        "bank_name": "BRI",
        "bank_account_number": "002101000123",
        "bank_account_name": "CV Sinar Logam",
    }
    data.update(overrides)
    return data


def stored() -> dict[str, int]:
    """What a refused input must leave unchanged."""
    return {
        "companies": Company.objects.count(),
        "applications": Application.objects.count(),
        "items": MachineItem.objects.count(),
        "documents": Document.objects.count(),
        "audit": AuditEntry.objects.count(),
    }


def assert_refused(field: str, call, *args, **kwargs) -> ValidationError:
    before = stored()
    with pytest.raises(ValidationError) as caught:
        call(*args, **kwargs)
    assert field in caught.value.message_dict, caught.value.message_dict
    assert stored() == before
    return caught.value


@pytest.fixture
def draft(applicant, company, programme):
    return application_services.application_create(
        by=applicant, programme=programme, company=company
    )


def computed(application: Application) -> Application:
    """Run the computation job as the worker would, and read the results back."""
    from subsidy.tasks import compute_application

    compute_application(application.pk)
    application.refresh_from_db()
    return application


# --- Companies -----------------------------------------------------------------------------

COMPANY_REFUSALS = [
    ("nib", "123456789012"),  # 12 digits
    ("nib", "12345678901234"),  # 14 digits
    ("nib", "12345678901a3"),
    ("nib", "١٢٣٤٥٦٧٨٩٠١٢٣"),  # 13 digits, but not ASCII ones
    ("npwp", "01.234.567.8-901.00"),  # 14 digits
    ("npwp", "01.234.567.8-901.00012"),  # 17 digits
    ("npwp", "01.234.567.8-901.00A"),  # a letter is not punctuation
    ("kbli", "2512"),
    ("kbli", "251200"),
    ("kbli", "25a20"),
    ("workers", -1),
    ("workers", 1.5),
    ("investment_value", -1),
    ("name", ""),
    ("name", "   "),
    ("province", "99"),  # unknown province
    ("regency", "33.99"),  # unknown regency
    ("regency", "34.01"),  # a regency of DI Yogyakarta, not of Jawa Tengah
]


@pytest.mark.parametrize(("field", "value"), COMPANY_REFUSALS)
def test_company_create_refuses_bad_input_and_stores_nothing(applicant, field, value):
    assert_refused(
        field, company_services.company_create, by=applicant, **company_data(**{field: value})
    )


def test_company_create_refuses_a_regency_without_its_province(applicant):
    assert_refused(
        "province", company_services.company_create, by=applicant, **company_data(province="")
    )


@pytest.mark.parametrize(("field", "value"), COMPANY_REFUSALS)
def test_company_update_refuses_bad_input_and_changes_nothing(applicant, company, field, value):
    before = audit.snapshot(company, company_services.COMPANY_FIELDS)
    assert_refused(
        field, company_services.company_update, company=company, by=applicant, **{field: value}
    )
    company.refresh_from_db()
    assert audit.snapshot(company, company_services.COMPANY_FIELDS) == before


@pytest.mark.parametrize(
    ("typed", "stored_as"),
    [
        ("01.234.567.8-901.000", "012345678901000"),
        ("01 234 567 8 901 000", "012345678901000"),
        ("3301234567890123", "3301234567890123"),  # 16 digits: NIK-based NPWP
    ],
)
def test_company_npwp_accepts_punctuation_and_stores_digits(applicant, typed, stored_as):
    company = company_services.company_create(by=applicant, **company_data(npwp=typed))
    company.refresh_from_db()
    assert company.npwp == stored_as


def test_company_create_makes_the_applicant_its_first_member_and_records_it(applicant):
    before = AuditEntry.objects.count()
    company = company_services.company_create(by=applicant, **company_data())
    assert list(company.members.all()) == [applicant]
    assert AuditEntry.objects.count() == before + 1


def test_a_second_company_with_the_same_nib_is_refused(applicant, other_applicant):
    company_services.company_create(by=applicant, **company_data(nib="3300000000001"))
    assert_refused(
        "nib",
        company_services.company_create,
        by=other_applicant,
        **company_data(name="PT Lain", nib="3300000000001"),
    )


def test_changing_the_nib_to_another_companys_is_refused(applicant, company, other_company):
    assert_refused(
        "nib", company_services.company_update, company=company, by=applicant, nib=other_company.nib
    )


def test_an_invited_applicant_who_accepts_may_then_apply(
    applicant, other_applicant, programme, mailoutbox, django_capture_on_commit_callbacks
):
    company = company_services.company_create(by=applicant, **company_data())
    with django_capture_on_commit_callbacks(execute=True):
        company_services.company_invite_member(
            company=company, by=applicant, email=other_applicant.email
        )
    token = mailoutbox[0].body.split("/invitations/")[1].split("/")[0]
    company_services.invitation_accept(token=token, by=other_applicant)
    assert set(company.members.all()) == {applicant, other_applicant}
    application = application_services.application_create(
        by=other_applicant, programme=programme, company=company
    )
    assert application.company == company


def test_a_stranger_cannot_invite_members_and_does_not_learn_the_company_exists(
    applicant, other_applicant, company
):
    with pytest.raises(ServiceError) as caught:
        company_services.company_invite_member(
            company=company, by=other_applicant, email="budi@example.test"
        )
    assert caught.value.code == "not_found"


@pytest.mark.parametrize(
    ("workers", "investment_value", "kbli", "codes"),
    [
        (50, 20_000_000_000, "25120", {rules.COMPANY_NOT_IKM}),
        (10, 500_000_000, "47111", {rules.KBLI_NOT_MANUFACTURING}),  # retail, not industry
        (50, 20_000_000_000, "47111", {rules.COMPANY_NOT_IKM, rules.KBLI_NOT_MANUFACTURING}),
    ],
)
def test_scale_and_kbli_never_refuse_input_but_produce_findings(
    applicant, programme, workers, investment_value, kbli, codes
):
    company = company_services.company_create(
        by=applicant, **company_data(workers=workers, investment_value=investment_value, kbli=kbli)
    )
    assert company.pk is not None
    application = application_services.application_create(
        by=applicant, programme=programme, company=company
    )
    item = application_services.item_create(application=application, by=applicant, **item_data())
    application = computed(application)
    found = {f["code"] for f in application.findings}
    assert codes <= found
    assert found & rules.BLOCKING_CODES >= codes
    item.refresh_from_db()
    if rules.COMPANY_NOT_IKM in codes:
        # A besar company has no rate: its items get nothing.
        assert (item.rate, item.discount) == (Decimal("0"), 0)
        assert application.scale == rules.BESAR
    else:
        assert item.discount == 40_000_000


# --- Applications --------------------------------------------------------------------------


def test_a_second_live_application_in_the_same_programme_is_refused(
    applicant, company, programme, draft
):
    before = stored()
    with pytest.raises(ServiceError) as caught:
        application_services.application_create(by=applicant, programme=programme, company=company)
    assert caught.value.code == "duplicate_application"
    assert stored() == before


def test_the_same_company_may_apply_in_another_programme(applicant, company, draft):
    other = application_services.application_create(
        by=applicant, programme=ProgrammeFactory(), company=company
    )
    assert other.status == Application.Status.DRAFT


def test_a_new_application_is_allowed_after_the_first_is_withdrawn(
    applicant, company, programme, draft
):
    workflow.application_withdraw(application=draft, by=applicant)
    again = application_services.application_create(
        by=applicant, programme=programme, company=company
    )
    assert again.pk != draft.pk
    assert again.status == Application.Status.DRAFT


def test_a_new_application_is_allowed_after_the_first_is_rejected(
    applicant, company, programme, draft, verifier
):
    complete_application(draft, applicant)
    workflow.application_submit(application=draft, by=applicant)
    workflow.application_start_review(application=draft, by=verifier)
    workflow.application_reject(application=draft, by=verifier, comment="Faktur palsu.")
    again = application_services.application_create(
        by=applicant, programme=programme, company=company
    )
    assert again.status == Application.Status.DRAFT


def test_a_draft_may_be_created_outside_the_application_window(applicant, company):
    today = timezone.localdate()
    closed = ProgrammeFactory(
        application_opens=today + dt.timedelta(days=10),
        application_closes=today + dt.timedelta(days=40),
    )
    application = application_services.application_create(
        by=applicant, programme=closed, company=company
    )
    assert application.status == Application.Status.DRAFT
    assert application.reference is None
    complete_application(application, applicant)
    with pytest.raises(ServiceError) as caught:
        workflow.application_submit(application=application, by=applicant)
    assert caught.value.code == "window_closed"


def test_only_a_member_creates_an_application(other_applicant, company, programme, verifier):
    with pytest.raises(ServiceError) as caught:
        application_services.application_create(
            by=other_applicant, programme=programme, company=company
        )
    assert caught.value.code == "not_found"
    with pytest.raises(ServiceError) as caught:
        application_services.application_create(by=verifier, programme=programme, company=company)
    assert caught.value.code == "forbidden"


# --- Machine items -------------------------------------------------------------------------

ITEM_REFUSALS = [
    ("price", 0),
    ("price", -1),
    ("price", 10**13 + 1),
    ("price", 1.5),
    ("price", "banyak"),
    ("vat", -1),
    ("invoice_date", "tomorrow"),
    ("installed_on", "tomorrow"),
    ("invoice_date", "2026-02-30"),
    ("origin", "china"),
    ("payment_method", "cheque"),
    ("description", ""),
    ("description", "  \t "),
    ("serial_number", ""),
    ("serial_number", "   "),
    ("serial_number", "-/-"),  # folds to nothing: no serial to claim
    ("supplier_name", ""),
    ("supplier_name", "   "),
    ("supplier_npwp", ""),
    ("supplier_npwp", "   "),
    ("supplier_npwp", "01.234.567.8-901.00"),  # 14 digits
    ("invoice_number", ""),
    ("invoice_number", "  "),
    ("tax_invoice_number", ""),
    ("tax_invoice_number", "   "),
]


def _value(value: object) -> object:
    return tomorrow_in_jakarta() if value == "tomorrow" else value


@pytest.mark.parametrize(("field", "value"), ITEM_REFUSALS)
def test_item_create_refuses_bad_input_and_stores_nothing(applicant, draft, field, value):
    assert_refused(
        field,
        application_services.item_create,
        application=draft,
        by=applicant,
        **item_data(**{field: _value(value)}),
    )


@pytest.mark.parametrize(("field", "value"), ITEM_REFUSALS)
def test_item_update_refuses_bad_input_and_changes_nothing(applicant, draft, field, value):
    item = application_services.item_create(application=draft, by=applicant, **item_data())
    before = audit.snapshot(item, application_services.ITEM_FIELDS)
    assert_refused(
        field, application_services.item_update, item=item, by=applicant, **{field: _value(value)}
    )
    item.refresh_from_db()
    assert audit.snapshot(item, application_services.ITEM_FIELDS) == before


def test_item_price_up_to_ten_trillion_is_accepted(applicant, draft):
    item = application_services.item_create(
        application=draft, by=applicant, **item_data(price=10**13)
    )
    item.refresh_from_db()
    assert item.price == 10**13


def test_item_dated_today_in_jakarta_is_accepted(applicant, draft):
    today = timezone.localdate(timezone=JAKARTA)
    item = application_services.item_create(
        application=draft, by=applicant, **item_data(invoice_date=today, installed_on=today)
    )
    assert item.invoice_date == today


def test_item_supplier_npwp_is_stored_as_digits(applicant, draft):
    item = application_services.item_create(
        application=draft, by=applicant, **item_data(supplier_npwp="01.234.567.8-901.000")
    )
    item.refresh_from_db()
    assert item.supplier_npwp == "012345678901000"


def test_item_create_records_one_audit_entry(applicant, draft):
    before = AuditEntry.objects.count()
    item = application_services.item_create(application=draft, by=applicant, **item_data())
    entry = AuditEntry.objects.get(seq=before + 1)
    assert AuditEntry.objects.count() == before + 1
    assert (entry.action, entry.object_type, entry.object_id) == ("create", "item", item.pk)


def test_a_document_of_an_unknown_kind_is_refused(applicant, draft):
    assert_refused(
        "kind",
        document_services.document_upload,
        application=draft,
        by=applicant,
        kind="passport",
        file=pdf_upload(),
    )
