"""Account pages (django-allauth): sign-up as an applicant, e-mail verification, language."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core import mail

from accounts.roles import APPLICANT
from tests.factories import UserFactory

User = get_user_model()
PASSWORD = "Kain-tenun-2026!"


def _signup(client, **changes):
    data = {
        "username": "sari",
        "email": "sari@example.test",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **changes,
    }
    return client.post("/accounts/signup/", data)


def _verification_link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", message.body).group(1)


@pytest.mark.django_db
def test_signup_makes_an_applicant_who_must_verify_the_email(client):
    response = _signup(client)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    user = User.objects.get(username="sari")
    assert user.has_role(APPLICANT)
    assert not EmailAddress.objects.filter(user=user, verified=True).exists()
    assert mail.outbox[-1].to == ["sari@example.test"]


@pytest.mark.django_db
def test_signup_keeps_the_language_the_visitor_read_in(client):
    client.post(
        "/accounts/signup/",
        {
            "username": "sari",
            "email": "sari@example.test",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert User.objects.get(username="sari").language == "en"


@pytest.mark.django_db
def test_login_before_verifying_the_email_is_refused_and_after_it_works(client):
    _signup(client)
    link = _verification_link(mail.outbox[-1])
    mail.outbox.clear()
    response = client.post("/accounts/login/", {"login": "sari", "password": PASSWORD})
    # Refused as a wrong password is (one message for both), so that a sign-up with someone
    # else's address followed by a log-in tells nothing (tests/accounts/test_unverified_log_in.py);
    # a new link goes to the address.
    assert response.status_code == 200
    assert "belum diverifikasi" in response.text
    assert "_auth_user_id" not in client.session
    assert [message.to for message in mail.outbox] == [["sari@example.test"]]

    client.post(link)
    response = client.post("/accounts/login/", {"login": "sari@example.test", "password": PASSWORD})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(User.objects.get(username="sari").pk)


@pytest.mark.django_db
def test_signup_with_a_taken_email_answers_as_for_a_new_one_and_stores_nothing(client):
    UserFactory(username="lama", email="sari@example.test")
    mail.outbox.clear()
    response = _signup(client)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"
    assert not User.objects.filter(username="sari").exists()
    assert User.objects.filter(email__iexact="sari@example.test").count() == 1
    # The owner of the address learns of the attempt; the visitor learns nothing.
    assert mail.outbox[-1].to == ["sari@example.test"]


@pytest.mark.django_db
def test_signup_with_a_taken_email_registered_through_the_api_stores_nothing(client, api):
    api.post(
        "/api/v1/auth/register/",
        {"username": "lewatapi", "email": "sari@example.test", "password": PASSWORD},
        format="json",
    )
    _signup(client)
    assert not User.objects.filter(username="sari").exists()


@pytest.mark.django_db
def test_signup_refuses_mismatched_passwords_in_indonesian_and_stores_nothing(client):
    response = _signup(client, password2="Lain-sekali-2026!")
    assert response.status_code == 200
    assert "Anda harus mengetikkan kata sandi yang sama setiap kali." in response.text
    assert 'href="#id_password2"' in response.text
    assert not User.objects.exists()


@pytest.mark.django_db
def test_signup_refuses_mismatched_passwords_in_english(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "sari",
            "email": "sari@example.test",
            "password1": PASSWORD,
            "password2": "Other-2026-pass!",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "You must type the same password each time." in response.text
    assert not User.objects.exists()


@pytest.mark.django_db
def test_password_reset_answers_the_same_for_a_known_and_an_unknown_address(client):
    UserFactory(username="lama", email="lama@example.test")
    known = client.post("/accounts/password/reset/", {"email": "lama@example.test"})
    unknown = client.post("/accounts/password/reset/", {"email": "nobody@example.test"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]


@pytest.mark.parametrize(
    "path", ["/accounts/profile/", "/dashboard/", "/accounts/password/change/"]
)
def test_login_only_pages_send_a_visitor_to_log_in(client, db, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.django_db
def test_profile_saves_the_language_and_pages_follow_it(client, applicant):
    client.force_login(applicant)
    response = client.post("/accounts/profile/", {"language": "en"}, follow=True)
    applicant.refresh_from_db()
    assert applicant.language == "en"
    assert '<html lang="en">' in response.text
    assert "Your language is saved." in response.text


@pytest.mark.django_db
def test_profile_refuses_an_unknown_language_and_changes_nothing(client, applicant):
    client.force_login(applicant)
    response = client.post("/accounts/profile/", {"language": "fr"})
    assert response.status_code == 200
    assert "Masukkan pilihan yang valid. fr bukan salah satu" in response.text
    applicant.refresh_from_db()
    assert applicant.language == "id"


@pytest.mark.django_db
def test_language_switch_of_a_visitor_sets_the_cookie(client):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert client.cookies["django_language"].value == "en"
    assert '<html lang="en">' in client.get("/").text


@pytest.mark.django_db
def test_language_switch_of_a_signed_in_user_saves_it(client, applicant):
    client.force_login(applicant)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    applicant.refresh_from_db()
    assert applicant.language == "en"


@pytest.mark.django_db
def test_the_login_page_links_to_the_password_reset_page_which_speaks_indonesian(client):
    login = client.get("/accounts/login/")
    assert 'href="/accounts/password/reset/"' in login.text
    reset = client.get("/accounts/password/reset/")
    assert reset.status_code == 200
    assert "Lupa kata sandi Anda?" in reset.text


@pytest.mark.django_db
def test_the_password_reset_link_refuses_a_common_indonesian_password(client):
    UserFactory(username="lama", email="lama@example.test")
    client.post("/accounts/password/reset/", {"email": "lama@example.test"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/key/\S+/)", mail.outbox[-1].body)
    assert mail.outbox[-1].to == ["lama@example.test"]
    form = client.get(link.group(1), follow=True)
    assert form.status_code == 200
    weak = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link.group(1),
        {"password1": "Jakarta2026", "password2": "Jakarta2026"},
    )
    assert "Kata sandi ini terlalu umum" in weak.text
    assert User.objects.get(username="lama").check_password("Pw-for-tests-1")
