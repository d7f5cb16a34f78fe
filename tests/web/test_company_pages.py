"""The applicant's company, member, notification and dashboard pages (issue 10)."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from subsidy.models import Application, AuditEntry, Company, CompanyInvitation, Notice
from tests.factories import ApplicationFactory, CompanyFactory, UserFactory

pytestmark = pytest.mark.django_db

COMPANY = {
    "name": "CV Logam Jaya",
    "nib": "1234567890123",
    "npwp": "01.234.567.8-901.000",
    "kbli": "25120",
    "workers": "12",
    "investment_value": "500000000",
    "province": "33",
    "regency": "33.10",
    "address": "Jl. Pemuda 1",
    "bank_name": "BRI",
    "bank_account_number": "002100000001",
    "bank_account_name": "CV Logam Jaya",
}


def _invite(client, company, email, capture):
    with capture(execute=True):
        return client.post(f"/companies/{company.pk}/members/invite/", {"email": email})


def _token(message) -> str:
    return re.search(r"/invitations/([^/\s]+)/", message.body).group(1)


# --- Company form ---------------------------------------------------------------------------


def test_company_form_registers_the_company_with_the_applicant_as_member(client, applicant):
    client.force_login(applicant)

    response = client.post("/companies/new/", COMPANY)

    company = Company.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/companies/{company.pk}/"
    assert list(company.members.all()) == [applicant]
    assert company.npwp == "012345678901000"
    page = client.get(response["Location"])
    assert "Industri Barang Logam, Bukan Mesin dan Peralatannya" in page.text


@pytest.mark.parametrize(
    ("language", "message"),
    [("id", "NIB harus terdiri atas tepat 13 digit."), ("en", "NIB must be exactly 13 digits.")],
)
def test_company_form_refuses_a_bad_nib_next_to_the_field_and_stores_nothing(
    client, applicant, language, message
):
    applicant.language = language
    applicant.save(update_fields=["language"])
    client.force_login(applicant)

    response = client.post("/companies/new/", {**COMPANY, "nib": "12345"})

    assert response.status_code == 200
    assert message in response.text
    assert 'href="#id_nib"' in response.text
    assert not Company.objects.exists()


@pytest.mark.parametrize(
    ("language", "message"),
    [
        ("id", "Masukkan pilihan yang valid. 33.10 bukan salah satu dari pilihan yang tersedia."),
        ("en", "Select a valid choice. 33.10 is not one of the available choices."),
    ],
)
def test_company_form_refuses_a_regency_of_another_province(client, applicant, language, message):
    applicant.language = language
    applicant.save(update_fields=["language"])
    client.force_login(applicant)

    response = client.post("/companies/new/", {**COMPANY, "province": "31"})

    assert response.status_code == 200
    assert message in response.text
    assert 'href="#id_regency"' in response.text
    assert not Company.objects.exists()


def test_regency_options_list_the_regencies_of_the_province(client):
    response = client.get("/regions/regencies/?province=33")

    assert response.status_code == 200
    assert 'value="33.10"' in response.text
    assert 'value="31.71"' not in response.text


def test_showing_regencies_without_javascript_re_renders_without_saving(client, applicant):
    client.force_login(applicant)

    response = client.post(
        "/companies/new/", {**COMPANY, "province": "31", "regency": "", "show_regencies": "1"}
    )

    assert response.status_code == 200
    assert 'value="31.71"' in response.text
    assert "There is a problem" not in response.text and "Ada masalah" not in response.text
    assert not Company.objects.exists()


def test_company_edit_changes_the_company(client, applicant, company):
    client.force_login(applicant)

    response = client.post(f"/companies/{company.pk}/edit/", {**COMPANY, "workers": "20"})

    assert response.status_code == 302
    company.refresh_from_db()
    assert company.workers == 20


def test_another_companys_pages_are_404(client, other_applicant, company):
    client.force_login(other_applicant)

    for path in (
        f"/companies/{company.pk}/",
        f"/companies/{company.pk}/edit/",
        f"/companies/{company.pk}/members/invite/",
    ):
        assert client.get(path).status_code == 404
    assert client.post(f"/companies/{company.pk}/edit/", COMPANY).status_code == 404


@pytest.mark.parametrize(
    "path", ["/dashboard/", "/companies/new/", "/notifications/", "/companies/1/"]
)
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


# --- Members by invitation ------------------------------------------------------------------


def test_invited_applicant_accepts_from_the_e_mailed_link_and_becomes_a_member(
    client, applicant, other_applicant, company, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(applicant)
    response = _invite(client, company, other_applicant.email, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    assert len(mailoutbox) == 1 and mailoutbox[0].to == [other_applicant.email]
    token = _token(mailoutbox[0])
    assert f"http://testserver/invitations/{token}/" in mailoutbox[0].body or token
    assert not CompanyInvitation.objects.filter(token_hash=token).exists()  # stored hashed

    client.force_login(other_applicant)
    page = client.get(f"/invitations/{token}/")
    assert company.name in page.text
    accepted = client.post(f"/invitations/{token}/")

    assert accepted.status_code == 302
    assert company.members.filter(pk=other_applicant.pk).exists()
    assert AuditEntry.objects.filter(action="accept_invitation").exists()
    # The link works once.
    again = client.post(f"/invitations/{token}/")
    assert "sudah digunakan" in again.text


def test_invitation_answer_is_the_same_whether_or_not_an_account_has_the_address(
    client, applicant, other_applicant, company, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(applicant)

    known = _invite(client, company, other_applicant.email, django_capture_on_commit_callbacks)
    known_page = client.get(known["Location"]).text
    unknown = _invite(client, company, "nobody@example.test", django_capture_on_commit_callbacks)
    unknown_page = client.get(unknown["Location"]).text

    assert known.status_code == unknown.status_code == 302
    sent = "Undangan telah dikirim ke alamat itu."
    assert sent in known_page and sent in unknown_page
    assert len(mailoutbox) == 2


def test_an_anonymous_visitor_is_asked_to_log_in_and_come_back(
    client, applicant, company, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(applicant)
    _invite(client, company, "baru@example.test", django_capture_on_commit_callbacks)
    client.logout()
    token = _token(mailoutbox[0])

    page = client.get(f"/invitations/{token}/")

    assert page.status_code == 200
    assert f"/accounts/login/?next=/invitations/{token}/" in page.text
    assert f"/accounts/signup/?next=/invitations/{token}/" in page.text


def test_an_expired_invitation_is_refused(
    client, applicant, other_applicant, company, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(applicant)
    _invite(client, company, other_applicant.email, django_capture_on_commit_callbacks)
    CompanyInvitation.objects.update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    client.force_login(other_applicant)

    response = client.post(f"/invitations/{_token(mailoutbox[0])}/")

    assert "Undangan ini sudah kedaluwarsa." in response.text
    assert not company.members.filter(pk=other_applicant.pk).exists()


def test_re_inviting_an_address_replaces_the_pending_invitation(
    client, applicant, other_applicant, company, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(applicant)
    _invite(client, company, other_applicant.email, django_capture_on_commit_callbacks)
    _invite(client, company, other_applicant.email, django_capture_on_commit_callbacks)
    client.force_login(other_applicant)

    old = client.post(f"/invitations/{_token(mailoutbox[0])}/")

    assert not company.members.filter(pk=other_applicant.pk).exists()
    assert "diganti atau ditarik" in old.text
    assert client.post(f"/invitations/{_token(mailoutbox[1])}/").status_code == 302


def test_an_unknown_invitation_link_is_404(client, applicant):
    client.force_login(applicant)

    assert client.get("/invitations/not-a-token/").status_code == 404


def test_invite_form_refuses_a_bad_address_and_sends_nothing(
    client, applicant, company, mailoutbox
):
    applicant.language = "en"
    applicant.save(update_fields=["language"])
    client.force_login(applicant)

    response = client.post(
        f"/companies/{company.pk}/members/invite/",
        {"email": "bukan-alamat"},
        HTTP_ACCEPT_LANGUAGE="en",
    )

    assert response.status_code == 200
    assert "Enter a valid email address." in response.text
    assert not CompanyInvitation.objects.exists() and mailoutbox == []


def test_a_member_removes_another_member_after_confirming(client, applicant, other_applicant):
    company = CompanyFactory(members=[applicant, other_applicant])
    client.force_login(applicant)

    confirm = client.get(f"/companies/{company.pk}/members/{other_applicant.pk}/remove/")
    removed = client.post(f"/companies/{company.pk}/members/{other_applicant.pk}/remove/")

    assert "budi" in confirm.text
    assert removed.status_code == 302
    assert list(company.members.all()) == [applicant]
    assert AuditEntry.objects.filter(action="remove_member").exists()


def test_the_last_member_cannot_be_removed(client, applicant, company):
    client.force_login(applicant)

    response = client.post(f"/companies/{company.pk}/members/{applicant.pk}/remove/", follow=True)

    assert "anggota terakhir tidak dapat dikeluarkan" in response.text
    assert list(company.members.all()) == [applicant]


def test_company_page_lists_members_by_name_without_e_mail(client, applicant, other_applicant):
    company = CompanyFactory(members=[applicant, other_applicant])
    client.force_login(applicant)

    page = client.get(f"/companies/{company.pk}/")

    assert "budi" in page.text
    assert other_applicant.email not in page.text


# --- Notifications --------------------------------------------------------------------------


def _notice(user, application, n: int, read: bool = False) -> Notice:
    return Notice.objects.create(
        key=f"test:{user.pk}:{n}",
        recipient=user,
        application=application,
        kind=Notice.Kind.REMINDER,
        title=f"Pengingat {n}",
        body="Lengkapi permohonan Anda.",
        read_at=timezone.now() if read else None,
    )


def test_notifications_newest_first_with_unread_marked_and_a_case_link(
    client, applicant, company, programme
):
    application = ApplicationFactory(company=company, programme=programme)
    _notice(applicant, application, 1, read=True)
    _notice(applicant, application, 2)
    client.force_login(applicant)

    page = client.get("/notifications/")

    assert page.text.index("Pengingat 2") < page.text.index("Pengingat 1")
    assert page.text.count("notice-unread") == 1
    assert f'href="/applications/{application.pk}/"' in page.text


def test_marking_a_notice_read_lowers_the_unread_count(client, applicant, company, programme):
    notice = _notice(applicant, ApplicationFactory(company=company, programme=programme), 1)
    client.force_login(applicant)
    assert '1<span class="visually-hidden">' in client.get("/notifications/").text

    response = client.post(f"/notifications/{notice.pk}/read/")

    notice.refresh_from_db()
    assert response.status_code == 302 and notice.read_at is not None
    assert "notice-unread" not in client.get("/notifications/").text


def test_another_users_notice_cannot_be_marked_read(client, other_applicant, applicant):
    notice = _notice(applicant, None, 1)
    client.force_login(other_applicant)

    assert client.post(f"/notifications/{notice.pk}/read/").status_code == 404
    notice.refresh_from_db()
    assert notice.read_at is None


@pytest.mark.parametrize("rows", [1, 20])
def test_notifications_page_queries_do_not_grow(
    client, applicant, company, programme, django_assert_num_queries, rows
):
    application = ApplicationFactory(company=company, programme=programme)
    for n in range(rows):
        _notice(applicant, application, n)
    client.force_login(applicant)

    # session, user, notices, unread count and roles (the workbench link) in the menu.
    with django_assert_num_queries(5):
        client.get("/notifications/")


# --- Dashboard ------------------------------------------------------------------------------


def test_dashboard_shows_status_next_step_and_estimate(client, applicant, company, programme):
    draft = ApplicationFactory(company=company, programme=programme)
    Application.objects.filter(pk=draft.pk).update(
        computed_at=timezone.now(), computed_discount=40_000_000
    )
    client.force_login(applicant)

    page = client.get("/dashboard/")

    assert "Draf" in page.text
    assert "Lengkapi data perusahaan, mesin, dan dokumen, lalu ajukan." in page.text
    assert "Rp 40.000.000" in page.text
    assert f'href="/applications/{draft.pk}/"' in page.text


def test_dashboard_says_the_estimate_is_being_computed(client, applicant, company, programme):
    ApplicationFactory(company=company, programme=programme)
    client.force_login(applicant)

    assert "Sedang dihitung" in client.get("/dashboard/").text


def test_dashboard_hides_other_companies_applications(client, applicant, other_company, programme):
    ApplicationFactory(company=other_company, programme=programme)
    client.force_login(applicant)

    page = client.get("/dashboard/")

    assert other_company.name not in page.text


def test_new_application_button_starts_a_draft_and_refuses_a_second(
    client, applicant, company, programme
):
    client.force_login(applicant)

    first = client.post("/dashboard/new-application/", {"company": company.pk})
    second = client.post("/dashboard/new-application/", {"company": company.pk}, follow=True)

    application = Application.objects.get()
    assert first["Location"] == f"/applications/{application.pk}/"
    assert "Perusahaan ini sudah memiliki permohonan dalam program ini." in second.text
    assert Application.objects.count() == 1


def test_new_application_for_another_company_is_404(client, applicant, other_company, programme):
    client.force_login(applicant)

    response = client.post("/dashboard/new-application/", {"company": other_company.pk})

    assert response.status_code == 404
    assert not Application.objects.exists()


@pytest.mark.parametrize("rows", [1, 8])
def test_dashboard_queries_do_not_grow(
    client, applicant, programme, django_assert_num_queries, rows
):
    for _n in range(rows):
        company = CompanyFactory(members=[applicant])
        ApplicationFactory(company=company, programme=programme)
        company.members.add(UserFactory())
    client.force_login(applicant)

    with django_assert_num_queries(10):
        client.get("/dashboard/")
