"""End-to-end fixtures: the portal served for real, Debian's Chromium driven by Playwright, axe-core.

* ``live_app`` / ``live_server``: the app built by ``app_factory`` (Celery eager) and served by werkzeug on
  127.0.0.1 and a free port, in a background thread. Tests seed their data through the services inside
  ``with live_app.app_context(): ...; db.session.commit()``; every table is emptied after each test.
* ``browser``: one headless Chromium per session (``/usr/bin/chromium``, never a downloaded browser; if it is
  missing the tests fail, they do not skip: ``make chromium`` installs it); ``page``: a fresh context per test.
* ``assert_accessible(page)``: runs the vendored axe-core on the page (WCAG 2.0/2.1 A and AA rules).
"""

from __future__ import annotations

import importlib.resources
import os
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect, sync_playwright
from werkzeug.serving import make_server

from portal.extensions import db
from tests.conftest import TEST_PASSWORD, clean_tables

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
TIMEOUT_MS = 10_000
expect.set_options(timeout=TIMEOUT_MS)  # web-first assertions wait up to this long (5 s by default)


def _axe_source() -> str:
    """axe.min.js as vendored by axe-playwright-python (no network, no CDN)."""
    path = importlib.resources.files("axe_playwright_python") / "axe.min.js"
    return path.read_text(encoding="utf-8")


AXE_SOURCE = _axe_source()


# The portal ------------------------------------------------------------------------------------


@pytest.fixture
def live_app(app_factory):
    """The app the live server serves; seed through it with ``with live_app.app_context(): ...``."""
    return app_factory(CELERY_TASK_ALWAYS_EAGER="1")


@pytest.fixture
def live_server(live_app) -> Iterator[str]:
    """Serve ``live_app`` on 127.0.0.1 and a free port (bound with port 0: no race); yield its base URL."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    # A short poll interval: shutdown() waits for the serving loop to notice it (0.5 s by default, per test).
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="e2e-live-server", daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with live_app.app_context():
            db.session.remove()
            clean_tables()


# The browser -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium est introuvable ({CHROMIUM}) : les tests de bout en bout utilisent le Chromium de Debian, "
            "jamais un navigateur téléchargé. Installez-le avec `make chromium` (apt-get install chromium), "
            "ou indiquez son chemin dans la variable CHROMIUM.",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    # No bypass_csp: the pages are tested under the portal's real policy (script-src 'self'). page.evaluate
    # runs its script through the DevTools protocol, to which the page's CSP does not apply, and axe-core then
    # runs without eval, inline script or network, so injecting axe.min.js this way works under the policy
    # (test_axe_runs_under_the_portal_csp checks it: no CSP violation is reported while axe runs).
    ctx = browser.new_context(base_url=live_server, locale="fr-FR", timezone_id="Europe/Paris")
    ctx.set_default_timeout(TIMEOUT_MS)
    ctx.set_default_navigation_timeout(TIMEOUT_MS)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


# Helpers ---------------------------------------------------------------------------------------


def field(page: Page, label: str) -> Locator:
    """The form control whose accessible name is ``label``, possibly followed by a mention such as
    "(obligatoire)": "Mot de passe" finds the password field, and "… à temps complet" does not find
    "… à temps non complet"."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}(\s|$)"))


def login(page: Page, email: str, password: str = TEST_PASSWORD) -> None:
    """Log in through the form, as a person would."""
    page.goto("/connexion")
    field(page, "Adresse électronique").fill(email)
    field(page, "Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page, f"la connexion de {email} a échoué").not_to_have_url(re.compile(r"/connexion"))


def axe_violations(page: Page) -> list[dict]:
    """Run axe-core (WCAG 2.0/2.1, levels A and AA) on the page; return its violations."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SOURCE)
    return page.evaluate(
        """async (tags) => {
            const results = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return results.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary})),
            }));
        }""",
        AXE_TAGS,
    )


def format_violations(violations: list[dict], where: str) -> str:
    lines = [f"{len(violations)} violation(s) axe-core sur {where} :"]
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}) : {v['help']} <{v['helpUrl']}>")
        for node in v["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    cible : {target}")
            lines.append(f"      html : {node['html'][:200]}")
            if node["summary"]:
                lines.append("      " + node["summary"].replace("\n", "\n      "))
    return "\n".join(lines)


def assert_accessible(page: Page, label: str | None = None) -> None:
    """Fail with the rule id, help text and target selectors of every axe violation on the page."""
    violations = axe_violations(page)
    if violations:
        raise AssertionError(format_violations(violations, label or page.url))


class AxeAudit:
    """Audit several pages in one test and report every page's violations at once."""

    def __init__(self) -> None:
        self.failures: list[str] = []

    def check(self, page: Page, label: str | None = None) -> None:
        violations = axe_violations(page)
        if violations:
            self.failures.append(format_violations(violations, f"{label or ''} {page.url}".strip()))

    def assert_clean(self) -> None:
        if self.failures:
            raise AssertionError("\n\n".join(self.failures))


@pytest.fixture
def axe_audit() -> AxeAudit:
    return AxeAudit()
