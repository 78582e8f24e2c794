"""Training pages through the test client: who may see and do what on every route, the registration flows
(seat, waiting list, offered seat), the staff's catalogue, sessions, attendance and exports, the commune's
budget, refused input with its French message and nothing written, and query counts that do not grow."""

from __future__ import annotations

import csv
import html
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from argon2 import PasswordHasher
from icalendar import Calendar
from pypdf import PdfReader
from sqlalchemy import func, select, update

from portal.accounts import services as accounts
from portal.accounts.models import Mandate, User
from portal.audit.models import AuditEvent
from portal.common import after_commit, jobs
from portal.common.formatting import date_fr
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from portal.registry.models import Collectivite
from portal.training import registrations as training_registrations
from portal.training.calendar import PARIS
from portal.training.models import Registration, Training, TrainingBody, TrainingBudget, TrainingSession
from portal.training.rights_export import TRAININGS_HEADER
from portal.training.roster import NOTICE_TASK
from portal.training.sessions import (
    cancel_session,
)
from tests import factories
from tests.conftest import csrf_from
from tests.functional.test_what_users_read import problems_in, visible_text
from tests.pdf_text import pdf_lines, pdf_text

NOW = datetime.now(UTC).replace(second=0, microsecond=0)
NEXT = NOW.year + 1  # sessions typed in the forms: 12 March (winter, UTC+1) and 1 July (summer, UTC+2) of next year
MANDATE_START = date.today() - timedelta(days=100)  # élus in the first year of their mandate
_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
_CHEAP: dict[str, str] = {}


@pytest.fixture(autouse=True)
def cheap_hash(monkeypatch):
    """Argon2 with the production cost takes ~0.2 s to hash and as long to verify at each login: the accounts of
    these tests share one cheap hash of their password (login verifies it with the cost stored in the hash)."""

    def cheap(password: str) -> str:
        if password not in _CHEAP:
            _CHEAP[password] = _HASHER.hash(password)
        return _CHEAP[password]

    monkeypatch.setattr(accounts, "hash_password", cheap)


# Builders ----------------------------------------------------------------------------------------


class Elu(factories.EluFactory):
    """The élus of these tests are in the first year of their mandate."""

    class Params:
        mandate_start = MANDATE_START


def make_session(training: Training, *, starts: datetime | None = None, **fields) -> TrainingSession:
    """A 7-hour session (30 days ahead by default); created "earlier" so that it may also start in the past."""
    starts = starts or NOW + timedelta(days=30)
    return factories.training_session(training, starts_at=starts, now=starts - timedelta(days=60), **fields)


def register(session: TrainingSession, elu, *, now: datetime | None = None) -> Registration:
    return training_registrations.register(session, elu.mandate, elu, now=now or session.starts_at - timedelta(days=30))


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def text_of(response) -> str:
    """The page as read: entities decoded, runs of spaces (narrow no-break ones included) as one space."""
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)).replace("\u202f", " "))


def token(client, url: str = "/mon-profil") -> str:
    return csrf_from(client.get(url).get_data(as_text=True))


def post(client, url: str, data: dict | None = None, page_url: str = "/mon-profil"):
    """POST with a CSRF token taken from ``page_url`` (a page every logged-in user sees by default)."""
    return client.post(url, data={**(data or {}), "csrf_token": token(client, page_url)})


def status_of(registration_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Registration, registration_id).status


def session_form(training_id: int, **overrides) -> dict:
    data = {
        "training_id": str(training_id),
        "starts_at": f"{NEXT}-03-12T09:00",
        "ends_at": f"{NEXT}-03-12T17:00",
        "registration_deadline": f"{NEXT}-03-05T12:00",
        "capacity": "12",
        "quota_per_collectivite": "",
        "place": "Salle du conseil, Agen",
        "remote_url": "",
        "published": "y",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@dataclass
class World:
    a: int
    b: int
    training: int
    session: int
    hidden: int  # an unpublished session
    mandate_a: int
    mandate_a2: int
    mandate_b: int
    registration_a: int  # élu A's registration to ``session``
    registration_a2: int
    registration_b: int


STAFF, SEC_A, SEC_B = "staff@cdg47.fr", "sec.a@mairie.fr", "sec.b@mairie.fr"
ELU_A, ELU_A2, ELU_B = "elu.a@mairie.fr", "elu.a2@mairie.fr", "elu.b@mairie.fr"
NAMES = {ELU_A: "Jeanne Sauvagnas", ELU_A2: "Paul Laffitte", ELU_B: "Marc Pujols"}


@pytest.fixture
def world(app) -> World:
    a = factories.collectivite("Sauvagnas")
    b = factories.collectivite("Pujols")
    factories.user("staff", email=STAFF)
    factories.user("secretary", email=SEC_A, collectivites=[a])
    factories.user("secretary", email=SEC_B, collectivites=[b])
    elu_a = Elu(collectivite=a, full_name=NAMES[ELU_A], email=ELU_A, delegation=True)
    elu_a2 = Elu(collectivite=a, full_name=NAMES[ELU_A2], email=ELU_A2)
    elu_b = Elu(collectivite=b, full_name=NAMES[ELU_B], email=ELU_B)
    training = factories.TrainingFactory(body__agrement_number="AGR-2024-17")
    session = make_session(training)
    hidden = make_session(training, published=False)
    registrations = [register(session, e) for e in (elu_a, elu_a2, elu_b)]
    db.session.commit()
    return World(
        a.id,
        b.id,
        training.id,
        session.id,
        hidden.id,
        elu_a.mandate.id,
        elu_a2.mandate.id,
        elu_b.mandate.id,
        *(r.id for r in registrations),
    )


# Authorisation -----------------------------------------------------------------------------------


def staff_only_urls(w: World) -> list[str]:
    body_id = db.session.scalar(select(TrainingBody.id))
    return [
        "/formations/catalogue",
        "/formations/organismes/nouveau",
        f"/formations/organismes/{body_id}/modifier",
        "/formations/catalogue/nouvelle",
        f"/formations/catalogue/{w.training}/modifier",
        "/formations/sessions/nouvelle",
        f"/formations/sessions/{w.session}/modifier",
        f"/formations/sessions/{w.session}/emargement",
        f"/formations/sessions/{w.session}/emargement.pdf",
        f"/formations/sessions/{w.session}/participants.csv",
        "/formations/communes-sans-elu-forme",
    ]


def test_anonymous_is_sent_to_the_login_page_everywhere(client, world):
    w = world
    year = NOW.year
    urls = [
        "/formations/",
        f"/formations/sessions/{w.session}",
        "/formations/mes-formations",
        f"/formations/elus/{w.mandate_a}",
        f"/collectivites/{w.a}/formations",
        f"/collectivites/{w.a}/formations/{year}.csv",
        *staff_only_urls(w),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/connexion?next=" in response.location, url
    csrf = token(client, "/connexion")
    for url in (
        f"/formations/sessions/{w.session}",
        f"/formations/inscriptions/{w.registration_a}/annuler",
        f"/formations/inscriptions/{w.registration_a}/accepter",
        f"/formations/inscriptions/{w.registration_a}/decliner",
        f"/formations/sessions/{w.session}/annuler",
    ):
        response = client.post(url, data={"csrf_token": csrf, "reason": "x", "mandate_id": str(w.mandate_a)})
        assert response.status_code == 302 and "/connexion?next=" in response.location, url
    assert status_of(w.registration_a) == "registered"
    assert db.session.get(TrainingSession, w.session).cancelled_at is None


EVERYONE_BUT_STAFF = [SEC_A, SEC_B, ELU_A, ELU_B]


@pytest.mark.parametrize("email", EVERYONE_BUT_STAFF)
def test_staff_pages_are_403_for_everyone_else(client, auth, world, email):
    urls = staff_only_urls(world)
    auth.login(email)
    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 403)
    for url in ("/formations/organismes/nouveau", f"/formations/sessions/{world.session}/annuler"):
        assert post(client, url, {"name": "Intrus", "reason": "Intrusion"}).status_code == 403, url
    refused = post(client, f"/formations/sessions/{world.session}/emargement", {"present": str(world.registration_a)})
    assert refused.status_code == 403
    assert count(TrainingBody) == 1
    assert db.session.get(TrainingSession, world.session).cancelled_at is None
    assert status_of(world.registration_a) == "registered"


def test_staff_pages_are_200_for_staff(client, auth, world):
    auth.login(STAFF)
    urls = staff_only_urls(world)
    assert {url: client.get(url).status_code for url in urls} == dict.fromkeys(urls, 200)
    assert client.get(f"/formations/sessions/{world.hidden}").status_code == 200


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        # sessions list, a session, the unpublished one, élu A's rights, A's commune page and CSV, "mes formations"
        (STAFF, [200, 200, 200, 200, 200, 200, 404]),
        (SEC_A, [200, 200, 404, 200, 200, 200, 404]),
        (SEC_B, [200, 200, 404, 404, 404, 404, 404]),
        (ELU_A, [200, 200, 404, 200, 404, 404, 302]),
        (ELU_B, [200, 200, 404, 404, 404, 404, 302]),
    ],
)
def test_pages_for_each_role(client, auth, world, email, expected):
    w = world
    urls = [
        "/formations/",
        f"/formations/sessions/{w.session}",
        f"/formations/sessions/{w.hidden}",
        f"/formations/elus/{w.mandate_a}",
        f"/collectivites/{w.a}/formations",
        f"/collectivites/{w.a}/formations/{NOW.year}.csv",
        "/formations/mes-formations",
    ]
    auth.login(email)
    assert [client.get(url).status_code for url in urls] == expected
    if email == ELU_B:
        assert client.get("/formations/mes-formations").location.endswith(f"/formations/elus/{w.mandate_b}")


@pytest.mark.parametrize(
    ("email", "visible", "hidden"),
    [
        (STAFF, [ELU_A, ELU_A2, ELU_B], []),
        (SEC_A, [ELU_A, ELU_A2], [ELU_B]),
        (SEC_B, [ELU_B], [ELU_A, ELU_A2]),
        (ELU_A, [ELU_A], [ELU_A2, ELU_B]),
        (ELU_A2, [ELU_A2], [ELU_A, ELU_B]),
    ],
)
def test_a_session_page_shows_only_the_registrations_one_may_see(client, auth, world, email, visible, hidden):
    auth.login(email)
    page = text_of(client.get(f"/formations/sessions/{world.session}"))
    registrations = page.split('id="inscriptions"')[1].split('id="inscrire"')[0]
    for who in visible:
        assert NAMES[who] in registrations, who
    for who in hidden:
        assert NAMES[who] not in page, who
    assert "3 attribuées sur 10" in page  # the counts are public, the names are not


@pytest.mark.parametrize("email", [SEC_B, ELU_B, ELU_A2])
def test_others_cannot_cancel_accept_or_decline_elu_a_registration(client, auth, world, email):
    auth.login(email)
    for action in ("annuler", "accepter", "decliner"):
        response = post(client, f"/formations/inscriptions/{world.registration_a}/{action}")
        assert response.status_code == 404, action
    assert status_of(world.registration_a) == "registered"


def test_secretary_of_b_cannot_register_an_elu_of_a(client, auth, world, app):
    w = world
    training_registrations.cancel(db.session.get(Registration, w.registration_a), _staff(), "")
    db.session.commit()
    before = count(Registration)
    auth.login(SEC_B)
    url = f"/formations/sessions/{w.session}"
    page = text_of(client.get(url))
    assert NAMES[ELU_B] in page and NAMES[ELU_A] not in page  # A's élus are not even offered
    response = auth.post(url, {"mandate_id": str(w.mandate_a), "funding": "commune"})
    # The élu is not among her choices: the form is refused in French, and nothing is written.
    assert response.status_code == 422
    assert "Élu : N'est pas un choix valide." in text_of(response)
    assert count(Registration) == before
    assert status_of(w.registration_a) == "cancelled"


def _staff():
    return db.session.scalar(select(User).where(User.email == STAFF))


# Registration flows ------------------------------------------------------------------------------


def login_as(auth, email: str) -> None:
    if auth.client.get("/mon-profil").status_code == 200:
        auth.logout()
    response = auth.login(email)
    assert response.status_code == 302, email


def test_elu_registers_himself_then_cancels(client, auth, world):
    fresh = make_session(db.session.get(Training, world.training))
    db.session.commit()
    url = f"/formations/sessions/{fresh.id}"
    auth.login(ELU_A)
    page = text_of(client.get(url))
    assert "M'inscrire" in page and f'<option selected value="{world.mandate_a}">' in page
    response = auth.post(url, {"mandate_id": str(world.mandate_a), "funding": "commune", "travel_cost": "12,50"})
    assert response.status_code == 302 and response.location.endswith(url)
    page = text_of(client.get(url))
    assert "Inscription confirmée : une invitation pour l'agenda est envoyée par courriel." in page
    registration = db.session.scalar(select(Registration).where(Registration.session_id == fresh.id))
    assert (registration.status, registration.travel_cost, registration.registered_by_id) == (
        "registered",
        Decimal("12.50"),
        registration.mandate.user.id,
    )
    assert "Annuler l'inscription" in page
    assert "Vous êtes déjà inscrit à cette session" in page and 'value="M\'inscrire"' not in page

    email = db.session.scalar(
        select(OutboxEmail).where(OutboxEmail.to_address == ELU_A).order_by(OutboxEmail.id.desc())
    )
    attachment = next(a for a in email.attachments if a.filename.endswith(".ics"))
    assert attachment.content_type.startswith("text/calendar")
    invitation = Calendar.from_ical(attachment.data)
    assert str(invitation["METHOD"]) == "REQUEST"
    event = next(iter(invitation.walk("VEVENT")))
    assert event.decoded("DTSTART") == fresh.starts_at.astimezone(PARIS)

    rights = client.get("/formations/mes-formations")
    assert rights.status_code == 302 and rights.location.endswith(f"/formations/elus/{world.mandate_a}")
    rights_page = text_of(client.get(rights.location))
    assert "Mes formations et mes droits" in rights_page and "Élu Numérique Rural" in rights_page

    cancelled = post(client, f"/formations/inscriptions/{registration.id}/annuler", page_url=url)
    assert cancelled.status_code == 302
    assert "Inscription annulée." in text_of(client.get(url))
    assert status_of(registration.id) == "cancelled"
    last = db.session.scalar(select(OutboxEmail).where(OutboxEmail.to_address == ELU_A).order_by(OutboxEmail.id.desc()))
    cancel_ics = next(a for a in last.attachments if a.filename.endswith(".ics"))
    assert str(Calendar.from_ical(cancel_ics.data)["METHOD"]) == "CANCEL"


# The élu's own registration, the request of a rush on the last seats (benchmarks/training.py): what it reads and
# writes, counted so that one statement more fails here. Its notice job is published after the commit, not run.
REGISTRATION_POST_STATEMENTS = [
    "SELECT user_account",  # the signed-in user (Flask-Login), with his unread count
    "SELECT training_session",  # the session, visible to him, with its training
    "SELECT person",  # the élus he may register: himself (his mandate, person, account, collectivité)
    "UPDATE training_session",  # the roster lock, returning the session as it is under the lock
    "SELECT training_registration.status ",  # already registered?
    "SELECT training_registration.status,",  # the roster's counts
    "SAVEPOINT",
    "INSERT INTO training_registration",
    "RELEASE SAVEPOINT",
    "INSERT INTO audit_event",
]


def test_a_registration_post_runs_a_fixed_list_of_statements(app, client, auth, world, count_queries, monkeypatch):
    published = []
    monkeypatch.setitem(after_commit._CHANNELS, jobs.CHANNEL, after_commit.Channel(jobs.CHANNEL, published.extend))
    fresh = make_session(db.session.get(Training, world.training))
    db.session.commit()
    url = f"/formations/sessions/{fresh.id}"
    auth.login(ELU_A)
    token = csrf_from(client.get(url).get_data(as_text=True))
    db.session.expunge_all()
    form = {"csrf_token": token, "mandate_id": str(world.mandate_a), "funding": "commune", "leave_days": "0"}
    with count_queries() as statements:
        response = client.post(url, data=form)
    assert response.status_code == 302 and response.location.endswith(url)
    registration = db.session.scalar(select(Registration).where(Registration.session_id == fresh.id))
    assert registration.status == "registered"
    assert published == [(NOTICE_TASK, (registration.id,))]
    assert len(statements) == len(REGISTRATION_POST_STATEMENTS), "\n".join(s[:120] for s in statements)
    for statement, expected in zip(statements, REGISTRATION_POST_STATEMENTS, strict=True):
        assert statement.lstrip().startswith(expected), (expected, statement[:200])


def test_secretary_registers_an_elu_of_her_commune(client, auth, world):
    fresh = make_session(db.session.get(Training, world.training))
    db.session.commit()
    url = f"/formations/sessions/{fresh.id}"
    auth.login(SEC_A)
    page = text_of(client.get(url))
    assert "Inscrire un élu" in page and NAMES[ELU_A2] in page and NAMES[ELU_B] not in page
    response = auth.post(url, {"mandate_id": str(world.mandate_a2), "funding": "commune"})
    assert response.status_code == 302
    registration = db.session.scalar(select(Registration).where(Registration.session_id == fresh.id))
    assert registration.mandate_id == world.mandate_a2 and registration.status == "registered"
    assert registration.registered_by.email == SEC_A
    assert NAMES[ELU_A2] in text_of(client.get(url)).split('id="inscriptions"')[1]


def test_waiting_list_position_offer_decline_and_accept(client, auth, world):
    b = db.session.get(Collectivite, world.b)
    full = make_session(db.session.get(Training, world.training), capacity=10)
    fillers = Elu.create_batch(10, collectivite=b)
    seats = [register(full, e, now=NOW) for e in fillers]
    db.session.commit()
    url = f"/formations/sessions/{full.id}"

    auth.login(ELU_A)
    response = auth.post(url, {"mandate_id": str(world.mandate_a), "funding": "commune"})
    assert response.status_code == 302
    page = text_of(client.get(url))
    assert "Session complète : inscription en liste d'attente." in page
    assert "En liste d'attente" in page and "position 1 sur la liste d'attente" in page
    assert "10 attribuées sur 10 ; 1 en liste d'attente" in page
    login_as(auth, ELU_A2)
    auth.post(url, {"mandate_id": str(world.mandate_a2), "funding": "commune"})
    assert "position 2 sur la liste d'attente" in text_of(client.get(url))
    waiting_a, waiting_a2 = db.session.scalars(
        select(Registration.id)
        .where(Registration.session_id == full.id, Registration.status == "waiting")
        .order_by(Registration.id)
    ).all()

    login_as(auth, fillers[0].email)
    assert post(client, f"/formations/inscriptions/{seats[0].id}/annuler", page_url=url).status_code == 302
    assert "Inscription annulée." in text_of(client.get(url))
    assert (status_of(seats[0].id), status_of(waiting_a), status_of(waiting_a2)) == ("cancelled", "offered", "waiting")

    login_as(auth, ELU_A)
    page = text_of(client.get(url))
    assert "Place proposée — à confirmer avant le" in page
    assert "Confirmer la place" in page and "Décliner" in page
    assert post(client, f"/formations/inscriptions/{waiting_a}/decliner", page_url=url).status_code == 302
    assert "Place déclinée : elle est proposée à la personne suivante." in text_of(client.get(url))
    assert (status_of(waiting_a), status_of(waiting_a2)) == ("cancelled", "offered")

    login_as(auth, ELU_A2)
    page = text_of(client.get(url))
    assert "Place proposée" in page and "Confirmer la place" in page
    assert post(client, f"/formations/inscriptions/{waiting_a2}/accepter", page_url=url).status_code == 302
    page = text_of(client.get(url))
    assert "Place confirmée : une invitation pour l'agenda est envoyée par courriel." in page
    assert status_of(waiting_a2) == "registered"
    assert "10 attribuées sur 10 ; 0 en liste d'attente" in page
    # Accepting again: there is no offer any more.
    post(client, f"/formations/inscriptions/{waiting_a2}/accepter", page_url=url)
    assert "Aucune place n'est proposée pour cette inscription." in text_of(client.get(url))


# Staff: catalogue, sessions, attendance, exports -------------------------------------------------


def test_staff_creates_a_body_a_training_and_a_session_in_paris_time(client, auth, world):
    auth.login(STAFF)
    response = auth.post(
        "/formations/organismes/nouveau",
        {
            "name": "Association des maires ruraux",
            "agrement_number": "AGR-47-2025",
            "agrement_from": "2025-01-01",
            "agrement_until": f"{NEXT + 1}-12-31",
            "contact_email": "formation@amr.example",
        },
    )
    assert response.status_code == 302 and response.location.endswith("/formations/catalogue")
    body = db.session.scalar(select(TrainingBody).where(TrainingBody.agrement_number == "AGR-47-2025"))
    assert body.agrement_until == date(NEXT + 1, 12, 31)
    response = auth.post(
        "/formations/catalogue/nouvelle",
        {
            "title": "Budget communal",
            "body_id": str(body.id),
            "duration_hours": "6,5",
            "cost_per_participant": "120,00",
            "objectives": "Lire un budget.",
            "programme": "",
            "active": "y",
        },
    )
    assert response.status_code == 302
    training = db.session.scalar(select(Training).where(Training.title == "Budget communal"))
    assert (training.duration_hours, training.cost_per_participant) == (Decimal("6.5"), Decimal("120.00"))
    catalogue = text_of(client.get("/formations/catalogue"))
    assert "Budget communal" in catalogue and "Association des maires ruraux" in catalogue

    response = auth.post("/formations/sessions/nouvelle", session_form(training.id))
    assert response.status_code == 302
    created = db.session.scalar(select(TrainingSession).where(TrainingSession.training_id == training.id))
    assert response.location.endswith(f"/formations/sessions/{created.id}")
    # Typed in Paris time in winter (UTC+1): stored in UTC.
    assert created.starts_at == datetime(NEXT, 3, 12, 8, 0, tzinfo=UTC)
    assert created.ends_at == datetime(NEXT, 3, 12, 16, 0, tzinfo=UTC)
    assert created.registration_deadline == datetime(NEXT, 3, 5, 11, 0, tzinfo=UTC)
    assert f"12 mars {NEXT}, 9 h – 17 h" in text_of(client.get(response.location))
    edit_url = f"/formations/sessions/{created.id}/modifier"
    assert f'value="{NEXT}-03-12T09:00"' in client.get(edit_url).get_data(as_text=True)

    # In summer (UTC+2) the same hour is 07:00 UTC.
    moved = auth.post(
        edit_url,
        session_form(training.id, starts_at=f"{NEXT}-07-01T09:00", ends_at=f"{NEXT}-07-01T16:30", capacity="15"),
    )
    assert moved.status_code == 302
    db.session.expire_all()
    created = db.session.get(TrainingSession, created.id)
    assert created.starts_at == datetime(NEXT, 7, 1, 7, 0, tzinfo=UTC)
    assert (created.capacity, created.sequence) == (15, 1)


def edit_data(session: TrainingSession, **overrides) -> dict:
    fmt = "%Y-%m-%dT%H:%M"
    data = session_form(
        session.training_id,
        starts_at=session.starts_at.astimezone(PARIS).strftime(fmt),
        ends_at=session.ends_at.astimezone(PARIS).strftime(fmt),
        registration_deadline=session.registration_deadline.astimezone(PARIS).strftime(fmt),
        capacity=str(session.capacity),
        place=session.place,
    )
    data.update(overrides)
    return data


def test_capacity_below_the_seats_taken_is_refused_and_nothing_changes(client, auth, world):
    session = db.session.get(TrainingSession, world.session)
    data = edit_data(session, capacity="2", place="Autre salle")
    auth.login(STAFF)
    url = f"/formations/sessions/{world.session}/modifier"
    response = auth.post(url, data)
    assert response.status_code == 422
    assert (
        "Impossible de ramener la capacité à 2 : 3 places sont déjà attribuées. Annulez d'abord des inscriptions."
        in text_of(response)
    )
    db.session.expire_all()
    session = db.session.get(TrainingSession, world.session)
    assert (session.capacity, session.place, session.sequence) == (10, "Maison des communes, Agen", 0)
    assert auth.post(url, {**data, "capacity": "3"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(TrainingSession, world.session).capacity == 3


def test_staff_cancels_a_session_and_every_registration(client, auth, world):
    url = f"/formations/sessions/{world.session}"
    auth.login(STAFF)
    asked = post(client, f"{url}/annuler", {"reason": "Formateur indisponible"}, page_url=f"{url}/modifier")
    page = text_of(asked)
    assert asked.status_code == 200 and "Annuler la session du" in page and "Confirmer l'annulation" in page
    assert "Formateur indisponible" in page  # what was typed is kept on the confirmation page
    assert db.session.get(TrainingSession, world.session).cancelled_at is None
    empty = post(client, f"{url}/annuler", {"reason": " ", "confirmed": "1"}, page_url=f"{url}/modifier")
    assert empty.status_code == 422 and "Indiquez le motif" in text_of(empty)
    assert db.session.get(TrainingSession, world.session).cancelled_at is None
    response = post(
        client, f"{url}/annuler", {"reason": "Formateur indisponible", "confirmed": "1"}, page_url=f"{url}/modifier"
    )
    assert response.status_code == 302
    page = text_of(client.get(url))
    assert "Session annulée ; 3 participants prévenus." in page and "Cette session a été annulée." in page
    assert "Motif : Formateur indisponible" in page
    db.session.expire_all()
    cancelled = db.session.get(TrainingSession, world.session)
    assert cancelled.cancelled_at is not None and cancelled.cancel_reason == "Formateur indisponible"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "training.session_cancelled"))
    assert event.details == {"reason": "Formateur indisponible"}
    statuses = db.session.scalars(select(Registration.status).where(Registration.session_id == world.session))
    assert set(statuses) == {"cancelled"}
    login_as(auth, ELU_A)
    page = text_of(client.get(url))
    assert "Cette session a été annulée." in page and 'value="M\'inscrire"' not in page


@pytest.fixture
def started(world) -> TrainingSession:
    """A session that began an hour ago, élus A and B registered (A2 waiting), capacity 2."""
    elus = {e.email: e for e in db.session.scalars(select(User).where(User.role == "elu"))}
    session = make_session(db.session.get(Training, world.training), starts=NOW - timedelta(hours=1), capacity=2)
    for email in (ELU_A, ELU_B, ELU_A2):
        register(session, elus[email])
    db.session.commit()
    return session


def test_staff_marks_attendance_after_the_start(client, auth, world, started):
    by_email = {
        r.mandate.user.email: r.id
        for r in db.session.scalars(select(Registration).where(Registration.session_id == started.id))
    }
    url = f"/formations/sessions/{started.id}/emargement"
    auth.login(STAFF)
    page = text_of(client.get(url))
    assert NAMES[ELU_A] in page and NAMES[ELU_B] in page and NAMES[ELU_A2] not in page  # waiting: no seat
    assert "Enregistrer l'émargement" in page
    response = auth.post(url, {"present": str(by_email[ELU_A])})
    assert response.status_code == 302
    assert "Émargement enregistré ; les attestations sont envoyées aux présents." in text_of(client.get(url))
    assert (status_of(by_email[ELU_A]), status_of(by_email[ELU_B]), status_of(by_email[ELU_A2])) == (
        "present",
        "absent",
        "waiting",
    )
    assert "7 h" in text_of(client.get(f"/formations/elus/{world.mandate_a}")).split("Heures de formation suivies")[1]
    untrained = text_of(client.get("/formations/communes-sans-elu-forme"))
    assert "Pujols" in untrained and "Sauvagnas" not in untrained


def test_attendance_before_the_start_is_refused(client, auth, world):
    url = f"/formations/sessions/{world.session}/emargement"
    auth.login(STAFF)
    page = text_of(client.get(url))
    assert "La présence se saisit une fois la session commencée." in page
    response = auth.post(url, {"present": str(world.registration_a)})
    assert response.status_code == 422
    assert "L'émargement n'est possible qu'une fois la session commencée." in text_of(response)
    assert status_of(world.registration_a) == "registered"


def test_sign_in_sheet_pdf_lists_the_participants(client, auth, world):
    auth.login(STAFF)
    response = client.get(f"/formations/sessions/{world.session}/emargement.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.data)).pages)
    for name in NAMES.values():
        assert name in text, name
    assert "Élu Numérique Rural" in text


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM Excel needs
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig")), delimiter=";"))


def test_participants_csv(client, auth, world, started):
    auth.login(STAFF)
    rows = read_csv(client.get(f"/formations/sessions/{started.id}/participants.csv"))
    header, body = rows[0], rows[1:]
    assert header[:2] == ["Élu", "Courriel"] and "Position en liste d'attente" in header
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in body}
    assert set(by_name) == set(NAMES.values())
    assert by_name[NAMES[ELU_A]]["Statut"] == "Inscrit" and by_name[NAMES[ELU_A]]["Collectivité"] == "Sauvagnas"
    assert by_name[NAMES[ELU_A2]]["Statut"] == "En liste d'attente"
    assert by_name[NAMES[ELU_A2]]["Position en liste d'attente"] == "1"
    assert by_name[NAMES[ELU_B]]["Coût pédagogique (€)"] == "150,00"
    assert by_name[NAMES[ELU_A]]["Première année"] == "oui"  # a délégation, in the mandate's first year


def test_commune_year_csv_lists_only_that_communes_elus(client, auth, world):
    year = db.session.get(TrainingSession, world.session).starts_at.astimezone(PARIS).year
    auth.login(SEC_A)
    rows = read_csv(client.get(f"/collectivites/{world.a}/formations/{year}.csv"))
    header, body = rows[0], rows[1:]
    assert header[0] == "Élu" and "Part commune (€)" in header
    assert sorted(row[0] for row in body) == sorted([NAMES[ELU_A], NAMES[ELU_A2]])
    first = dict(zip(header, next(row for row in body if row[0] == NAMES[ELU_A]), strict=True))
    assert first["Financement"] == "Budget de la commune" and first["Part commune (€)"] == "150,00"
    assert first["Délégation"] == "oui" and first["Formation"] == "Élu Numérique Rural"
    sheet = client.get(f"/collectivites/{world.a}/formations/{year}.xlsx")
    assert sheet.status_code == 200
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.get_data()), read_only=True).active.iter_rows(values_only=True))
    assert list(rows[0]) == header and len(rows) == len(body) + 1
    by_name = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert by_name[NAMES[ELU_A]]["Part commune (€)"] == 150  # a number in the sheet


def test_budget_form_shows_the_bounds(client, auth, world):
    year = db.session.get(TrainingSession, world.session).starts_at.astimezone(PARIS).year
    url = f"/collectivites/{world.a}/formations?annee={year}"
    auth.login(SEC_A)

    def read() -> str:
        return visible_text(client.get(url).get_data(as_text=True))

    page = read()
    assert "Non renseignés" in page and "Minimum légal" not in page
    assert "Renseignez le montant maximal des indemnités de fonction de l'année" in page
    assert "300 €" in page  # committed: two seats at 150 €
    data = {"year": str(year), "amount": "1 500,50", "max_indemnities": "20000", "deliberation_ref": "DEL-2026-12"}
    response = auth.post(url, data)
    assert response.status_code == 302
    page = read()
    assert "Budget de formation enregistré." in page
    assert f"Crédits votés pour {year} (prévision) 1 500,50 € (DEL-2026-12)" in page
    assert "Montant maximal des indemnités de fonction 20 000 €" in page
    assert "Minimum légal des crédits votés (2 %) 400 € — atteint" in page
    assert "Plafond légal des dépenses réalisées (20 %) 4 000 € — respecté" in page
    assert "notice" not in client.get(url).get_data(as_text=True).split('id="elus"')[0]
    auth.post(url, {**data, "amount": "300", "max_indemnities": "1000"})  # floor 20 €, ceiling 200 €
    page = read()
    assert "Minimum légal des crédits votés (2 %) 20 € — atteint" in page
    assert "Plafond légal des dépenses réalisées (20 %) 200 € — dépassé avec les inscriptions à venir" in page
    assert "Avec les inscriptions à venir, les dépenses (300 €) dépasseraient le plafond légal de 20 % (200 €" in page
    auth.post(url, {**data, "amount": "10", "max_indemnities": "1000"})
    page = read()
    assert "Les crédits votés (10 €) sont inférieurs au minimum légal de 2 %" in page
    assert "Les dépenses réalisées et engagées dépassent de 290 € les crédits disponibles." in page
    auth.post(url, {**data, "amount": "5000"})
    refused = auth.post(url, {**data, "amount": "mille euros"})
    assert refused.status_code == 422
    assert "Crédits de formation votés (€) : Saisissez un nombre en chiffres, par exemple 12,5." in text_of(refused)
    db.session.expire_all()
    assert db.session.scalar(select(TrainingBudget.amount)) == Decimal("5000.00")


# Bad input ---------------------------------------------------------------------------------------


def registration_refused(client, auth, session_id: int, mandate_id: int, message: str, **data) -> None:
    before = count(Registration)
    url = f"/formations/sessions/{session_id}"
    response = client.post(
        url, data={"mandate_id": str(mandate_id), "funding": "commune", "csrf_token": token(client), **data}
    )
    assert response.status_code == 422
    assert message in text_of(response)
    assert count(Registration) == before


def test_registration_refusals_in_french(client, auth, world):
    training = db.session.get(Training, world.training)
    late = make_session(training, starts=NOW + timedelta(days=5), deadline=NOW - timedelta(days=1))
    past = make_session(training, starts=NOW - timedelta(days=1))
    fresh = make_session(training)
    db.session.commit()
    auth.login(ELU_A)
    page = text_of(client.get(f"/formations/sessions/{late.id}"))
    assert "La date limite d'inscription à cette session est dépassée." in page and 'value="M\'inscrire"' not in page
    registration_refused(
        client, auth, late.id, world.mandate_a, "La date limite d'inscription à cette session est dépassée."
    )
    registration_refused(
        client,
        auth,
        past.id,
        world.mandate_a,
        "Cette session a déjà commencé ou est passée : l'inscription n'est plus possible.",
    )
    registration_refused(
        client, auth, world.session, world.mandate_a, f"{NAMES[ELU_A]} est déjà inscrit à cette session (inscrit)."
    )
    for name, label in (
        ("travel_cost", "Frais de déplacement et de séjour prévus (€)"),
        ("dife_amount", "Part financée par le DIFE (€)"),
        ("leave_days", "Jours de congé de formation utilisés"),
    ):
        registration_refused(
            client,
            auth,
            fresh.id,
            world.mandate_a,
            f"{label} : Saisissez un nombre en chiffres, par exemple 12,5.",
            **{name: "12a"},
        )
    registration_refused(
        client,
        auth,
        fresh.id,
        world.mandate_a,
        "Jours de congé de formation utilisés : Entre 0 et 24 jours.",
        leave_days="25",
    )


def test_cancelling_after_the_deadline_is_refused_to_the_elu(client, auth, world):
    training = db.session.get(Training, world.training)
    late = make_session(training, starts=NOW + timedelta(days=5), deadline=NOW + timedelta(days=3))
    registration = register(late, db.session.get(User, db.session.scalar(select(User.id).where(User.email == ELU_A))))
    db.session.commit()
    late.registration_deadline = NOW - timedelta(days=1)
    db.session.commit()
    url = f"/formations/sessions/{late.id}"
    auth.login(ELU_A)
    assert "Annuler l'inscription" not in text_of(client.get(url))
    post(client, f"/formations/inscriptions/{registration.id}/annuler", page_url=url)
    assert "La date limite d'inscription est passée : pour annuler, contactez le CDG." in text_of(client.get(url))
    assert status_of(registration.id) == "registered"


def test_session_form_refusals_in_french(client, auth, world):
    lapsed = factories.training_body("Organisme à l'agrément échu", agrement_until=date(2025, 12, 31))
    lapsed_training = factories.training("Formation d'un organisme échu", body=lapsed)
    db.session.commit()
    before = count(TrainingSession)
    auth.login(STAFF)
    url = "/formations/sessions/nouvelle"
    cases = [
        (session_form(world.training, ends_at=f"{NEXT}-03-12T08:00"), "La fin de la session doit suivre son début."),
        (
            session_form(world.training, registration_deadline=f"{NEXT}-03-13T08:00"),
            "La date limite d'inscription doit précéder le début de la session.",
        ),
        (session_form(world.training, capacity="0"), "Nombre de places : Entre 1 et 1 000 places."),
        (
            session_form(world.training, capacity="douze"),
            "Nombre de places : Saisissez un nombre entier en chiffres, par exemple 12.",
        ),
        (
            session_form(world.training, starts_at="12/03 9h"),
            "Début (heure de Paris) : N'est pas une date/heure valide.",
        ),
        (
            session_form(lapsed_training.id),
            f"L'agrément de l'organisme « Organisme à l'agrément échu » (n° {lapsed.agrement_number}) n'est pas valide",
        ),
    ]
    for data, message in cases:
        response = auth.post(url, data)
        assert response.status_code == 422, message
        assert message in text_of(response), message
    lapsed_page = text_of(auth.post(url, session_form(lapsed_training.id)))
    assert "la session ne peut pas être ouverte." in lapsed_page
    assert count(TrainingSession) == before
    assert "Agrément non valide : aucune session ne peut être ouverte" in text_of(client.get("/formations/catalogue"))


def test_catalogue_form_refusals_in_french(client, auth, world):
    auth.login(STAFF)
    body_id = db.session.scalar(select(TrainingBody.id))
    trainings, bodies = count(Training), count(TrainingBody)
    response = auth.post(
        "/formations/catalogue/nouvelle",
        {"title": "Urbanisme", "body_id": str(body_id), "duration_hours": "sept", "cost_per_participant": "1O0"},
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "Durée (heures) : Saisissez un nombre en chiffres, par exemple 12,5." in page
    assert "Coût pédagogique par participant (€) : Saisissez un nombre en chiffres, par exemple 12,5." in page
    response = auth.post(
        "/formations/organismes/nouveau",
        {"name": "Organisme", "agrement_number": "A-1", "agrement_from": "2026-01-01", "agrement_until": "2025-01-01"},
    )
    assert response.status_code == 422
    assert "La fin de validité de l'agrément précède son début." in text_of(response)
    assert (count(Training), count(TrainingBody)) == (trainings, bodies)


# Query counts ------------------------------------------------------------------------------------


def test_sessions_list_query_count_does_not_grow(app, client, auth, world, count_queries):
    training = db.session.get(Training, world.training)
    elu_a = db.session.scalar(select(User).where(User.email == ELU_A))
    auth.login(ELU_A)
    db.session.expunge_all()
    with count_queries() as few:
        assert client.get("/formations/").status_code == 200
    training = db.session.get(Training, world.training)
    elu_a = db.session.scalar(select(User).where(User.email == ELU_A))
    for days in range(31, 41):
        register(make_session(training, starts=NOW + timedelta(days=days)), elu_a)
    db.session.commit()
    db.session.expunge_all()
    with count_queries() as many:
        page = client.get("/formations/")
    assert page.status_code == 200 and page.get_data(as_text=True).count('href="/formations/sessions/') == 11
    assert len(few) == len(many), (few, many)


def test_session_pages_query_count_does_not_grow(app, client, auth, world, count_queries):
    """Neither with the registrations shown nor with the élus a secretary or staff may register; the staff's
    attendance sheet and participants CSV neither."""
    training = db.session.get(Training, world.training)
    small, large = make_session(training, capacity=3), make_session(training, capacity=3)
    small_id, large_id = small.id, large.id
    register(small, db.session.get(User, db.session.scalar(select(User.id).where(User.email == ELU_B))))
    db.session.commit()
    pages = {STAFF: ["", "/emargement", "/participants.csv"], SEC_B: [""]}

    def measure(session_id: int) -> dict[tuple[str, str], int]:
        counts = {}
        for email, suffixes in pages.items():
            login_as(auth, email)
            for suffix in suffixes:
                db.session.expunge_all()
                with count_queries() as statements:
                    assert client.get(f"/formations/sessions/{session_id}{suffix}").status_code == 200
                counts[email, suffix] = len(statements)
        return counts

    few = measure(small_id)
    large = db.session.get(TrainingSession, large_id)
    b = db.session.get(Collectivite, world.b)
    for n in range(8):  # 3 seats, 5 waiting
        register(large, Elu(collectivite=b, full_name=f"Élu {n}"))
    db.session.commit()
    assert measure(large_id) == few
    login_as(auth, SEC_B)
    page = text_of(client.get(f"/formations/sessions/{large_id}"))
    assert "position 5 sur la liste d'attente" in page and "Élu 7" in page


def test_commune_page_and_csv_query_count_does_not_grow(app, client, auth, world, count_queries):
    year = db.session.get(TrainingSession, world.session).starts_at.astimezone(PARIS).year
    urls = [f"/collectivites/{world.b}/formations?annee={year}", f"/collectivites/{world.b}/formations/{year}.csv"]
    auth.login(SEC_B)

    def measure() -> list[int]:
        counts = []
        for url in urls:
            db.session.expunge_all()
            with count_queries() as statements:
                assert client.get(url).status_code == 200
            counts.append(len(statements))
        return counts

    few = measure()
    b = db.session.get(Collectivite, world.b)
    session = db.session.get(TrainingSession, world.session)
    for n in range(6):
        register(session, Elu(collectivite=b, full_name=f"Élu {n}"))
    db.session.commit()
    assert measure() == few
    assert "Élu 5" in text_of(client.get(urls[0]))


@pytest.mark.parametrize(
    ("target", "local"),
    [
        ("https://malveillant.example/", False),
        ("//malveillant.example/", False),
        ("/\\malveillant.example/", False),
        ("/formations/mes-formations", True),
    ],
)
def test_the_next_page_after_an_action_is_always_local(client, auth, world, target, local):
    auth.login(ELU_A)
    response = post(client, f"/formations/inscriptions/{world.registration_a}/annuler", {"next": target})
    assert response.status_code == 302
    expected = target if local else f"/formations/sessions/{world.session}"
    assert response.location == expected
    assert status_of(world.registration_a) == "cancelled"


def test_session_page_ids_are_unique(client, auth, world):
    """Each action button has its own little form: their CSRF fields must not repeat the form's id."""
    b = db.session.get(Collectivite, world.b)
    full = make_session(db.session.get(Training, world.training), capacity=1)
    seat = register(full, Elu(collectivite=b))
    for e in db.session.scalars(select(User).where(User.role == "elu", User.email.in_([ELU_A, ELU_B]))):
        register(full, e)
    training_registrations.cancel(seat, _staff(), "")  # the first waiting gets an offer: accept and decline buttons
    db.session.commit()
    auth.login(STAFF)
    page = client.get(f"/formations/sessions/{full.id}").get_data(as_text=True)
    assert "Confirmer la place" in page and "Annuler l'inscription" in page
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


# Staff search of the élus, cancelled drafts, a POST with nobody to register ------------------------------


def test_staff_find_the_elus_of_a_commune_instead_of_a_list_of_every_elu(client, auth, world):
    fresh = make_session(db.session.get(Training, world.training))
    db.session.commit()
    login_as(auth, STAFF)
    url = f"/formations/sessions/{fresh.id}"
    page = text_of(client.get(url))
    assert "Chercher les élus" in page and NAMES[ELU_A] not in page and 'name="mandate_id"' not in page
    found = client.get(url, query_string={"elus_de": "sauvag"})
    assert found.status_code == 200
    options = re.findall(r'<option value="(\d+)"', found.get_data(as_text=True))
    assert set(map(int, options)) == {world.mandate_a, world.mandate_a2}
    assert "Aucun élu trouvé pour « Paris »" in text_of(client.get(url, query_string={"elus_de": "Paris"}))
    # Registering the élu found works from the same page.
    response = post(
        client,
        url,
        {
            "mandate_id": world.mandate_b,
            "funding": "commune",
            "dife_amount": "0",
            "travel_cost": "0",
            "leave_days": "0",
        },
        page_url=f"{url}?elus_de=pujols",
    )
    assert response.status_code == 302
    assert (
        db.session.scalar(
            select(Registration.status).where(
                Registration.session_id == fresh.id, Registration.mandate_id == world.mandate_b
            )
        )
        == "registered"
    )


def test_a_cancelled_draft_stays_hidden_and_a_cancelled_session_stays_visible_to_its_participants(client, auth, world):
    draft = db.session.get(TrainingSession, world.hidden)
    cancel_session(draft, _staff(), "Formateur indisponible")
    cancel_session(db.session.get(TrainingSession, world.session), _staff(), "Formateur indisponible")
    db.session.commit()
    login_as(auth, ELU_A)
    assert client.get(f"/formations/sessions/{world.hidden}").status_code == 404
    page = client.get(f"/formations/sessions/{world.session}")
    assert page.status_code == 200 and "Cette session a été annulée." in text_of(page)


def test_a_registration_post_with_nobody_to_register_says_so(client, auth, world):
    login_as(auth, STAFF)
    before = count(Registration)
    response = post(client, f"/formations/sessions/{world.session}", {"funding": "commune"})
    assert response.status_code == 302
    assert "Aucun élu ne peut être inscrit" in text_of(client.get(response.location))
    assert count(Registration) == before


def test_the_attestation_is_downloaded_by_the_elu_his_secretaries_and_staff(client, auth, world):
    registration = db.session.get(Registration, world.registration_a)
    url = f"/formations/inscriptions/{registration.id}/attestation.pdf"
    auth.login(ELU_A)
    assert client.get(url).status_code == 404  # not recorded present yet
    auth.logout()
    db.session.execute(update(Registration).where(Registration.id == registration.id).values(status="present"))
    db.session.commit()
    for email, code in ((ELU_A, 200), (SEC_A, 200), (STAFF, 200), (ELU_A2, 404), (SEC_B, 404), (ELU_B, 404)):
        auth.login(email)
        response = client.get(url)
        assert response.status_code == code, email
        if code == 200:
            assert response.mimetype == "application/pdf" and response.data.startswith(b"%PDF")
            assert "attestation-formation-" in response.headers["Content-Disposition"]
        auth.logout()
    auth.login(ELU_A)
    page = text_of(client.get(f"/formations/elus/{world.mandate_a}"))
    assert "télécharger l'attestation" in page and "envoyée par courriel" not in page


def test_a_session_on_a_public_holiday_is_saved_with_a_warning(client, auth, world):
    auth.login(STAFF)
    response = auth.post(
        "/formations/sessions/nouvelle",
        session_form(
            world.training,
            starts_at=f"{NEXT}-07-14T09:00",
            ends_at=f"{NEXT}-07-14T17:00",
            registration_deadline=f"{NEXT}-07-01T12:00",
        ),
    )
    assert response.status_code == 302
    page = text_of(client.get(response.location))
    assert f"Attention : la session tombe le 14 juillet {NEXT}, jour férié (Fête nationale)." in page
    ordinary = auth.post("/formations/sessions/nouvelle", session_form(world.training))
    assert ordinary.status_code == 302 and "jour férié" not in text_of(client.get(ordinary.location))


def test_an_elus_rights_are_exported_for_his_file_by_him_his_secretaries_and_staff(client, auth, world):
    """PDF and CSV of the élu's page: leave days out of 24, the DIFE estimate, the trainings followed; the access
    of his attestations."""
    mandate = db.session.get(Mandate, world.mandate_a)
    mandate.person.sex = "F"
    db.session.execute(
        update(Registration)
        .where(Registration.id == world.registration_a)
        .values(status="present", leave_days=Decimal("1.5"), funding="both", dife_amount=Decimal("100.00"))
    )
    db.session.commit()
    base = f"/formations/elus/{world.mandate_a}/droits"
    for email, code in ((ELU_A, 200), (SEC_A, 200), (STAFF, 200), (ELU_A2, 404), (SEC_B, 404), (ELU_B, 404)):
        login_as(auth, email)
        for extension in ("pdf", "csv"):
            assert client.get(f"{base}.{extension}").status_code == code, (email, extension)
    login_as(auth, SEC_A)
    assert f"{base}.pdf" in client.get(f"/formations/elus/{world.mandate_a}").get_data(as_text=True)

    pdf = client.get(f"{base}.pdf")
    assert pdf.mimetype == "application/pdf" and "droits-formation-elu-" in pdf.headers["Content-Disposition"]
    lines = pdf_lines(pdf.data)
    text = pdf_text(pdf.data)
    assert "Droits à la formation d'un élu local" in lines
    assert f"Madame {NAMES[ELU_A]}, Conseillère municipale, Sauvagnas, depuis le {date_fr(MANDATE_START)}." in text
    leave = "Congé de formation (24 jours par mandat) pris : 1,5 jour ; réservés : aucun jour ; restants : 22,5 jours"
    assert leave in text
    assert "DIFE, solde estimé 300 € (400 € crédités, 100 € mobilisés par le portail)" in text
    assert "Élu Numérique Rural" in text and "Présente" in text and "agrément n° AGR-2024-17" in text
    assert not problems_in(text)

    sheet = client.get(f"{base}.csv")
    raw = sheet.get_data(as_text=True)
    assert raw.startswith("\ufeffRubrique;Valeur\r\n")
    rows = list(csv.reader(io.StringIO(raw.lstrip("\ufeff")), delimiter=";"))
    values = {row[0]: row[1] for row in rows if len(row) == 2}
    assert values["Élu"] == NAMES[ELU_A]
    assert values["Congé de formation : jours par mandat"] == "24"
    assert values["Congé de formation : jours pris"] == "1,5"
    assert values["Congé de formation : jours restants"] == "22,5"
    assert values["DIFE : crédité (€)"] == "400" and values["DIFE : solde estimé (€)"] == "300,00"
    assert values["DIFE : mobilisé par le portail (€)"] == "100,00"
    trainings = rows[rows.index(list(TRAININGS_HEADER)) + 1 :]
    assert [(row[0], row[6], row[7], row[10], row[11]) for row in trainings] == [
        ("Élu Numérique Rural", "Présente", "Budget de la commune et DIFE", "100,00", "1,5")
    ]
