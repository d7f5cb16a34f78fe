"""The Content-Security-Policy is on in the browser tests, and check_page fails on a violation."""

import pytest
from django.utils import timezone

from tests.browser.conftest import check_page
from tests.factories import ProgrammeFactory


@pytest.fixture
def open_programme(transactional_db):
    return ProgrammeFactory(year=timezone.localdate().year)


def test_an_inline_script_is_blocked_and_fails_the_page_check(phone, live_server, open_programme):
    page = phone
    page.goto(live_server.url + "/")
    check_page(page)  # the page itself is clean

    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__inlineRan = true;";
            document.head.appendChild(script);
        }"""
    )

    # The browser reports a violation as an event queued after the refusal.
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__inlineRan === true") is False
    with pytest.raises(AssertionError, match="Content-Security-Policy violations"):
        check_page(page)
