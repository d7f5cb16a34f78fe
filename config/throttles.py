"""DRF's throttles keyed on the trusted client address (config/client_ip.py)."""

from rest_framework import throttling
from rest_framework.request import Request

from .client_ip import client_ip


class ScopedRateThrottle(throttling.ScopedRateThrottle):
    """A scope's rate per user, or per client address for anonymous callers."""

    def get_ident(self, request: Request) -> str:
        return client_ip(request)
