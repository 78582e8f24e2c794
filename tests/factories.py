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


# Training of élus ---------------------------------------------------------------------------------


def elu(
    collectivite,
    name: str | None = None,
    *,
    email: str | None = None,
    delegation: bool = False,
    mandate_start: date | None = None,
    function: str | None = None,
):
    """An elected official of ``collectivite`` with his mandate (through the account service)."""
    n = next(_counter)
    mandate = accounts.MandateInput(
        has_delegation=delegation,
        delegation_subject="Voirie" if delegation else None,
        start_date=mandate_start or date(2020, 5, 23),
    )
    if function is not None:
        mandate.function = function
    with shared_password_hash():
        return accounts.create_user(
            email=email or f"elu{n}@exemple.fr",
            role="elu",
            password=TEST_PASSWORD,
            full_name=name or f"Élu {n}",
            collectivites=[collectivite],
            mandate=mandate,
        )


_HASHES: dict[str, str] = {}


def _shared_hash(password: str) -> str:
    if password not in _HASHES:
        _HASHES[password] = accounts._hasher.hash(password)
    return _HASHES[password]


class shared_password_hash:  # noqa: N801 - used as a function: ``with shared_password_hash():``
    """Argon2 takes ~0.15 s a hash: accounts made by the dozen share one real hash of their password
    (they can still log in with it)."""

    def __enter__(self):
        self.real_hash, accounts.hash_password = accounts.hash_password, _shared_hash

    def __exit__(self, *exc_info):
        accounts.hash_password = self.real_hash


def training_body(
    name: str | None = None,
    *,
    agrement_from: date | None = None,
    agrement_until: date | None = None,
    actor=None,
):
    from portal.training import sessions

    n = next(_counter)
    return sessions.save_body(
        sessions.BodyInput(
            name=name or f"Organisme {n}",
            agrement_number=f"AGR-{n}",
            agrement_from=agrement_from or date(2020, 1, 1),
            agrement_until=agrement_until or date(2099, 12, 31),
            contact_email="contact@organisme.example",
        ),
        actor,
    )


def training(
    title: str = "Élu Numérique Rural",
    *,
    body=None,
    hours=None,
    cost=None,
    objectives: str = "Maîtriser les outils numériques de la commune.",
    actor=None,
):
    from decimal import Decimal

    from portal.training import sessions

    body = body or training_body(actor=actor)
    return sessions.save_training(
        sessions.TrainingInput(
            title=title,
            body_id=body.id,
            duration_hours=Decimal(hours if hours is not None else "7"),
            cost_per_participant=Decimal(cost if cost is not None else "150.00"),
            objectives=objectives,
        ),
        actor,
    )


def training_session(
    training_=None,
    *,
    starts_at=None,
    hours: float = 7,
    deadline=None,
    capacity: int = 10,
    place: str | None = "Maison des communes, Agen",
    remote_url: str | None = None,
    quota: int | None = None,
    published: bool = True,
    prioritise_untrained: bool = False,
    actor=None,
    now=None,
):
    """A published session 30 days ahead by default (a 7-hour day starting at 09:00 UTC)."""
    from datetime import UTC, datetime

    from portal.training import sessions

    training_ = training_ or training(actor=actor)
    if starts_at is None:
        day = datetime.now(UTC).date() + timedelta(days=30)
        starts_at = datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)
    return sessions.create_session(
        sessions.SessionInput(
            training_id=training_.id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=hours),
            registration_deadline=deadline or starts_at - timedelta(days=2),
            capacity=capacity,
            place=place,
            remote_url=remote_url,
            quota_per_collectivite=quota,
            published=published,
            prioritise_untrained=prioritise_untrained,
        ),
        actor,
        now=now,
    )


def person(
    collectivite,
    given_name: str,
    family_name: str,
    *,
    sex: str | None = None,
    function: str = "conseiller",
    rank: int | None = None,
    contact_email: str | None = None,
    start_date: date | None = None,
):
    """An élu without an account, holding a current mandate in ``collectivite``, as the RNE import creates him."""
    from portal.accounts.models import Mandate, Person

    n = next(_counter)
    someone = Person(
        given_name=given_name,
        family_name=family_name,
        sex=sex,
        source="rne",
        source_key=f"test-{n}",
        contact_email=contact_email,
    )
    someone.mandates.append(
        Mandate(
            collectivite=collectivite,
            function=function,
            rank=rank,
            has_delegation=function in ("maire", "adjoint"),
            start_date=start_date or date(2026, 3, 22),
            function_start_date=start_date or date(2026, 3, 22),
        )
    )
    db.session.add(someone)
    db.session.flush()
    return someone
