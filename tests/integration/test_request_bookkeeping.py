"""What every request used to pay for, now kept per process or folded into another query (issue 17), and the
limits of each copy: the data-version token (one second), the EPCI options of the filter (the registry's version),
API tokens (five seconds, and at once in the process that revokes), the header's unread count (read with the user),
the database connection checked only after an idle spell."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import select, text, update

from portal.accounts import services as accounts
from portal.api import tokens
from portal.api.models import ApiToken
from portal.common import versions
from portal.common.clock import utcnow
from portal.extensions import db
from portal.notifications import services as notifications
from portal.registry import services as registry
from tests import factories
from tests.api_helpers import bearer, token_for


class Clock:
    """A monotonic clock moved by hand."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(versions, "monotonic", fake)
    monkeypatch.setattr(tokens, "monotonic", fake)
    return fake


def _set_token_elsewhere(name: str, token: str) -> None:
    """What another process's commit does: the row changes, this process is not told."""
    with db.engine.begin() as connection:
        connection.execute(
            text("UPDATE data_version SET token = :token WHERE name = :name"), {"token": token, "name": name}
        )


# The data-version token ---------------------------------------------------------------------------------------


def test_the_version_token_is_read_at_most_once_a_second(app, clock, count_queries):
    factories.collectivite("Sauvagnas")
    db.session.commit()
    first = versions.current(versions.REGISTRY)
    with count_queries() as statements:
        assert versions.current(versions.REGISTRY) == first
    assert statements == []
    _set_token_elsewhere(versions.REGISTRY, "a" * 32)
    clock.now += 0.9
    assert versions.current(versions.REGISTRY) == first  # another process's change: not seen within the second
    clock.now += 0.2
    assert versions.current(versions.REGISTRY) == "a" * 32  # ...and seen after it


def test_a_change_made_by_this_process_is_seen_at_once(app, clock):
    factories.collectivite("Sauvagnas")
    db.session.commit()
    first = versions.current(versions.REGISTRY)
    factories.collectivite("Layrac")
    assert versions.current(versions.REGISTRY) != first  # in the transaction that made it
    db.session.commit()
    after = versions.current(versions.REGISTRY)
    assert after != first
    staff = factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    assert registry.list_collectivites(staff, registry.ListFilters(), 10).total == 2


def test_a_token_changed_in_an_uncommitted_transaction_is_not_shared(app, clock):
    factories.collectivite("Sauvagnas")
    db.session.commit()
    committed = versions.current(versions.REGISTRY)
    factories.collectivite("Layrac")
    uncommitted = versions.current(versions.REGISTRY)
    assert uncommitted != committed
    assert versions.REGISTRY not in app.extensions["portal_data_versions"]  # no copy another request could use
    db.session.rollback()
    assert versions.current(versions.REGISTRY) == committed


# EPCI options of the list's filter ----------------------------------------------------------------------------


def test_epci_options_are_read_once_per_registry_version(app, clock, count_queries):
    epci = factories.collectivite("CC du Confluent", "cc", insee=None, siren="200000001")
    factories.collectivite("Aiguillon", epci=epci)
    db.session.commit()
    assert registry.epci_choices(["47"]) == [(epci.id, "CC du Confluent")]
    with count_queries() as statements:
        assert registry.epci_choices(["47"]) == [(epci.id, "CC du Confluent")]
    assert statements == []
    other = factories.collectivite("CA d'Agen", "ca", insee=None, siren="200000002")
    factories.collectivite("Agen", epci=other)
    db.session.commit()
    assert [name for _id, name in registry.epci_choices(["47"])] == ["CA d'Agen", "CC du Confluent"]


def test_epci_options_of_another_process_change_are_read_within_a_second(app, clock):
    epci = factories.collectivite("CC du Confluent", "cc", insee=None, siren="200000001")
    factories.collectivite("Aiguillon", epci=epci)
    db.session.commit()
    registry.epci_choices(["47"])
    with db.engine.begin() as connection:  # another process renames the EPCI and replaces the token
        connection.execute(
            text("UPDATE collectivite SET name = 'CC Confluent et Coteaux' WHERE id = :id"), {"id": epci.id}
        )
    _set_token_elsewhere(versions.REGISTRY, "b" * 32)
    clock.now += 1.1
    assert registry.epci_choices(["47"]) == [(epci.id, "CC Confluent et Coteaux")]


# API tokens ---------------------------------------------------------------------------------------------------


@pytest.fixture
def staff_token(app, clock):
    staff = factories.user("staff", email="staff@cdg47.fr")
    factories.user("staff", email="autre@cdg47.fr")  # the last active agent may not be switched off
    db.session.commit()
    return staff, token_for(staff)


def test_a_recognised_token_costs_no_query_for_five_seconds(client, staff_token, clock, count_queries):
    _staff, secret = staff_token
    assert client.get("/api/v1/moi", headers=bearer(secret)).status_code == 200
    db.session.expunge_all()
    with count_queries() as statements:
        response = client.get("/api/v1/moi", headers=bearer(secret))
    assert response.status_code == 200 and response.get_json()["jeton"]["nom"] == "test"
    assert not any("api_token" in s for s in statements)
    clock.now += 5
    with count_queries() as statements:
        assert client.get("/api/v1/moi", headers=bearer(secret)).status_code == 200
    assert any("api_token" in s for s in statements)


def test_a_token_revoked_by_this_process_stops_at_once(client, staff_token):
    staff, secret = staff_token
    assert client.get("/api/v1/moi", headers=bearer(secret)).status_code == 200
    tokens.revoke_token(db.session.scalar(select(ApiToken)), staff)
    db.session.commit()
    assert client.get("/api/v1/moi", headers=bearer(secret)).status_code == 401


def test_a_deactivated_account_loses_its_tokens_at_once(client, staff_token):
    staff, secret = staff_token
    assert client.get("/api/v1/moi", headers=bearer(secret)).status_code == 200
    accounts.deactivate_user(staff, actor=None)
    db.session.commit()
    response = client.get("/api/v1/moi", headers=bearer(secret))
    assert response.status_code == 401 and "révoqué" in response.get_json()["detail"]


def test_a_token_revoked_by_another_process_stops_within_five_seconds(client, staff_token, clock):
    _staff, secret = staff_token
    assert client.get("/api/v1/moi", headers=bearer(secret)).status_code == 200
    with db.engine.begin() as connection:  # another process: this one is not told
        connection.execute(update(ApiToken).values(revoked_at=utcnow()))
    clock.now += 4.9
    assert client.get("/api/v1/moi", headers=bearer(secret)).status_code == 200
    clock.now += 0.2
    assert client.get("/api/v1/moi", headers=bearer(secret)).status_code == 401


def test_recording_the_last_use_keeps_the_copies(app, staff_token):
    _staff, secret = staff_token
    tokens.authenticate(secret)
    db.session.commit()
    assert tokens._recent
    token = db.session.scalar(select(ApiToken))
    token.last_used_at = utcnow()
    db.session.commit()
    assert tokens._recent  # only a change of the token's rights empties them
    token.scope = "read"
    db.session.flush()
    assert not tokens._recent
    db.session.rollback()


# The header's unread count ------------------------------------------------------------------------------------


def test_the_unread_count_is_read_with_the_user_and_forgotten_when_a_notification_is_made(app, count_queries):
    staff = factories.user("staff", email="staff@cdg47.fr")
    db.session.commit()
    session_id = staff.get_id()
    with count_queries() as statements:
        user = accounts.load_user_from_session(session_id)
    assert user is staff and len(statements) == 1
    with count_queries() as statements:
        assert notifications.header_unread_count(staff.id) == 0
    assert statements == []
    notifications.notify(
        staff,
        category="headcount",
        title="Nouvelle déclaration",
        body="Une commune a déclaré ses effectifs.",
        email_template=None,
    )
    assert "unread_notifications" not in g
    assert notifications.header_unread_count(staff.id) == 1


def test_the_header_shows_the_unread_count(client, auth, app):
    staff = factories.user("staff", email="staff@cdg47.fr")
    notifications.notify(
        staff,
        category="headcount",
        title="Nouvelle déclaration",
        body="Une commune a déclaré ses effectifs.",
        email_template=None,
    )
    db.session.commit()
    auth.login("staff@cdg47.fr")
    page = client.get("/collectivites").get_data(as_text=True)
    assert '1<span class="visually-hidden"> non lue</span>' in page


# The database connection --------------------------------------------------------------------------------------


def test_no_ping_on_every_checkout(app):
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False
    assert app.config["DATABASE_IDLE_PING_SECONDS"] == 30


def test_a_connection_cut_while_idle_is_replaced_before_the_request_uses_it(app_factory):
    probe = app_factory(DATABASE_IDLE_PING_SECONDS=0)
    with probe.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite has no server to cut the connection")
        first = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()  # the connection goes back to the pool
        import psycopg

        url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(url, autocommit=True) as other:  # the database cuts the pooled connection
            other.execute("SELECT pg_terminate_backend(%s)", (first,))
        assert db.session.scalar(text("SELECT 1")) == 1
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != first


# Forms and templates ------------------------------------------------------------------------------------------


def test_wtforms_messages_stay_french_and_are_read_once(app, monkeypatch):
    from babel import support

    from portal.common import forms
    from portal.registry.forms import FilterForm

    forms._wtforms_translations.clear()
    loads = []
    real_load = support.Translations.load
    monkeypatch.setattr(
        support.Translations, "load", lambda *args, **kwargs: loads.append(args) or real_load(*args, **kwargs)
    )
    for _ in range(2):
        with app.test_request_context("/collectivites?kind=inconnu"):
            form = FilterForm(request_args())
            form.epci.choices = []
            assert not form.validate()
            assert form.kind.errors == ["N'est pas un choix valide."]
    assert len(loads) == 1


def request_args():
    from flask import request

    return request.args


def test_the_quick_select_writes_what_wtforms_writes(app):
    from wtforms import Form, SelectField
    from wtforms.widgets import Select

    from portal.common.forms import QuickSelect, options

    choices = options([("", "Tous"), ("a&b", "L'« A » & <B>"), (3, "Trois")])

    class Both(Form):
        quick = SelectField("Choix", choices=choices, widget=QuickSelect())
        plain = SelectField("Choix", choices=choices, widget=Select())

    for value in ("", "a&b", "3"):
        form = Both(data={"quick": value, "plain": value})
        assert form.quick().replace("quick", "x") == form.plain().replace("plain", "x")


def test_templates_read_the_catalogue_loaded_once_not_the_requests(app, monkeypatch):
    """Jinja's gettext is the French catalogue read once per process (portal.common.i18n), not Flask-Babel's lookup
    of the request's translations on each of the 80 to 100 calls of a page; its plurals are French."""
    import flask_babel

    def per_request_lookup():
        raise AssertionError("Flask-Babel's per-request translations looked up by a template")

    monkeypatch.setattr(flask_babel, "get_translations", per_request_lookup)
    with app.test_request_context("/"):
        template = app.jinja_env.from_string(
            "{% trans count=n %}{{ count }} résultat{% pluralize %}{{ count }} résultats{% endtrans %} {{ _('Page') }}"
        )
        assert [template.render(n=n) for n in (0, 1, 2)] == ["0 résultat Page", "1 résultat Page", "2 résultats Page"]
