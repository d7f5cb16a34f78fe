"""The client's address as the proxies this deployment trusts saw it, never as the client says.

`X-Forwarded-For` is a list that anyone can start: each proxy appends the address it received
the request from. With TRUSTED_PROXY_COUNT proxies in front of the application, the last of
them is REMOTE_ADDR and the address the outermost one saw is the N-th entry from the end;
everything before it was written by the client. With 0 (the default: gunicorn faces the
clients) the header is ignored. Throttles, the login lockout and logging all call this.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str:
    """The address of the client as seen by the outermost trusted proxy (or the peer)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < count:
        # The request did not come through the whole chain of proxies: only the peer is known.
        return remote
    return _address(hops[-count]) or remote
