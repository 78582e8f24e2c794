"""Pages seen before logging in: accessible, in French, with a working skip link."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import assert_accessible, field

pytestmark = pytest.mark.e2e

ANONYMOUS_PAGES = [
    pytest.param("/connexion", 200, "Connexion au portail", id="connexion"),
    pytest.param("/mot-de-passe/oubli", 200, "Mot de passe oublié", id="mot-de-passe-oublie"),
    pytest.param("/cette-page-n-existe-pas", 404, "Page introuvable", id="404"),
]


@pytest.mark.parametrize(("path", "status", "heading"), ANONYMOUS_PAGES)
def test_anonymous_page_is_accessible(page: Page, path: str, status: int, heading: str):
    response = page.goto(path)
    assert response is not None and response.status == status
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    assert_accessible(page, path)

    # The skip link is the first thing the keyboard reaches, shows when focused and leads to the content.
    skip_link = page.get_by_role("link", name="Aller au contenu")
    expect(skip_link).to_have_count(1)
    page.keyboard.press("Tab")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#contenu")).to_be_focused()


def test_axe_runs_under_the_portal_csp(page: Page):
    """axe-core is injected with page.evaluate under the real Content-Security-Policy, without bypass_csp."""
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    response = page.goto("/connexion")
    assert response is not None
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.evaluate(
        """() => {
            window.cspViolations = [];
            document.addEventListener('securitypolicyviolation', e => window.cspViolations.push(e.violatedDirective));
        }"""
    )
    assert_accessible(page)
    # axe really ran its rules (an empty result would also come from an axe that did nothing).
    passed = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a']}})).passes.length"
    )
    assert passed > 5
    assert page.evaluate("() => window.cspViolations") == []
    assert not [e for e in console_errors if "Content Security Policy" in e], console_errors


def test_failed_login_shows_an_accessible_error(page: Page):
    page.goto("/connexion")
    field(page, "Adresse électronique").fill("personne@exemple.fr")
    field(page, "Mot de passe").fill("pas-le-bon-mot-de-passe")
    page.get_by_role("button", name="Se connecter").click()
    summary = page.locator(".error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    assert_accessible(page, "connexion refusée")
