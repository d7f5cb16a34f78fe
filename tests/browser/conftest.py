"""Browser tests: pytest-playwright driving Debian's Chromium against pytest-django's live_server.

Playwright's own browser download is impossible here, so the system Chromium is used. Without
it the tests skip with the reason printed; CI (REQUIRE_SERVICES=1) installs it and a missing
browser fails instead.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.conftest import REQUIRE_SERVICES

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {"width": 390, "height": 844}

# Collects Content-Security-Policy violations in the page, before any of its own code runs.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> Iterator[dict]:
    if not os.access(CHROMIUM, os.X_OK):
        reason = f"needs Chromium at {CHROMIUM}: apt-get install -y chromium (CI installs it)"
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}")
        pytest.skip(reason)
    # Playwright's sync API leaves its event loop set as running in this thread until the
    # session ends; the tests' ORM calls (fixtures, rows checked, the database flush) are still
    # plain synchronous code, so Django's guard against ORM calls in async code stands aside.
    saved = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}
    if saved is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = saved


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    # A visitor's phone in Indonesia: the pages start in Indonesian.
    return {**browser_context_args, "viewport": PHONE, "locale": "id-ID"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def phone(
    live_server,
    transactional_db,
    page,
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
):
    """The page on a phone, watching for CSP violations; a screenshot if the test fails.

    The live server and the database come first: once Playwright's loop runs, Django refuses
    to create the test database from this thread.
    """
    page.add_init_script(CSP_LISTENER)
    page.on("response", _remember_policy)
    page.set_default_timeout(10_000)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = Path(os.environ.get("BROWSER_SCREENSHOTS", tmp_path_factory.mktemp("screens")))
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{request.node.name}.png"
        page.screenshot(path=str(path), full_page=True)
        print(f"screenshot of the failure: {path}")


_axe = Axe()
# The Content-Security-Policy header of each page's latest document (htmx swaps keep it).
_policies: dict[int, str] = {}


def _remember_policy(response) -> None:
    frame = response.frame
    if response.request.resource_type == "document" and frame == frame.page.main_frame:
        _policies[id(frame.page)] = response.headers.get("content-security-policy", "")


def check_page(page) -> None:
    """What every page must pass: axe (no serious or critical issue) and the CSP rules."""
    results = _axe.run(page)
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == [], f"{page.url}: {serious}"
    policy = _policies.get(id(page), "")
    assert "script-src 'self';" in policy + ";", f"{page.url}: no Content-Security-Policy"
    assert "unsafe" not in policy, f"{page.url}: {policy}"
    violations = page.evaluate("window.__cspViolations || []")
    assert violations == [], f"{page.url}: Content-Security-Policy violations {violations}"
    # Nor anything the policy blocks in the markup, whether or not the browser reported it.
    inline = page.evaluate(
        """() => [...document.querySelectorAll("script:not([src])")].length
              + [...document.querySelectorAll("*")].filter(
                  (el) => [...el.attributes].some((a) => a.name.startsWith("on"))).length
              + [...document.querySelectorAll("[style]")].length"""
    )
    assert inline == 0, f"{page.url}: inline script, event attribute or style attribute"


def log_in_through_the_page(page, live_server, username: str, password: str, user=None) -> None:
    """The log-in form as a person fills it; for a user with an authenticator app (every staff
    user of the factories), the second step too: the app's current code."""
    from tests.utils import totp_code

    page.goto(live_server.url + "/accounts/login/")
    page.fill("#id_login", username)
    page.fill("#id_password", password)
    page.locator("main form button[type=submit]").click()
    if user is not None and "/2fa/authenticate/" in page.url:
        page.fill("#id_code", totp_code(user))
        page.locator("main form button[type=submit]").first.click()
