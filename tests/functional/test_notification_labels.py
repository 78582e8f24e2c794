"""What the notification pages call things: each email of the staff's list (/envois) and its state, each category of
the preferences, in French, never by its key."""

from __future__ import annotations

import html
import re
from pathlib import Path

from portal.extensions import db
from portal.notifications.categories import CATEGORIES
from portal.notifications.views import TEMPLATE_LABELS
from tests import factories

EMAILS = Path(__file__).resolve().parents[2] / "templates" / "emails"


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html.unescape(response.get_data(as_text=True))))


def test_every_email_template_has_a_label():
    templates = {path.name.removesuffix(".subject.txt") for path in EMAILS.glob("*.subject.txt")}
    assert len(templates) >= 8
    assert templates == set(TEMPLATE_LABELS)


def test_the_outbox_names_emails_and_states_in_french(client, auth, app):
    factories.OutboxEmailFactory(template="password_reset", failed=True)
    factories.OutboxEmailFactory(template="staff_digest")
    factories.OutboxEmailFactory(template="retired_template")  # a row written by an older version of the portal
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    page = _text(client.get("/envois"))
    assert "Réinitialisation du mot de passe" in page and "Récapitulatif quotidien des agents" in page
    assert "Autre courriel" in page and "En échec" in page and "En attente" in page
    for key in ("password_reset", "staff_digest", "retired_template", "failed", "pending"):
        assert f" {key} " not in page, key


def test_the_preferences_name_each_category(client, auth, app):
    factories.user("staff", email="agent@cdg47.fr")
    db.session.commit()
    auth.login("agent@cdg47.fr")
    page = _text(client.get("/notifications/preferences"))
    assert "Sécurité du compte (mot de passe, connexion)" in page and "Formations des élus" in page
    for category in CATEGORIES.values():
        assert type(category.label) is str and category.label in page
