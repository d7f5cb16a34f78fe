"""The password policy: 12 characters, and no common Indonesian word padded with digits."""

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import translation

from accounts.passwords import common_words, stems

TOO_COMMON_ID = "Kata sandi ini terlalu umum"
TOO_COMMON_EN = "This password is too common"

pytestmark = pytest.mark.django_db


def _messages(password: str, language: str = "id") -> list[str]:
    with translation.override(language):
        try:
            validate_password(password)
        except ValidationError as error:
            return list(error.messages)
    return []


@pytest.mark.parametrize(
    "password",
    [
        "indonesia123",
        "Surabaya1945",
        "Jakarta-2026!",
        "PEMOHON-2025-",
        "bismillah2024",
        "Merdeka17081945",
        "sayangsayang2024",
        "123456Bandung",
        "P4ssw0rd!!2024",
        "J4k4rt4-2024!!",
        "Rahasia_2026__",
    ],
)
def test_a_common_word_padded_with_digits_is_refused_in_indonesian(password):
    assert any(TOO_COMMON_ID in m for m in _messages(password))


def test_the_refusal_is_in_english_for_an_english_reader():
    assert any(TOO_COMMON_EN in m for m in _messages("Yogyakarta2026", "en"))


@pytest.mark.parametrize("password", ["jakarta2024", "pemohon123", "Jakarta2026"])
def test_the_probed_passwords_are_refused_also_for_length(password):
    messages = _messages(password)
    assert any(TOO_COMMON_ID in m for m in messages)
    assert any("12 karakter" in m for m in messages)


def test_eleven_characters_are_too_few_and_twelve_enough():
    assert any("12 karakter" in m for m in _messages("Kx9#mQ2$vLp"))
    assert _messages("Kx9#mQ2$vLpz") == []


@pytest.mark.parametrize(
    "password",
    [
        "Demo-pemohon-2026",  # README's demo logins
        "Demo-admin-2026",
        "Mesin-bubut-2026",
        "Rahasia-Panjang-2026!",  # a common word is fine inside a longer phrase
        "kopi susu di pagi hari",
    ],
)
def test_a_phrase_that_merely_contains_a_common_word_is_accepted(password):
    assert _messages(password) == []


def test_the_list_ships_with_the_code_and_holds_the_probed_words():
    words = common_words()
    assert {"jakarta", "surabaya", "indonesia", "pemohon", "sayang", "rahasia"} <= words
    assert len(words) > 500


def test_stems_drop_case_years_and_symbols():
    assert "surabaya" in stems("Surabaya1945")
    assert "jakarta" in stems("--JAKARTA 2026!")


def test_registration_refuses_a_common_indonesian_password(api):
    response = api.post(
        "/api/v1/auth/register/",
        {"username": "sari", "email": "sari@example.test", "password": "Surabaya1945"},
        format="json",
    )
    assert response.status_code == 400
    assert any(TOO_COMMON_ID in m for m in response.json()["errors"]["password"])


def test_the_sign_up_page_refuses_it_in_english(client):
    response = client.post(
        "/accounts/signup/",
        {
            "username": "sari",
            "email": "sari@example.test",
            "password1": "Indonesia-2026",
            "password2": "Indonesia-2026",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    assert TOO_COMMON_EN in response.text
