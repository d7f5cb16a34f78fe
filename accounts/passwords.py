"""A password validator against common Indonesian passwords (accounts/data/).

People pad a familiar word to the required length with digits: a city and a year
("Jakarta2026", "Surabaya1945"), a word and 123 ("pemohon123", "indonesia123"). The list holds
the words; the rule here strips what is padded around them, so the years need no listing.
"""

import functools
import re
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

WORDS_FILE = Path(__file__).resolve().parent / "data" / "common_passwords_id.txt"

# Digits and punctuation (a year, 123, "!", "-", "_") before or after the word.
_PADDING = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SEPARATORS = re.compile(r"[\W_]+")
_TRAILING_NUMBER = re.compile(r"[\W_]*\d{2,}[\W_]*$")
# Common letter-for-digit swaps: "p4ssw0rd", "j4k4rt4".
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a"})


@functools.cache
def common_words(path: Path = WORDS_FILE) -> frozenset[str]:
    words = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        word = line.split("#", 1)[0].strip().casefold()
        if word:
            words.add(word)
    return frozenset(words)


def stems(password: str) -> set[str]:
    """What the password is once its case, padding and separators are set aside."""
    text = password.strip().casefold()
    found = {text}
    padded_off = _PADDING.sub("", text)
    # A swapped last letter ("j4k4rt4-2024") survives when only the number run is cut first.
    number_off = _PADDING.sub("", _TRAILING_NUMBER.sub("", text).translate(_LEET))
    for stem in (padded_off, padded_off.translate(_LEET), number_off):
        found.add(stem)
        found.add(_SEPARATORS.sub("", stem))
        # A word typed twice ("sayangsayang2024").
        half = len(stem) // 2
        if stem and len(stem) % 2 == 0 and stem[:half] == stem[half:]:
            found.add(stem[:half])
    found.discard("")
    return found


class IndonesianCommonPasswordValidator:
    """Refuse a common Indonesian word padded with digits, a year or punctuation."""

    def __init__(self, path: str | Path | None = None) -> None:
        self.path = Path(path) if path else WORDS_FILE

    def validate(self, password: str, user: object = None) -> None:
        if stems(password) & common_words(self.path):
            raise ValidationError(
                _(
                    "This password is too common: it is a well-known word or name (such as a "
                    "city or 'sayang') with only digits, a year or symbols added."
                ),
                code="password_too_common_id",
            )

    def get_help_text(self) -> str:
        return _(
            "Your password cannot be a common word or name (such as a city) with only digits "
            "or a year added."
        )
