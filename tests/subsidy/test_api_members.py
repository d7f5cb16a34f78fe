"""Members by invitation through the API: invite by e-mail, accept by the link, remove."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from subsidy.models import AuditEntry, CompanyInvitation
from tests.factories import CompanyFactory
from tests.utils import client_for

pytestmark = pytest.mark.django_db


def _invite(applicant, company, email, capture):
    with capture(execute=True):
        return client_for(applicant).post(
            f"/api/v1/companies/{company.pk}/members/", {"email": email}, format="json"
        )


def _token(message) -> str:
    return re.search(r"/invitations/([^/\s]+)/", message.body).group(1)


def test_the_answer_is_the_same_for_an_address_with_and_without_an_account(
    applicant, other_applicant, company, mailoutbox, django_capture_on_commit_callbacks
):
    known = _invite(applicant, company, other_applicant.email, django_capture_on_commit_callbacks)
    unknown = _invite(applicant, company, "siapa@example.test", django_capture_on_commit_callbacks)

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert [m.to for m in mailoutbox] == [[other_applicant.email], ["siapa@example.test"]]
    assert AuditEntry.objects.filter(action="invite_member").count() == 2


def test_the_link_holds_a_token_stored_only_as_its_hash(
    applicant, company, mailoutbox, django_capture_on_commit_callbacks
):
    _invite(applicant, company, "siapa@example.test", django_capture_on_commit_callbacks)

    token = _token(mailoutbox[0])
    assert "http://" in mailoutbox[0].body
    assert not CompanyInvitation.objects.filter(token_hash=token).exists()
    assert CompanyInvitation.objects.get().token_hash != token


def test_an_expired_invitation_is_refused_with_409(
    applicant, other_applicant, company, mailoutbox, django_capture_on_commit_callbacks
):
    _invite(applicant, company, other_applicant.email, django_capture_on_commit_callbacks)
    CompanyInvitation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))

    response = client_for(other_applicant).post(
        f"/api/v1/invitations/{_token(mailoutbox[0])}/accept/"
    )

    assert response.status_code == 409
    assert "expired" in response.json()["detail"] or "kedaluwarsa" in response.json()["detail"]
    assert not company.members.filter(pk=other_applicant.pk).exists()


def test_an_unknown_token_is_404(other_applicant):
    response = client_for(other_applicant).post("/api/v1/invitations/tidak-ada/accept/")

    assert response.status_code == 404


def test_a_member_removes_another_member(applicant, other_applicant):
    company = CompanyFactory(members=[applicant, other_applicant])

    response = client_for(applicant).delete(
        f"/api/v1/companies/{company.pk}/members/{other_applicant.pk}/"
    )

    assert response.status_code == 204
    assert list(company.members.all()) == [applicant]
    assert client_for(other_applicant).get(f"/api/v1/companies/{company.pk}/").status_code == 404


def test_the_last_member_cannot_be_removed(applicant, company):
    response = client_for(applicant).delete(
        f"/api/v1/companies/{company.pk}/members/{applicant.pk}/"
    )

    assert response.status_code == 409
    assert list(company.members.all()) == [applicant]


def test_removing_someone_who_is_no_member_is_404(applicant, other_applicant, company):
    response = client_for(applicant).delete(
        f"/api/v1/companies/{company.pk}/members/{other_applicant.pk}/"
    )

    assert response.status_code == 404


def test_members_list_names_without_e_mail(applicant, other_applicant):
    company = CompanyFactory(members=[applicant, other_applicant])
    other_applicant.first_name = "Budi"
    other_applicant.save()

    members = client_for(applicant).get(f"/api/v1/companies/{company.pk}/members/").json()

    assert {"id": other_applicant.pk, "username": "budi", "name": "Budi"} in members["results"]


def test_a_mail_server_that_fails_after_commit_does_not_turn_the_invitation_into_a_500(
    applicant, company, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr("subsidy.services.companies.send_mail", refuse)

    response = _invite(applicant, company, "siapa@example.test", django_capture_on_commit_callbacks)

    assert response.status_code == 202
    assert CompanyInvitation.objects.filter(email="siapa@example.test").count() == 1
    assert "could not be sent" in caplog.text
    assert "siapa@example.test" not in caplog.text
