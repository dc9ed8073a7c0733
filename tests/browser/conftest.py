"""Real-browser tests: Debian's Chromium (/usr/bin/chromium) driven by Playwright.

One browser for the whole session, a fresh context (cookies, storage) per test. Chromium
resolves no host name but loopback, so a page cannot reach the internet whatever it links to.

The site is pytest-django's ``live_server`` on the session's test database, demo content
included. pytest-django would make each live_server test transactional, and Django's
TransactionTestCase empties every table after the test: the demo content would be gone for every
test after it. So these tests run outside any per-test transaction (as tests/support/shop.py
describes): what a test commits it removes again (see ``committed``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest
from django.db import connection

CHROMIUM = "/usr/bin/chromium"

# Runs in every frame before the page's own scripts: each CSP violation goes to Python.
_WATCH_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", function (event) {
  window.__reportCspViolation({
    page: document.location.href,
    directive: event.effectiveDirective,
    blocked: event.blockedURI,
    source: event.sourceFile,
    line: event.lineNumber,
    sample: event.sample,
  });
});
"""


@pytest.fixture(scope="package")
def browser(django_db_setup):
    """One Chromium for every test in this package.

    Package-scoped, not session-scoped: Playwright's sync API keeps an asyncio loop running on
    the main thread while it is started, and Django refuses database calls under a running loop.
    Browser tests allow them (DJANGO_ALLOW_ASYNC_UNSAFE: these are plain synchronous calls) for
    as long as the browser is open, and every other test keeps Django's guard.
    """
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (scripts/ensure_browser.sh)")
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    # Only loopback resolves: no request leaves the machine.
                    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
                    # Reporting API reports (report-to) within a second instead of a minute.
                    "--short-reporting-delay",
                ],
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def _live_server_helper(request: pytest.FixtureRequest, django_db_blocker) -> Iterator[None]:
    """Replaces pytest-django's helper here: database access without TransactionTestCase's flush.

    The live server's threads and the test share the session's committed test database.
    """
    if "live_server" not in request.fixturenames:
        yield
        return
    request.getfixturevalue("django_db_setup")
    live_server = request.getfixturevalue("live_server")
    with django_db_blocker.unblock():
        if not connection.settings_dict["NAME"].startswith("test_"):
            pytest.fail("refusing to run browser tests outside a test database")
        live_server._live_server_modified_settings.enable()
        try:
            yield
        finally:
            live_server._live_server_modified_settings.disable()


@pytest.fixture(scope="session")
def csp_reports() -> Iterator[list[logging.LogRecord]]:
    """Every violation the site's report endpoint logs during the session (core.views)."""
    records: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Collect(level=logging.WARNING)
    logger = logging.getLogger("artspot.csp")
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


@dataclass
class Watch:
    """What the browser said about the site's policies while the test ran."""

    violations: list[dict] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def problems(self) -> list:
        return self.violations + self.console


@dataclass
class Browsing:
    context: object
    page: object
    base: str
    watch: Watch

    def visit(self, path: str, expect_status: int = 200):
        response = self.page.goto(self.base + path, wait_until="load")
        assert response is not None and response.status == expect_status, (path, response)
        # Let scripts that run after load (admin widgets, fetches) finish.
        self.page.wait_for_load_state("networkidle")
        return response


@pytest.fixture
def browsing(browser, live_server, settings) -> Iterator[Browsing]:
    """A fresh browser context on the live server, watching for CSP violations.

    The policies are the site's, less `report-to`: Chromium sends those reports through the
    Reporting API, which it did not deliver to this plain-HTTP loopback server, and falls back
    to `report-uri` without it. So a violation also reaches the site's report endpoint here.
    """
    for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_ADMIN"):
        directives = dict(getattr(settings, name)["DIRECTIVES"])
        del directives["report-to"]
        setattr(settings, name, {"DIRECTIVES": directives})
    watch = Watch()
    context = browser.new_context(base_url=live_server.url)

    def on_violation(violation: dict) -> None:
        watch.violations.append(violation)

    context.expose_function("__reportCspViolation", on_violation)
    context.add_init_script(_WATCH_VIOLATIONS)

    def on_console(message) -> None:
        text = message.text
        # Also Chromium's complaints about the Permissions-Policy header.
        if any(
            name in text
            for name in ("Content Security Policy", "Content-Security-Policy", "Permissions-Policy")
        ):
            watch.console.append(text)

    context.on("console", on_console)
    # Generous: renditions are made on first view, and the test machine may be busy.
    context.set_default_timeout(60_000)
    page = context.new_page()
    try:
        yield Browsing(context=context, page=page, base=live_server.url, watch=watch)
    finally:
        context.close()


@pytest.fixture
def committed() -> Iterator[list[Callable[[], None]]]:
    """Clean-ups for rows a browser test commits, run after the test (last made, first undone)."""
    undo: list[Callable[[], None]] = []
    yield undo
    for step in reversed(undo):
        step()
