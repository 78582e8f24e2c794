"""Guard, continued: every email the portal sends reads in French, as its pages and documents do.

The demo world is loaded, then the actions that send the emails not sent by the demo itself are taken through the
portal's services, as a person or the CDG's agent would (an access request, one from an address that already has
an account, a refusal, an acceptance and its invitation, a forgotten password, a campaign's opening and reminder,
the convocation of two élus without an account, the morning digest of the CDG's queue). Every message reaches a
real SMTP server (the test's sink) through the outbox and the mailer; its subject, its text part and the visible
text of its HTML part must show none of the defects the page guard looks for (:func:`problems_in`). Addresses and
links are read as the machine identifiers they are. Every family of ``templates/emails`` (subject, text and HTML)
must have been sent at least once: a new template that nothing sends in this world fails the test until it is
added here.
"""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.access.models import AccessRequest
from portal.accounts import services as accounts
from portal.accounts.models import User
from portal.common.clock import paris_today, utcnow
from portal.demo.loader import load
from portal.extensions import db
from portal.notifications.models import OutboxEmail, OutboxState
from portal.registry.models import Collectivite
from tests import factories
from tests.functional.test_what_users_read import ACCOUNTS, problems_in, readable, visible_text

EMAILS = Path(__file__).resolve().parents[2] / "templates" / "emails"
PARTS = (".subject.txt", ".txt", ".html")


def families(directory: Path = EMAILS) -> set[str]:
    """The emails of ``templates/emails``, each file's name without its part (``_layout.html`` is shared)."""
    names = {path.name for path in directory.iterdir() if path.is_file() and path.name != "_layout.html"}
    return {re.sub(r"(\.subject\.txt|\.txt|\.html)$", "", name) for name in names}


def parts(message: EmailMessage) -> dict[str, str]:
    """What the reader sees: the subject, the text part, the HTML part's visible text."""
    body = message.get_body(("plain",)), message.get_body(("html",))
    return {
        "objet": str(message["Subject"]),
        "texte": readable(body[0].get_content()) if body[0] else "",
        "HTML": readable(visible_text(body[1].get_content())) if body[1] else "",
    }


def message_problems(message: EmailMessage) -> list[tuple[str, str]]:
    found = []
    for where, text in parts(message).items():
        if not text:
            found.append(("partie absente", where))
        found += [(f"{label} ({where})", snippet) for label, snippet in problems_in(text)]
    return found


def _send_what_the_demo_does_not(staff: User) -> None:
    """The actions behind the emails the demo world has not sent, each through the portal's services."""
    from portal.access import services as access
    from portal.campaigns import services as campaigns
    from portal.training import registrations
    from portal.training.models import TrainingSession
    from portal.workqueue import digest

    today = paris_today()
    # A secretary asks for an account (acknowledged), is accepted and invited; another is refused.
    for name, address in (
        ("Élise Martin", "elise.martin@mairie-astaffort.example"),
        ("Hugo Lefèvre", "hugo.lefevre@mairie-layrac.example"),
    ):
        access.submit_request(
            full_name=name,
            email=address,
            job_title="Secrétaire générale de mairie",
            collectivites_text="Astaffort, Layrac",
            message="Je remplace la secrétaire générale partie à la retraite.",
            ip_address="192.0.2.10",
        )
        db.session.commit()  # each request is its own: the quota counters take their own transaction
    requests = {r.email: r for r in db.session.scalars(select(AccessRequest))}
    astaffort = db.session.scalar(select(Collectivite).where(Collectivite.insee_code == "47015"))
    access.accept(requests["elise.martin@mairie-astaffort.example"], [astaffort], staff)
    access.refuse(
        requests["hugo.lefevre@mairie-layrac.example"],
        "La commune de Layrac nous a indiqué qu'elle n'a pas recruté de secrétaire générale.",
        staff,
    )
    db.session.commit()
    # Someone asks for an account with an address that already has one; an élu has forgotten his password.
    access.submit_request(
        full_name="Nadia Roussel",
        email=ACCOUNTS["secrétaire général de mairie"],
        job_title="Secrétaire générale de mairie",
        collectivites_text="Sauvagnas",
        message=None,
        ip_address="192.0.2.11",
    )
    db.session.commit()
    accounts.request_password_reset(ACCOUNTS["élu"], "192.0.2.12")
    db.session.commit()
    # Next year's headcount campaign: opened (the secretaries are told), then its first reminder.
    campaigns.open_campaign(
        campaigns.OpenInput("effectifs", today.year + 1, today.replace(year=today.year + 1, month=1, day=31)), staff
    )
    db.session.commit()
    campaigns.run_reminders(min(today + timedelta(days=15), today.replace(year=today.year + 1, month=1, day=31)))
    db.session.commit()
    # Two élus of Saint-Sixte without an account, as the RNE import creates them, registered by their secretary:
    # the convocation reaches the one by the address she gave, the other through his collectivité's secretary.
    saint_sixte = db.session.scalar(select(Collectivite).where(Collectivite.insee_code == "47279"))
    secretary = db.session.scalar(select(User).where(User.email == ACCOUNTS["secrétaire général de mairie"]))
    session = db.session.scalar(
        select(TrainingSession).where(TrainingSession.starts_at > utcnow()).order_by(TrainingSession.starts_at)
    )
    for elu in (
        factories.person(
            saint_sixte,
            "Jeanne",
            "Duprat",
            sex="F",
            function="adjoint",
            rank=1,
            contact_email="jeanne.duprat@saint-sixte.example",
        ),
        factories.person(saint_sixte, "Louis", "Garrigues", sex="M", function="conseiller"),
    ):
        registrations.register(session, elu.mandates[0], secretary)
        db.session.commit()
    # The morning digest of what entered the CDG's queue since yesterday.
    digest.send_digests(utcnow())
    db.session.commit()


@pytest.fixture
def world(app, smtp_sink):
    load(log=lambda *args, **kwargs: None)
    db.session.commit()
    staff = db.session.scalar(select(User).where(User.email == ACCOUNTS["agent du CDG"]))
    _send_what_the_demo_does_not(staff)
    return smtp_sink


def test_every_email_reads_in_french(world):
    received = {str(message["Message-ID"]): message for message in world.messages}
    lines, covered = [], set()
    for row in db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)):
        message = received.get(row.message_id)
        if message is None or row.state != OutboxState.SENT:
            lines.append(f"« {row.template} » à {row.to_address} — non envoyé ({row.state}) : {row.last_error}")
            continue
        covered.add(row.template)
        lines += [
            f"« {row.template} » à {row.to_address} — {label} : …{snippet}…"
            for label, snippet in sorted(set(message_problems(message)))
        ]
    uncovered = sorted(families() - covered)
    assert len(covered) >= 8 and not uncovered, (
        f"gabarits jamais envoyés par ce test (ajoutez l'action qui les envoie) : {uncovered}"
    )
    assert not lines, f"{len(lines)} défauts dans les courriels :\n" + "\n".join(lines)


def test_every_email_family_has_its_three_parts():
    missing = [
        family + part for family in sorted(families()) for part in PARTS if not (EMAILS / (family + part)).is_file()
    ]
    assert len(families()) >= 8 and not missing, f"parties absentes : {missing}"


def test_a_new_email_template_is_not_covered_until_something_sends_it(tmp_path):
    for path in EMAILS.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    for part in PARTS:
        (tmp_path / f"convention_reminder{part}").write_text("Rappel", encoding="utf-8")
    assert families(tmp_path) - families() == {"convention_reminder"}


def _message(subject: str, text: str, html_body: str) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = subject
    message.set_content(text)
    message.add_alternative(html_body, subtype="html")
    return message


def test_the_guard_reads_what_an_email_shows():
    planted = _message(
        "Relevé 2026 : None",
        "<function salutation at 0x7f65f5e2ede0>\n\nDemande d'adhésion à valider — SauvagnasDemande d'adhésion",
        "<p>Total : 85.00 €</p><p><a href='/notifications/1'>Ouvrir</a><button>Marquer comme lue</button></p>",
    )
    found = {label for label, _snippet in message_problems(planted)}
    assert found == {
        "« None » (objet)",
        "objet Python affiché (texte)",
        "mots collés (texte)",
        "point décimal dans un montant ou un taux (HTML)",
        "mots collés (HTML)",
    }
    french = _message(
        "Votre accès au portail du CDG de Lot-et-Garonne",
        "Bonjour Élise Martin,\nhttps://portail.example/invitation/AbC_dEf9 — écrivez à jean_dupont@mairie.example",
        "<p>Bonjour Élise Martin,</p><p><a href='https://portail.example/invitation/AbC_dEf9'>Activer</a></p>",
    )
    assert message_problems(french) == []
    assert ("partie absente", "HTML") in message_problems(_message("Objet", "Texte", "<p></p>"))
