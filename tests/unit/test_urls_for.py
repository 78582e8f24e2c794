"""``urls_for`` (the work queue's fifty links) writes what ``url_for`` writes for each target, one ``url_for`` per
endpoint and set of non-integer arguments."""

from __future__ import annotations

from flask import url_for
from werkzeug.routing import Rule

from portal.common import urls
from portal.common.urls import urls_for

TARGETS = [
    ("subscriptions.show", {"subscription_id": 7}),
    ("access.show", {"request_id": 1234567}),
    ("subscriptions.show", {"subscription_id": 0}),
    ("notifications.jobs", {"etat": "failed"}),
    ("notifications.jobs", {"etat": "en attente & co"}),
    ("training.session", {"session_id": 42}),
    ("registry.show", {"collectivite_id": 12, "onglet": "effectifs", "page": 3}),
    ("registry.show", {"collectivite_id": 13, "onglet": "déclarations", "page": 10}),
    ("registry.index", {"page": 2, "status": "obligatoire"}),
    ("registry.index", {}),
    ("subscriptions.show", {"subscription_id": 8, "retour": True}),
]


def test_each_url_is_url_for(app):
    with app.test_request_context("/tableau-de-bord"):
        assert urls_for(TARGETS) == [url_for(endpoint, **values) for endpoint, values in TARGETS]


def test_one_url_for_per_endpoint_and_arguments(app, monkeypatch):
    built = []

    def counting(endpoint, **values):
        built.append(endpoint)
        return url_for(endpoint, **values)

    monkeypatch.setattr(urls, "url_for", counting)
    targets = [("access.show", {"request_id": n}) for n in range(50)] + [("notifications.jobs", {"etat": "failed"})] * 9
    with app.test_request_context("/tableau-de-bord"):
        assert urls_for(targets) == [url_for(endpoint, **values) for endpoint, values in targets]
    # Each pattern is built with its marks, then checked against an id written whole.
    assert built == ["access.show", "access.show", "notifications.jobs", "notifications.jobs"]


def test_a_converter_that_pads_ids_gets_each_url_built_whole(app):
    app.url_map.add(Rule("/essai/<int(fixed_digits=6):number>", endpoint="padded"))
    with app.test_request_context("/"):
        targets = [("padded", {"number": n}) for n in (5, 123, 654321)]
        assert urls_for(targets) == ["/essai/000005", "/essai/000123", "/essai/654321"]


def test_under_a_mounting_point(app):
    with app.test_request_context("/tableau-de-bord", base_url="http://portail.invalid/cdg47"):
        assert urls_for([("access.show", {"request_id": 5})]) == ["/cdg47/demandes-d-acces/5"]
