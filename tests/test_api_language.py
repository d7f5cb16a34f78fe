"""Every message of the API in the caller's language: the user's `language` once signed in,
Accept-Language (default Indonesian) before; DRF's and django-filter's own messages included."""

import inspect

import pytest
from django.utils import translation
from rest_framework import fields, relations, serializers
from rest_framework.test import APIClient

from config.third_party_messages import MESSAGES
from tests.subsidy.test_api_permissions import in_state
from tests.utils import api_token_for, item_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_language():
    yield
    translation.deactivate()


def token_client(user, language: str) -> APIClient:
    user.language = language
    user.save(update_fields=["language"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_for(user)}")
    return client


def _drf_error_messages() -> set[str]:
    """Every default error message of DRF's fields, relations and serializers."""
    found = set()
    for module in (fields, relations, serializers):
        for _name, klass in inspect.getmembers(module, inspect.isclass):
            for message in getattr(klass, "default_error_messages", {}).values():
                with translation.override("en"):
                    found.add(str(message))
    return found


def test_every_drf_field_error_message_has_an_indonesian_translation():
    messages = _drf_error_messages() | set(MESSAGES)
    assert len(messages) > 50

    with translation.override("id"):
        untranslated = sorted(m for m in messages if translation.gettext(m) == m)

    assert untranslated == []


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("id", "Nilai bidang ini harus berupa bilangan bulat."),
        ("en", "A valid integer is required."),
    ],
)
def test_a_field_error_follows_the_users_language(applicant, company, language, expected):
    draft = in_state(company, "draft")

    response = token_client(applicant, language).post(
        f"/api/v1/applications/{draft.pk}/items/", item_data(price="seratus"), format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["price"] == [expected]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("id", '"klingon" tidak ada dalam daftar pilihan.'),
        ("en", '"klingon" is not a valid choice.'),
    ],
)
def test_a_choice_error_follows_the_users_language(applicant, language, expected):
    response = token_client(applicant, language).patch(
        "/api/v1/me/", {"language": "klingon"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["language"] == [expected]


@pytest.mark.parametrize(
    ("language", "errors"),
    [
        ("id", 'Seharusnya berupa daftar (list), bukan "str".'),
        ("en", 'Expected a list of items but got type "str".'),
    ],
)
def test_a_list_error_follows_the_users_language(superuser, programme, language, errors):
    response = token_client(superuser, language).patch(
        f"/api/v1/programmes/{programme.pk}/", {"rates": "0.4"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"]["rates"] == {"non_field_errors": [errors]}


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "Bidang ini harus diisi."),
        ("id-ID,id;q=0.9", "Bidang ini harus diisi."),
        ("en-US,en;q=0.9", "This field is required."),
    ],
)
def test_before_signing_in_accept_language_decides_and_indonesian_is_the_default(accept, expected):
    headers = {"HTTP_ACCEPT_LANGUAGE": accept} if accept else {}

    response = APIClient().post("/api/v1/auth/token/", {}, format="json", **headers)

    assert response.status_code == 400
    body = response.json()
    assert body["errors"]["username"] == [expected]
    assert body["detail"] != ""


@pytest.mark.parametrize(
    ("language", "expected"),
    [("id", "Masukkan tanggal yang valid."), ("en", "Enter a valid date.")],
)
def test_a_filter_error_follows_the_users_language(verifier, language, expected):
    response = token_client(verifier, language).get("/api/v1/applications/?submitted_after=kemarin")

    assert response.status_code == 400
    assert response.json()["errors"]["submitted_after"] == [expected]
