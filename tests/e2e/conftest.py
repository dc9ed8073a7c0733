"""Browser journeys: people using the site end to end in Debian's Chromium (Playwright).

The site runs as in tests/browser (whose fixtures these reuse): pytest-django's live server on
the session's committed test database with the demo content, PostgreSQL and Redis. Background
work (order email, drop reminders, refunds) goes through Redis to a real Celery worker process,
started once per test process for the journeys. What a journey commits it removes again.

Each journey writes full-page screenshots of its main steps to ``var/screenshots/<journey>/``
(emptied at the start of the journey, so the folder shows the last run), and runs axe-core on
every kind of page it visits; a serious or critical violation fails the journey.
"""

from __future__ import annotations

import email
import email.policy
import json
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.browser.conftest import (  # noqa: F401 - fixtures shared with the CSP tests
    CHROMIUM,
    _live_server_helper,
    browser,
    committed,
)
from tests.support.processes import ROOT
from tests.support.shop import through_the_broker
from tests.support.worker import running_workers, start_worker, wait_until_ready, worker_env

SCREENSHOTS = ROOT / "var" / "screenshots"
AXE = ROOT / "tools" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
# Impacts that fail a journey (axe's four levels: minor, moderate, serious, critical).
BLOCKING = {"serious", "critical"}
# WCAG 2.1 A and AA, and axe's best practices; no rule is turned off.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]


@dataclass
class Background:
    """The Celery worker process and where the email it sends lands (one file per message)."""

    email_dir: Path

    def emails(self) -> list[str]:
        """Each message sent: its headers and its decoded text parts (plain and HTML)."""
        texts = []
        for path in sorted(self.email_dir.glob("*")):
            # The file backend writes messages one after another, separated by a line of dashes.
            for raw in path.read_text(errors="replace").split("\n" + "-" * 79 + "\n"):
                if not raw.strip():
                    continue
                message = email.message_from_string(raw, policy=email.policy.default)
                parts = [
                    part.get_content()
                    for part in message.walk()
                    if part.get_content_maintype() == "text"
                ]
                headers = "".join(f"{key}: {value}\n" for key, value in message.items())
                texts.append(headers + "\n".join(parts))
        return texts

    def emails_to(self, address: str) -> list[str]:
        return [text for text in self.emails() if f"To: {address}" in text]


@pytest.fixture(scope="package")
def background(tmp_path_factory, browser) -> Iterator[Background]:  # noqa: F811
    """One real worker for the journeys; tasks go through Redis to it, not eagerly in-process."""
    email_dir = tmp_path_factory.mktemp("journey-email")
    logs = tmp_path_factory.mktemp("journey-worker")
    with running_workers() as workers, through_the_broker():
        worker = start_worker(worker_env(email_dir), logs)
        workers.append(worker)
        wait_until_ready(worker)
        yield Background(email_dir)


@dataclass
class AxeReport:
    """axe-core's findings per kind of page, desktop and phone; saved next to the screenshots."""

    found: dict[str, list[dict]] = field(default_factory=dict)

    def blocking(self) -> dict[str, list[str]]:
        blocking = {}
        for kind, violations in self.found.items():
            if bad := [v for v in violations if v["impact"] in BLOCKING]:
                blocking[kind] = [
                    f"{v['id']} ({v['impact']}): {v['help']} {v['targets']}" for v in bad
                ]
        return blocking


@dataclass
class Journey:
    """A person's browser session: the page, the site's address, screenshots and axe checks."""

    name: str
    context: object
    page: object
    base: str
    folder: Path
    axe: AxeReport
    device: str = "desktop"
    steps: int = 0

    def go(self, path: str, expect_status: int = 200):
        response = self.page.goto(self.base + path, wait_until="load")
        assert response is not None and response.status == expect_status, (path, response.status)
        self.page.wait_for_load_state("networkidle")
        return response

    def shot(self, step: str) -> Path:
        """A full-page screenshot of the current page: ``NN-step.png`` in the journey's folder."""
        self.steps += 1
        path = self.folder / f"{self.steps:02d}-{re.sub(r'[^a-z0-9]+', '-', step.lower())}.png"
        self.page.screenshot(path=str(path), full_page=True, animations="disabled")
        return path

    def check_axe(self, kind: str) -> None:
        """Run axe-core on the page as it is now, once per kind of page and device."""
        key = f"{kind} [{self.device}]"
        if key in self.axe.found:
            return
        # Evaluated through the DevTools protocol: the page's CSP (script-src 'self') does not
        # apply, so axe runs on the very page the person sees, policy and all.
        if not self.page.evaluate("() => typeof window.axe === 'object'"):
            self.page.evaluate(AXE.read_text() + "\n;undefined")
        violations = self._axe_violations()
        if any(v["id"] == "color-contrast" for v in violations):
            # Colours read mid-transition (a message fading in) are neither its own nor the
            # page's: read the page again once it has settled; a real contrast failure stays.
            self.page.wait_for_timeout(1500)
            violations = self._axe_violations()
        self.axe.found[key] = violations

    def _axe_violations(self) -> list[dict]:
        """axe-core's violations of ``AXE_TAGS`` on the page as it is now."""
        return self.page.evaluate(
            """async (tags) => {
                const results = await window.axe.run(document, {
                    runOnly: {type: "tag", values: tags},
                    resultTypes: ["violations"],
                    // Not into frames: axe is injected in the top page only, and the one frame
                    // the journeys meet (the admin's preview) shows a public page checked on
                    // its own.
                    iframes: false,
                });
                return results.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    targets: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
                }));
            }""",
            AXE_TAGS,
        )

    def step(self, name: str, kind: str | None = None) -> None:
        """A main step: screenshot it, and check the page with axe (``kind`` names the page)."""
        self.shot(name)
        if kind:
            self.check_axe(kind)


def _folder(name: str) -> Path:
    folder = SCREENSHOTS / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder


class Journeys:
    """The journeys (browser contexts) of one test, sharing one axe report."""

    def __init__(self, browser, base: str) -> None:  # noqa: F811
        self.browser = browser
        self.base = base
        self.opened: list[Journey] = []
        self.axe = AxeReport()

    def open(self, name: str, device: str = "desktop", **options) -> Journey:
        viewport = PHONE if device == "phone" else DESKTOP
        extra = {"is_mobile": True, "has_touch": True} if device == "phone" else {}
        context = self.browser.new_context(
            base_url=self.base, viewport=viewport, **extra, **options
        )
        context.set_default_timeout(60_000)
        page = context.new_page()
        journey = Journey(name, context, page, self.base, _folder(name), self.axe, device)
        self.opened.append(journey)
        return journey

    def assert_accessible(self) -> None:
        """No serious or critical axe violation on any page kind checked (saved as axe.json)."""
        for journey in self.opened:
            (journey.folder / "axe.json").write_text(json.dumps(self.axe.found, indent=2))
        assert self.axe.found, "axe checked no page"
        blocking = self.axe.blocking()
        assert blocking == {}, "axe: serious or critical violations\n" + json.dumps(
            blocking, indent=2
        )

    def close(self) -> None:
        for journey in self.opened:
            # Leave the page first: an admin editor's "release" beacon is answered while the
            # live server may still use the database.
            try:
                journey.page.goto("about:blank")
                journey.page.wait_for_timeout(200)
            except Exception:  # noqa: S110 - already closed
                pass
            journey.context.close()


@pytest.fixture
def journeys(browser, live_server) -> Iterator[Journeys]:  # noqa: F811
    """Opens browser contexts for a test's journeys on the live server; closes them after."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: `make tools` installs it (npm ci in tools/)")
    opened = Journeys(browser, live_server.url)
    try:
        yield opened
    finally:
        opened.close()


__all__ = ["CHROMIUM", "DESKTOP", "PHONE", "Journey", "Journeys"]
