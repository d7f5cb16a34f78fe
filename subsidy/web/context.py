"""Template context every page shares: the unread notices counted in the menu."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from subsidy import selectors


def unread_notices(request: HttpRequest) -> dict[str, object]:
    """The count of the user's unread notices, queried only by a page that shows the menu."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notice_count": SimpleLazyObject(lambda: selectors.unread_notice_count(user))}
