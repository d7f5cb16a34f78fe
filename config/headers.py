"""Cache-Control for responses carrying personal data: no browser or proxy keeps a copy."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers

# Pages a visitor reaches without signing in that still show someone's data: an invitation
# names the company and the address invited; the account pages hold reset keys in their paths.
_PRIVATE_PREFIXES = ("/api/", "/accounts/", "/invitations/", "/admin/")


def is_public(request: HttpRequest, response: HttpResponseBase) -> bool:
    """A response anyone may cache: to an anonymous visitor, outside the private paths, or
    an API answer its view marked public (e.g. the statistics)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    if request.path_info.startswith(_PRIVATE_PREFIXES):
        return "public" in response.get("Cache-Control", "")
    return True


class NoStoreMiddleware:
    """`Cache-Control: no-store` on every answer to a signed-in user and every private path.

    It runs after DRF has authenticated a token (DRF sets the user on the Django request too),
    so API answers to a token count as signed in.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not is_public(request, response):
            add_never_cache_headers(response)
        return response
