"""Public pages (no login): the open data page and its files, CSV and JSON, streamed."""

from __future__ import annotations

import json
from collections.abc import Iterator

from flask import Blueprint, Response, render_template, stream_with_context

from portal.common import exports, page_cache
from portal.common.clock import paris_today
from portal.common.files import content_disposition
from portal.common.i18n import gettext as _
from portal.opendata import services

bp = Blueprint("opendata", __name__, url_prefix="/donnees-ouvertes")
FILENAME = "collectivites-affiliees"


@bp.route("/")
def index():
    # (field, meaning, values a program reads: shown as code)
    fields = [
        ("code_insee", _("Code officiel géographique de la commune (vide pour un établissement public)"), []),
        ("siren", _("Numéro SIREN"), []),
        ("nom", _("Nom"), []),
        ("type", _("Type, parmi"), ["commune", "cc", "ca", "ccas", "caisse_ecoles", "syndicat", "departement"]),
        ("type_libelle", _("Libellé du type"), []),
        ("departement", _("Code du département"), []),
        ("affiliation", _("Affiliation au centre de gestion"), ["obligatoire", "volontaire"]),
    ]
    # Counting the affiliated bodies reads the whole registry: kept under its version token (page_cache).
    counts = page_cache.cached("opendata.counts", "public", services.counts)
    return render_template("opendata/index.html", counts=counts, labels=services.status_labels(), fields=fields)


@bp.route(f"/{FILENAME}.csv")
def csv_file():
    rows = (tuple(record[f] for f in services.FIELDS) for record in services.records())
    response = exports.response("csv", FILENAME, services.HEADER, rows)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def _json_chunks() -> Iterator[str]:
    yield json.dumps({"date": paris_today().isoformat()})[:-1] + ', "collectivites": ['  # the object, left open
    separator = "\n"
    for record in services.records():
        yield separator + json.dumps(record, ensure_ascii=False)
        separator = ",\n"
    yield "\n]}\n"


@bp.route(f"/{FILENAME}.json")
def json_file():
    response = Response(stream_with_context(_json_chunks()), mimetype="application/json")
    response.headers["Content-Disposition"] = content_disposition(f"{FILENAME}.json", inline=True)
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
