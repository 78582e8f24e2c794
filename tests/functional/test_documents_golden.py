"""Golden tests on what a reader sees in the documents people sign, file or receive: the training attestation, the
sign-in sheet of a session and the cotisation statement (PDF, as pypdf extracts their text) and the convocation to
a training (the email of a confirmed registration: the portal sends it as an email with an invitation for the
calendar, not as a PDF).

Names with titles agreeing with the person, dates with « 1er », amounts as « 1 234,50 € » (narrow no-break
spaces): the exact lines, not only the HTML. The clock stands on 1 December 2026 in Paris.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import time_machine

from portal.catalogue.models import ContributionRate
from portal.common.clock import PARIS
from portal.extensions import db
from portal.statements import services as statements
from portal.training import attendance, registrations, sessions
from portal.training.documents import attestation_pdf
from tests import factories
from tests.functional.test_what_users_read import problems_in
from tests.pdf_text import pdf_lines

TODAY = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
N, NN = "\u202f", "\u00a0"  # narrow no-break space (amounts, percents), no-break space (hours)
CDG = "Centre de gestion de la fonction publique territoriale de Lot-et-Garonne"


@pytest.fixture(autouse=True)
def _first_of_december():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def world(app, smtp_sink):
    staff = factories.user("staff", email="staff@cdg47.fr")
    laroque = factories.collectivite("Laroque-Timbaut")
    martine = factories.person(
        laroque, "Martine", "Lafon", sex="F", function="adjoint", rank=1, contact_email="martine.lafon@exemple.fr"
    )
    body = sessions.save_body(
        sessions.BodyInput(
            "Institut de formation des élus", "AGR-2024-17", date(2024, 1, 1), date(2027, 12, 31), "contact@if.example"
        ),
        staff,
    )
    course = sessions.save_training(
        sessions.TrainingInput(
            "Élu Numérique Rural", body.id, Decimal("7"), Decimal("1234.50"), "Les outils numériques de la mairie."
        ),
        staff,
    )
    db.session.commit()
    return {"staff": staff, "laroque": laroque, "martine": martine, "course": course}


def session_on(world, start: datetime, *, created: datetime):
    return factories.training_session(
        world["course"],
        starts_at=start.astimezone(UTC),
        hours=7,
        place="Centre de gestion, 14 rue Paul Bert, Agen",
        actor=world["staff"],
        now=created.astimezone(UTC),
    )


def test_training_attestation(world):
    start = datetime(2026, 11, 27, 9, 0, tzinfo=PARIS)
    session = session_on(world, start, created=datetime(2026, 10, 1, tzinfo=PARIS))
    mandate = world["martine"].mandates[0]
    registration = registrations.register(session, mandate, world["staff"], now=datetime(2026, 10, 2, tzinfo=PARIS))
    attendance.mark_attendance(session, {registration.id}, world["staff"], now=datetime(2026, 11, 27, 18, tzinfo=PARIS))
    db.session.commit()

    _name, _mimetype, data = attestation_pdf(registration)
    lines = pdf_lines(data)
    assert lines == [
        CDG,
        "Portail des services mutualisés",
        "Attestation de présence à une formation d'élu",
        f"Attestation n° {registration.id}, établie le 1er décembre 2026.",
        f"Le {CDG} atteste que",
        "Madame Martine Lafon, 1re adjointe au maire, Laroque-Timbaut,",
        "a suivi la formation :",
        "Intitulé Élu Numérique Rural",
        "Organisme Institut de formation des élus, agréé par le ministère (agrément",
        f"n°{NN}AGR-2024-17)",
        f"Date 27 novembre 2026, 9{NN}h{N}–{N}16{NN}h",
        f"Durée 7{NN}h",
        "Lieu Centre de gestion, 14 rue Paul Bert, Agen",
        "Formation des élus locaux : articles L2123-12 à L2123-16 du code général des collectivités territoriales",
        "(loi du 3 février 1992).",
        "Pour le centre de gestion, le président",
        "1 / 1",
    ]
    assert not problems_in(" ".join(lines))


def test_training_sign_in_sheet(client, auth, world):
    start = datetime(2026, 12, 1, 9, 0, tzinfo=PARIS)  # today: the sheet is printed on the morning of the session
    session = session_on(world, start, created=datetime(2026, 10, 1, tzinfo=PARIS))
    sauvagnas = factories.collectivite("Sauvagnas")
    paul = factories.person(sauvagnas, "Paul", "Laffitte", sex="M", function="maire")
    anne = factories.person(sauvagnas, "Anne", "Roux", sex="F", function="conseiller")
    jean = factories.person(sauvagnas, "Jean", "Bru", sex="M", function="adjoint", rank=2)
    cancelled = factories.person(sauvagnas, "Lucie", "Cazes", sex="F", function="conseiller")
    booked = datetime(2026, 10, 2, tzinfo=PARIS)
    for person in (world["martine"], paul, anne, jean, cancelled):
        registrations.register(session, person.mandates[0], world["staff"], now=booked)
    db.session.commit()
    (gone,) = [r for r in session.registrations if r.mandate.person is cancelled]
    registrations.cancel(gone, world["staff"], now=datetime(2026, 11, 2, tzinfo=PARIS))
    db.session.commit()

    auth.login("staff@cdg47.fr")
    response = client.get(f"/formations/sessions/{session.id}/emargement.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    lines = pdf_lines(response.data)
    assert lines == [
        CDG,
        "Portail des services mutualisés",
        "Feuille d'émargement",
        "Élu Numérique Rural — Institut de formation des élus (agrément n° AGR-2024-17)",
        f"1er décembre 2026, 9{NN}h{N}–{N}16{NN}h — Centre de gestion, 14 rue Paul Bert, Agen",
        "Élu Collectivité Fonction Signature",
        # By family name: the signature column stays empty for the pen; the cancelled registration is not listed.
        "Jean Bru Sauvagnas 2e adjoint au maire",
        "Paul Laffitte Sauvagnas Maire",
        "Martine Lafon Laroque-Timbaut 1re adjointe au maire",
        "Anne Roux Sauvagnas Conseillère municipale",
        "4 participants inscrits.",
        "Le formateur Pour le centre de gestion",
        "1 / 1",
    ]
    text = " ".join(lines)
    assert "Lucie Cazes" not in text and "(e)" not in text
    assert not problems_in(text)


def test_cotisation_statement(client, auth, world):
    body = factories.collectivite("Sauvagnas")
    factories.declare(body, 2025, 4)  # affiliated (obligatoire) since 1 January 2025
    db.session.add_all(
        [
            ContributionRate(
                year=2025,
                kind="cotisation",
                rate_percent=Decimal("0.75"),
                deliberation_ref="Délibération n° 2024-88",
                deliberation_date=date(2024, 11, 26),
            ),
            ContributionRate(
                year=2026,
                kind="cotisation",
                rate_percent=Decimal("0.80"),
                deliberation_ref="Délibération n° 2025-90",
                deliberation_date=date(2025, 11, 1),
            ),
        ]
    )
    statements.set_payroll(body, 2025, "150000", world["staff"])  # 1 125 € of cotisation in 2025
    statements.set_payroll(body, 2026, "154312,50", world["staff"])  # × 0,8 % = 1 234,50 €
    db.session.commit()
    auth.login("staff@cdg47.fr")
    response = client.get(f"/collectivites/{body.id}/releve/2026.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    lines = pdf_lines(response.data)
    assert lines == [
        CDG,
        "Portail des services mutualisés",
        "Relevé 2026 : Sauvagnas",
        f"Code {body.code} — établi le 1er décembre 2026.",
        "Objet Base de calcul Montant",
        f"Cotisation obligatoire 154{N}312,50{N}€ × 0,8{N}% (année entière) —",
        "Délibération n° 2025-90 du 1er novembre",
        "2025",
        f"1{N}234,50{N}€",
        f"Total 1{N}234,50{N}€",
        "Échéancier de la cotisation",
        "Au plus tard le Échéance Montant",
        f"31 janvier 2026 Acompte d'un tiers de la cotisation de l'an passé 375,00{N}€",
        f"31 mai 2026 Solde 859,50{N}€",
        "Cotisation : loi n° 84-53, art. 22 ; loi n° 85-1221, art. 20. Services facultatifs : tarifs votés par le "
        "conseil",
        "d'administration, facturés selon les conventions d'adhésion.",
        "1 / 1",
    ]
    assert not problems_in(" ".join(lines))


def test_convocation_email(world, smtp_sink):
    start = datetime(2027, 2, 1, 9, 30, tzinfo=PARIS)  # 1 February 2027, a Monday
    session = session_on(world, start, created=datetime(2026, 11, 2, tzinfo=PARIS))
    mandate = world["martine"].mandates[0]
    registrations.register(session, mandate, world["staff"], now=datetime(2026, 11, 30, tzinfo=PARIS))
    db.session.commit()
    (message,) = [m for m in smtp_sink.messages if "martine.lafon@exemple.fr" in str(m["To"])]
    assert str(message["Subject"]) == "Inscription confirmée — Élu Numérique Rural — Portail CDG 47"
    text = message.get_body(preferencelist=("plain",)).get_content()
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[:2] == [
        "Madame l'Adjointe au maire,",
        "Votre inscription est confirmée : « Élu Numérique Rural », le 1er février 2027, "
        f"9{NN}h{NN}30{N}–{N}16{NN}h{NN}30, Centre de gestion, 14 rue Paul Bert, Agen. L'invitation jointe s'ajoute "
        "à votre agenda.",
    ]
    assert not problems_in(" ".join(lines))
