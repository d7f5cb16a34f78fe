"""OpenAPI description of the session authentication subclass (the token one is matched)."""

from drf_spectacular.authentication import SessionScheme


class LanguageSessionScheme(SessionScheme):
    target_class = "accounts.authentication.LanguageSessionAuthentication"
