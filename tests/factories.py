"""Small builders for test data (services, not raw rows, wherever a rule applies)."""

from __future__ import annotations

from datetime import date, timedelta  # noqa: F401 - re-exported for tests

from portal.accounts import services as accounts
from portal.affiliation import services as affiliation
from portal.common.text import normalise
from portal.extensions import db
from portal.registry.models import Collectivite
from tests.conftest import TEST_PASSWORD

_counter = iter(range(10_000, 99_999))


def collectivite(
    name: str = None,
    kind: str = "commune",
    *,
    insee: str | None = None,
    siren: str | None = None,
    population: int | None = 1000,
    parent=None,
    epci=None,
) -> Collectivite:
    n = next(_counter)
    name = name or f"Commune {n}"
    if kind == "commune" and insee is None:
        insee = f"{n % 100000:05d}"
    body = Collectivite(
        kind=kind,
        name=name,
        name_normalised=normalise(name),
        insee_code=insee,
        siren=siren,
        population=population,
        departement_code="47",
        parent=parent,
        epci=epci,
        source="manual",
    )
    db.session.add(body)
    db.session.flush()
    return body


def declare(body, year: int, tc: int, tnc: int = 0, contractuels: int = 0, actor=None, notify: bool = True):
    return affiliation.record_declaration(
        body,
        year,
        {"titulaires_temps_complet": tc, "titulaires_temps_non_complet": tnc, "contractuels": contractuels},
        actor,
        notify=notify,
    )


def user(role: str = "staff", email: str | None = None, collectivites=(), **mandate):
    n = next(_counter)
    email = email or f"{role}{n}@exemple.fr"
    mandate_input = accounts.MandateInput(**mandate) if role == "elu" else None
    return accounts.create_user(
        email=email,
        role=role,
        password=TEST_PASSWORD,
        full_name=f"Utilisateur {n}",
        collectivites=list(collectivites),
        mandate=mandate_input,
    )


THIS_YEAR = date.today().year
