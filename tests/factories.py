"""Test data through factory_boy factories, so that each test states only what matters to it.

Rows that no rule governs (a collectivité, a person of the register and his mandate) are plain
``SQLAlchemyModelFactory`` rows. Rows whose creation a service governs (accounts, training bodies, trainings,
sessions, headcount declarations) go through that service (``_create`` calls it), so they get what the portal
gives them: an élu's person and mandate, the audit trail, the checks. Every factory flushes and never commits: the
test keeps control of its transaction.

The functions at the bottom (``collectivite``, ``user``, ``elu``, ``training_session``…) are the short forms the
tests call, with positional arguments; the factories take keyword arguments and traits::

    UserFactory(secretary=True)                   # a secretary of a new commune
    EluFactory(collectivite=agen, delegation=True)
    TrainingSessionFactory(capacity=1, training__title="Budget communal")
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta  # date and timedelta also read from here by tests
from decimal import Decimal

import factory
from factory.alchemy import SQLAlchemyModelFactory

from portal.access.models import AccessRequest
from portal.accounts import services as accounts
from portal.accounts.models import Mandate, Person, User
from portal.affiliation import services as affiliation
from portal.common.clock import paris_today, utcnow
from portal.common.text import normalise
from portal.conventions.models import Convention, Partner
from portal.extensions import db
from portal.notifications.models import OutboxEmail, OutboxState
from portal.registry.models import Collectivite, HeadcountDeclaration
from portal.training import sessions
from portal.training.models import Training, TrainingBody, TrainingSession
from tests.conftest import TEST_PASSWORD

THIS_YEAR = date.today().year
FIRST_NUMBER = 10_000  # codes and numbers of five digits (INSEE codes, "Commune 10000")


class _Numbered:
    """Sequences start at :data:`FIRST_NUMBER`."""

    @classmethod
    def _setup_next_sequence(cls):
        return FIRST_NUMBER


class _RowFactory(_Numbered, SQLAlchemyModelFactory):
    """A row added to the request's session (Flask-SQLAlchemy's ``db.session``) and flushed, never committed."""

    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731 - the session of the current app context
        sqlalchemy_session_persistence = "flush"


class _ServiceFactory(_Numbered, factory.Factory):
    """A row made by the portal's service for it (which flushes and never commits): ``_create`` calls it."""

    class Meta:
        abstract = True


# The register ---------------------------------------------------------------------------------------------


class CollectiviteFactory(_RowFactory):
    """A commune of Lot-et-Garonne of 1,000 inhabitants, with an INSEE code (communes only), entered by hand."""

    class Meta:
        model = Collectivite

    kind = "commune"
    name = factory.Sequence(lambda n: f"Commune {n}")
    name_normalised = factory.LazyAttribute(lambda body: normalise(body.name))
    insee_code = factory.LazyAttributeSequence(lambda body, n: f"{n % 100000:05d}" if body.kind == "commune" else None)
    siren = None
    population = 1000
    departement_code = "47"
    parent = None
    epci = None
    source = "manual"


class MandateFactory(_RowFactory):
    """A current mandate of conseiller of the term begun on 22 March 2026."""

    class Meta:
        model = Mandate

    person = factory.SubFactory("tests.factories.PersonFactory", mandate=None)
    collectivite = factory.SubFactory(CollectiviteFactory)
    function = "conseiller"
    rank = None
    has_delegation = factory.LazyAttribute(lambda mandate: mandate.function in ("maire", "adjoint"))
    start_date = date(2026, 3, 22)
    function_start_date = factory.SelfAttribute("start_date")


class PersonFactory(_RowFactory):
    """An élu without an account, holding a current mandate (:class:`MandateFactory`), as the RNE import creates
    him; ``mandate=None`` for a person without one, ``mandate__function="maire"`` etc. for another."""

    class Meta:
        model = Person

    given_name = "Camille"
    family_name = factory.Sequence(lambda n: f"Martin {n}")
    sex = None
    source = "rne"
    source_key = factory.Sequence(lambda n: f"test-{n}")
    contact_email = None
    mandate = factory.RelatedFactory(MandateFactory, factory_related_name="person")


# Accounts -------------------------------------------------------------------------------------------------


class UserFactory(_ServiceFactory):
    """An active account (the test password) made by :func:`accounts.create_user`: a CDG staff member by default;
    traits ``secretary`` (of a new commune) and ``elected`` (conseiller of a new commune)."""

    class Meta:
        model = User

    class Params:
        secretary = factory.Trait(
            role="secretary", collectivites=factory.List([factory.SubFactory(CollectiviteFactory)])
        )
        elected = factory.Trait(
            role="elu",
            collectivites=factory.List([factory.SubFactory(CollectiviteFactory)]),
            mandate=factory.LazyFunction(accounts.MandateInput),
        )

    role = "staff"
    email = factory.LazyAttributeSequence(lambda user, n: f"{user.role}{n}@exemple.fr")
    full_name = factory.Sequence(lambda n: f"Utilisateur {n}")
    password = TEST_PASSWORD
    collectivites = factory.List([])
    mandate = None

    @classmethod
    def _create(cls, model_class, **fields):
        return accounts.create_user(**fields)


class EluFactory(UserFactory):
    """An elected official's account with his person and mandate, conseiller since 23 May 2020 (the term before the
    2026 elections); ``delegation=True`` gives him a délégation (voirie). Élus are made by the dozen: they share one
    real hash of the test password (:class:`shared_password_hash`)."""

    class Params:
        collectivite = factory.SubFactory(CollectiviteFactory)
        delegation = False
        mandate_start = date(2020, 5, 23)
        function = "conseiller"

    role = "elu"
    full_name = factory.Sequence(lambda n: f"Élu {n}")
    collectivites = factory.List([factory.SelfAttribute("..collectivite")])
    mandate = factory.LazyAttribute(
        lambda elu: accounts.MandateInput(
            function=elu.function,
            has_delegation=elu.delegation,
            delegation_subject="Voirie" if elu.delegation else None,
            start_date=elu.mandate_start,
        )
    )

    @classmethod
    def _create(cls, model_class, **fields):
        with shared_password_hash():
            return accounts.create_user(**fields)


_HASHES: dict[tuple, str] = {}


class shared_password_hash:  # noqa: N801 - used as a function: ``with shared_password_hash():``
    """Argon2 takes ~0.15 s a hash: accounts made by the dozen share one real hash of their password
    (they can still log in with it), made by the hash function in place (a test may have put a cheaper one)."""

    def __enter__(self):
        real = self.real_hash = accounts.hash_password

        def shared(password: str) -> str:
            if (real, password) not in _HASHES:
                _HASHES[real, password] = real(password)
            return _HASHES[real, password]

        accounts.hash_password = shared

    def __exit__(self, *exc_info):
        accounts.hash_password = self.real_hash


# Conventions ----------------------------------------------------------------------------------------------


class PartnerFactory(_RowFactory):
    """An organisation that signs conventions."""

    class Meta:
        model = Partner

    name = factory.Sequence(lambda n: f"Partenaire {n}")
    kind = "other"


class ConventionFactory(_RowFactory):
    """A partnership convention signed and begun two years ago, running for one more year."""

    class Meta:
        model = Convention

    title = factory.Sequence(lambda n: f"Convention de partenariat {n}")
    kind = "partenariat"
    signed_on = factory.LazyFunction(lambda: paris_today() - timedelta(days=700))
    start_date = factory.SelfAttribute("signed_on")
    end_date = factory.LazyFunction(lambda: paris_today() + timedelta(days=365))


# Access requests and emails -------------------------------------------------------------------------------


class AccessRequestFactory(_RowFactory):
    """A secretary's request for an account, waiting for the CDG's answer."""

    class Meta:
        model = AccessRequest

    full_name = factory.Sequence(lambda n: f"Sophie Martin {n}")
    email = factory.Sequence(lambda n: f"demande{n}@mairie.fr")
    job_title = "Secrétaire générale de mairie"
    collectivites_text = "Sauvagnas"
    state = "pending"


class OutboxEmailFactory(_RowFactory):
    """An invitation email waiting in the outbox; trait ``failed`` for one given up after its attempts."""

    class Meta:
        model = OutboxEmail

    class Params:
        failed = factory.Trait(state=OutboxState.FAILED)

    message_id = factory.Sequence(lambda n: f"<test-{n}@test>")
    category = "account"
    to_address = factory.Sequence(lambda n: f"destinataire{n}@mairie.fr")
    template = "invitation"
    context = factory.LazyFunction(dict)
    state = OutboxState.PENDING


# Affiliation ----------------------------------------------------------------------------------------------


class DeclarationFactory(_ServiceFactory):
    """A headcount declaration recorded by :func:`affiliation.record_declaration` (which evaluates the statuses it
    affects): ten full-time titulaires of a new commune for this year."""

    class Meta:
        model = HeadcountDeclaration

    collectivite = factory.SubFactory(CollectiviteFactory)
    year = THIS_YEAR
    titulaires_temps_complet = 10
    titulaires_temps_non_complet = 0
    contractuels = 0
    actor = None
    notify = True

    @classmethod
    def _create(cls, model_class, *, collectivite, year, actor, notify, **counts):
        return affiliation.record_declaration(collectivite, year, counts, actor, notify=notify)


# Training of élus -----------------------------------------------------------------------------------------


class TrainingBodyFactory(_ServiceFactory):
    """A training body holding the ministry's agrément from 2020 to 2099 (:func:`sessions.save_body`)."""

    class Meta:
        model = TrainingBody

    name = factory.Sequence(lambda n: f"Organisme {n}")
    agrement_number = factory.Sequence(lambda n: f"AGR-{n}")
    agrement_from = date(2020, 1, 1)
    agrement_until = date(2099, 12, 31)
    contact_email = "contact@organisme.example"
    actor = None

    @classmethod
    def _create(cls, model_class, *, actor, **fields):
        return sessions.save_body(sessions.BodyInput(**fields), actor)


class TrainingFactory(_ServiceFactory):
    """A 7-hour training at €150 a participant, of a new agreed body (:func:`sessions.save_training`)."""

    class Meta:
        model = Training

    title = "Élu Numérique Rural"
    body = factory.SubFactory(TrainingBodyFactory, actor=factory.SelfAttribute("..actor"))
    duration_hours = Decimal("7")
    cost_per_participant = Decimal("150.00")
    objectives = "Maîtriser les outils numériques de la commune."
    actor = None

    @classmethod
    def _create(cls, model_class, *, body, actor, **fields):
        return sessions.save_training(sessions.TrainingInput(body_id=body.id, **fields), actor)


def _thirty_days_ahead() -> datetime:
    day = utcnow().date() + timedelta(days=30)
    return datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)


class TrainingSessionFactory(_ServiceFactory):
    """A published session of 10 seats 30 days ahead (a 7-hour day starting at 09:00 in Paris), registrations closing
    two days before, at the Maison des communes (:func:`sessions.create_session`)."""

    class Meta:
        model = TrainingSession

    class Params:
        hours = 7
        deadline = None

    training = factory.SubFactory(TrainingFactory, actor=factory.SelfAttribute("..actor"))
    starts_at = factory.LazyFunction(_thirty_days_ahead)
    ends_at = factory.LazyAttribute(lambda s: s.starts_at + timedelta(hours=s.hours))
    registration_deadline = factory.LazyAttribute(lambda s: s.deadline or s.starts_at - timedelta(days=2))
    capacity = 10
    place = "Maison des communes, Agen"
    remote_url = None
    quota_per_collectivite = None
    published = True
    prioritise_untrained = False
    actor = None
    now = None  # the instant the service checks the dates against (the clock's when None)

    @classmethod
    def _create(cls, model_class, *, training, actor, now, **fields):
        return sessions.create_session(sessions.SessionInput(training_id=training.id, **fields), actor, now=now)


# The short forms the tests call ---------------------------------------------------------------------------


def _given(**fields):
    """The arguments a caller gave: None leaves the factory's default."""
    return {name: value for name, value in fields.items() if value is not None}


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
    return CollectiviteFactory(
        kind=kind, population=population, siren=siren, parent=parent, epci=epci, **_given(name=name, insee_code=insee)
    )


def declare(body, year: int, tc: int, tnc: int = 0, contractuels: int = 0, actor=None, notify: bool = True):
    return DeclarationFactory(
        collectivite=body,
        year=year,
        titulaires_temps_complet=tc,
        titulaires_temps_non_complet=tnc,
        contractuels=contractuels,
        actor=actor,
        notify=notify,
    )


def user(role: str = "staff", email: str | None = None, collectivites=(), **mandate):
    """An account of ``role``; an élu's mandate from ``mandate`` (:class:`accounts.MandateInput`'s fields)."""
    return UserFactory(
        role=role,
        collectivites=list(collectivites),
        mandate=accounts.MandateInput(**mandate) if role == "elu" else None,
        **_given(email=email),
    )


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
    return EluFactory(
        collectivite=collectivite,
        delegation=delegation,
        **_given(full_name=name, email=email, mandate_start=mandate_start, function=function),
    )


def training_body(
    name: str | None = None,
    *,
    agrement_from: date | None = None,
    agrement_until: date | None = None,
    actor=None,
):
    return TrainingBodyFactory(
        actor=actor, **_given(name=name, agrement_from=agrement_from, agrement_until=agrement_until)
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
    return TrainingFactory(
        title=title,
        objectives=objectives,
        actor=actor,
        **_given(
            body=body,
            duration_hours=Decimal(hours) if hours is not None else None,
            cost_per_participant=Decimal(cost) if cost is not None else None,
        ),
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
    """A published session 30 days ahead by default (a 7-hour day starting at 09:00 in Paris)."""
    return TrainingSessionFactory(
        hours=hours,
        deadline=deadline,
        capacity=capacity,
        place=place,
        remote_url=remote_url,
        quota_per_collectivite=quota,
        published=published,
        prioritise_untrained=prioritise_untrained,
        actor=actor,
        now=now,
        **_given(training=training_, starts_at=starts_at),
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
    return PersonFactory(
        given_name=given_name,
        family_name=family_name,
        sex=sex,
        contact_email=contact_email,
        mandate__collectivite=collectivite,
        mandate__function=function,
        mandate__rank=rank,
        **_given(mandate__start_date=start_date),
    )
