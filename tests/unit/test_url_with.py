"""``url_with`` (sort and pagination links) writes what ``url_for`` writes, its path built once per request."""

from __future__ import annotations

import pytest
from flask import url_for

from portal.common.templating import url_with

QUERIES = [
    "",
    "page=3",
    "q=saint+étienne&status=obligatoire&page=2",
    "q=a%26b%3Dc%2Bd%2Fe&tri=nom&ordre=desc",
    "q=l%27Isle-Jourdain%20(Gers)&kind=&epci=12",
    "q=%C5%93uvre%21%24%2A%2C%3A%3B%3F%40",
]
CHANGES = [
    {},
    {"page": 4},
    {"page": None},
    {"tri": "population", "ordre": "asc", "page": None},
    {"q": "Saint-Jean-d'Angély & co"},
    {"nouveau": "oui"},
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("changes", CHANGES, ids=lambda c: ",".join(c) or "none")
def test_url_with_is_url_for(app, query, changes):
    with app.test_request_context(f"/collectivites?{query}"):
        app.preprocess_request()
        args = {k: v for k, v in {**dict(_args()), **changes}.items() if v is not None}
        assert url_with(**changes) == url_for("registry.index", **args)


def test_url_with_on_a_page_with_path_arguments(app):
    """A page whose path holds an argument (an id): the path kept, and an argument of the path given back to
    url_for, which puts it in the path."""
    with app.test_request_context("/collectivites/12?onglet=effectifs"):
        app.preprocess_request()
        assert url_with(page=2) == url_for("registry.show", collectivite_id=12, onglet="effectifs", page=2)
        assert url_with(collectivite_id=13) == "/collectivites/13?onglet=effectifs"


def test_url_with_path_belongs_to_its_request(app):
    """Two requests in one application context: each writes its own path."""
    with app.app_context():
        with app.test_request_context("/collectivites?page=2"):
            assert url_with(page=3) == "/collectivites?page=3"
        with app.test_request_context("/catalogue/?page=2"):
            assert url_with(page=3).startswith(url_for("catalogue.index")) and url_with(page=3).endswith("?page=3")


def _args():
    from flask import request

    return request.args.to_dict().items()
