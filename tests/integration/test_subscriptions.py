"""Subscriptions on the database: requests, eligibility, duplicates, ENT schools, transitions, documents, activation."""

import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.catalogue.rules import add_months
from portal.common.errors import DomainError
from portal.common.formatting import date_fr
from portal.demo.catalogue import load_catalogue
from portal.extensions import db
from portal.notifications.models import Notification, OutboxEmail
from portal.subscriptions import rules, services
from portal.subscriptions.models import Subscription
from tests import factories

Y = factories.THIS_YEAR
TODAY = date.today()


@pytest.fixture
def world(app):
    services_by_code = {s.code: s for s in load_catalogue(Y)}
    staff = factories.user("staff", email="staff@cdg47.fr")
    commune = factories.collectivite("Sauvagnas", population=520)
    factories.declare(commune, Y, 3, 1, 2)
    big = factories.collectivite("Agen", population=32000)
    factories.declare(big, Y, 420)
    secretary = factories.user("secretary", email="sec@mairie.fr", collectivites=[commune])
    db.session.commit()
    return {"services": services_by_code, "staff": staff, "commune": commune, "big": big, "secretary": secretary}


def ent_request(start=None, schools=None):
    schools = (
        schools
        if schools is not None
        else [
            services.SchoolInput("0470001W", "École Jean Jaurès", 4, 92, "Mme Martin"),
            services.SchoolInput("0470002X", "École du Bourg", 2, 41),
        ]
    )
    return services.RequestInput(start_date=start or TODAY + timedelta(days=10), schools=schools, message="Rentrée")


def test_catalogue_for_a_commune_explains_eligibility_and_estimates(world):
    entries = {e.service.code: e for e in services.catalogue_for(world["commune"], Y)}
    assert entries["gestion-personnels"].eligibility.eligible
    assert entries["gestion-personnels"].estimate == 6 * 85  # 3 + 1 + 2 agents declared × 85 €
    assert not entries["socle-commun"].eligibility.eligible  # affiliated: the socle is for the others
    assert entries["concours"].estimate == 0 and not entries["concours"].service.subscribable
    assert entries["ent-ecoles"].estimate is None and "Estimation impossible" in entries["ent-ecoles"].estimate_basis
    big_entries = {e.service.code: e for e in services.catalogue_for(world["big"], Y)}
    assert big_entries["socle-commun"].eligibility.eligible  # 420 agents, not affiliated
    assert not big_entries["concours"].eligibility.eligible


def test_ent_request_with_two_schools(world):
    subscription = services.request_subscription(
        world["commune"], world["services"]["ent-ecoles"], ent_request(), world["secretary"]
    )
    db.session.commit()
    assert subscription.state == rules.State.REQUESTED
    assert [s.uai for s in subscription.schools] == ["0470001W", "0470002X"]
    assert subscription.details["quantities"] == {"schools": 2, "pupils": 133}
    staff_notes = db.session.scalars(select(Notification).where(Notification.user_id == world["staff"].id)).all()
    assert any("Nouvelle demande" in n.title for n in staff_notes)


@pytest.mark.parametrize(
    ("schools", "message"),
    [
        ([], "au moins une école"),
        ([services.SchoolInput("0470001A", "École", 2, 30)], "lettre de contrôle"),
        ([services.SchoolInput("047001W", "École", 2, 30)], "7 chiffres"),
        ([services.SchoolInput("0470001W", "A", 2, 30), services.SchoolInput("0470001w", "B", 1, 10)], "deux fois"),
        ([services.SchoolInput("0470001W", "École", 0, 30)], "nombre de classes"),
        ([services.SchoolInput("0470001W", "École", 2, 5000)], "nombre d'élèves"),
        ([services.SchoolInput("0470001W", " ", 2, 30)], "nom de l'école"),
    ],
)
def test_bad_schools_are_refused_and_nothing_is_saved(world, schools, message):
    with pytest.raises(DomainError, match=message):
        services.request_subscription(
            world["commune"], world["services"]["ent-ecoles"], ent_request(schools=schools), world["secretary"]
        )
    db.session.rollback()
    assert db.session.scalar(select(Subscription)) is None


def test_same_service_twice_ineligible_and_past_start_are_refused(world):
    ent = world["services"]["ent-ecoles"]
    services.request_subscription(world["commune"], ent, ent_request(), world["secretary"])
    db.session.commit()
    with pytest.raises(DomainError, match="déjà une demande"):
        services.request_subscription(world["commune"], ent, ent_request(), world["secretary"])
    with pytest.raises(DomainError, match="n'est pas éligible"):
        services.request_subscription(
            world["commune"],
            world["services"]["socle-commun"],
            services.RequestInput(start_date=TODAY),
            world["secretary"],
        )
    with pytest.raises(DomainError, match="passée"):
        services.request_subscription(
            world["commune"],
            world["services"]["rgpd-dpo"],
            services.RequestInput(start_date=TODAY - timedelta(days=1)),
            world["secretary"],
        )
    with pytest.raises(DomainError, match="ne fait pas l'objet"):
        services.request_subscription(
            world["commune"], world["services"]["concours"], services.RequestInput(start_date=TODAY), world["secretary"]
        )
    with pytest.raises(DomainError, match="nombre entier"):
        services.request_subscription(
            world["commune"],
            world["services"]["remplacement"],
            services.RequestInput(start_date=TODAY, quantities={"hours": -4}),
            world["secretary"],
        )


def test_validation_generates_the_documents_and_emails_the_convention(world, smtp_sink):
    subscription = services.request_subscription(
        world["commune"], world["services"]["ent-ecoles"], ent_request(), world["secretary"]
    )
    db.session.commit()
    services.transition(subscription, rules.Action.VALIDATE, world["staff"], "Bienvenue")
    db.session.commit()  # eager Celery: the documents task runs after this commit
    db.session.expire_all()
    subscription = db.session.get(Subscription, subscription.id)
    assert subscription.state == rules.State.VALIDATED and subscription.documents_state == "done"
    kinds = {d.kind: d for d in subscription.documents}
    assert set(kinds) == {"convention", "ent_annex", "ent_export"}
    convention_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(kinds["convention"].data)).pages)
    assert "Convention d'adhésion au service « ENT des écoles" in convention_text
    assert "Sauvagnas" in convention_text and "IA-DASEN" in convention_text
    annex_text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(kinds["ent_annex"].data)).pages)
    assert "0470001W" in annex_text and "École du Bourg" in annex_text
    # Dates as people read them: « 1er décembre 2026 », never 01/12/2026.
    start = date_fr(subscription.start_date)
    assert f"prend effet le {start}" in " ".join(convention_text.split())
    assert " ".join(annex_text.split()).count(start) == 2  # the adhesion date of each school
    assert not re.search(r"\d{2}/\d{2}/\d{4}", convention_text + annex_text)
    csv_text = kinds["ent_export"].data.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("code_uai;nom_ecole;commune;code_insee")
    assert "0470002X;École du Bourg;Sauvagnas" in csv_text
    # The secretary received the convention by email, as a PDF attachment.
    with_attachment = [m for m in smtp_sink.messages if "Convention d'adhésion disponible" in m["Subject"]]
    assert len(with_attachment) == 1
    attachments = {part.get_filename() for part in with_attachment[0].iter_attachments()}
    assert attachments == {f"convention-adhesion-{subscription.id}.pdf", f"annexe-ecoles-ent-{subscription.id}.pdf"}


def test_a_document_failure_is_recorded_and_can_be_retried(world, monkeypatch):
    from portal.common.pdf import DocumentError
    from portal.subscriptions import documents

    def broken(_subscription):
        raise DocumentError("Le document PDF n'a pas pu être produit : police absente")

    subscription = services.request_subscription(
        world["commune"], world["services"]["rgpd-dpo"], services.RequestInput(start_date=TODAY), world["secretary"]
    )
    db.session.commit()
    monkeypatch.setattr(documents, "convention_pdf", broken)
    services.transition(subscription, rules.Action.VALIDATE, world["staff"])
    db.session.commit()
    db.session.expire_all()
    subscription = db.session.get(Subscription, subscription.id)
    assert subscription.state == rules.State.VALIDATED  # the validation itself stands
    assert subscription.documents_state == "failed" and "police absente" in subscription.documents_error
    monkeypatch.undo()
    services.retry_documents(subscription, world["staff"])
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Subscription, subscription.id).documents_state == "done"


def test_refusal_needs_a_reason_and_roles_keep_to_their_actions(world):
    subscription = services.request_subscription(
        world["commune"], world["services"]["rgpd-dpo"], services.RequestInput(start_date=TODAY), world["secretary"]
    )
    db.session.commit()
    with pytest.raises(DomainError, match="motif"):
        services.transition(subscription, rules.Action.REFUSE, world["staff"], " ")
    with pytest.raises(DomainError, match="réservée au centre de gestion"):
        services.transition(subscription, rules.Action.VALIDATE, world["secretary"])
    services.transition(subscription, rules.Action.ASK_INFO, world["staff"], "Quel est le nombre d'agents ?")
    services.transition(subscription, rules.Action.PROVIDE_INFO, world["secretary"], "Six agents.")
    services.transition(subscription, rules.Action.REFUSE, world["staff"], "Service complet cette année.")
    db.session.commit()
    assert subscription.state == rules.State.REFUSED
    assert [e.action for e in subscription.events] == ["request", "ask_info", "provide_info", "refuse"]
    with pytest.raises(rules.IllegalTransition):
        services.transition(subscription, rules.Action.VALIDATE, world["staff"])
    secretary_notes = db.session.scalars(select(Notification).where(Notification.user_id == world["secretary"].id))
    assert any("Service complet" in n.body for n in secretary_notes)


def test_daily_job_activates_on_the_start_date_and_ends_after_notice(world):
    start = TODAY + timedelta(days=3)
    subscription = services.request_subscription(
        world["commune"],
        world["services"]["gestion-personnels"],
        services.RequestInput(start_date=start, quantities={"agents": 6}),
        world["secretary"],
    )
    services.transition(subscription, rules.Action.VALIDATE, world["staff"])
    db.session.commit()
    assert services.run_daily(start - timedelta(days=1)) == (0, 0)
    assert services.run_daily(start) == (1, 0)
    assert subscription.state == rules.State.ACTIVE
    assert services.run_daily(start) == (0, 0)  # idempotent
    end = services.request_end(subscription, world["secretary"], today=start)
    assert end == add_months(start, 3)  # the service's notice is 3 months
    with pytest.raises(DomainError, match="déjà demandée"):
        services.request_end(subscription, world["secretary"], today=start)
    assert services.run_daily(end) == (0, 0)
    assert services.run_daily(end + timedelta(days=1)) == (0, 1)
    assert subscription.state == rules.State.ENDED
    assert db.session.scalar(select(OutboxEmail).where(OutboxEmail.category == "subscriptions")) is not None


def _pdf_text(data: bytes) -> tuple[str, list[str]]:
    pages = [" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(data)).pages]
    return " ".join(pages), pages


def test_the_convention_names_the_maire_the_tariff_of_its_year_and_the_yearly_total(world):
    from portal.subscriptions import documents

    factories.person(world["commune"], "Anne", "Roux", sex="F", function="maire")
    start = date(Y + 1, 1, 10)  # takes effect next year: only this year's tariff is voted
    subscription = services.request_subscription(
        world["commune"], world["services"]["ent-ecoles"], ent_request(start=start), world["secretary"]
    )
    db.session.commit()
    _name, _type, data = documents.convention_pdf(subscription)
    text, pages = _pdf_text(data)
    assert "Sauvagnas (Commune, code" in text
    assert "représentée par sa Maire, Madame Anne Roux, dûment autorisée par délibération" in text
    tariff = world["services"]["ent-ecoles"].tariff_for(Y)
    assert f"Tarif applicable en {Y + 1}" in text
    assert f"(tarif voté pour {Y}, appliqué tant que le tarif {Y + 1} n'est pas voté)" in text
    assert "Nombre d'élèves" in text and "Nombre d'écoles" in text and "pupils" not in text
    total = tariff.unit_amount * 133  # 92 + 41 pupils
    assert f"Montant annuel {Y + 1}" in text
    assert f"{total:.2f}".replace(".", ",") in text.replace("\u202f", "").replace(" ", "")
    assert text.lower().count("délibération délibération") == 0
    assert "l'exécutif" not in text
    # The closing line and both signatures stand on the same page.
    last = pages[-1]
    assert "Fait en deux exemplaires" in last and "La Maire" in last and "Anne Roux" in last
    assert "Pour le centre de gestion" in last


def test_a_ccas_is_signed_by_its_president_the_maire_of_its_commune(world):
    from portal.subscriptions import documents

    factories.person(world["commune"], "Paul", "Lafon", sex="M", function="maire")
    ccas = factories.collectivite("CCAS de Sauvagnas", "ccas", parent=world["commune"])
    factories.declare(ccas, Y, 1)
    world["secretary"].collectivites.append(ccas)
    service = next(s for s in world["services"].values() if s.subscribable and s.code != "ent-ecoles")
    subscription = Subscription(collectivite=ccas, service=service, start_date=TODAY, details={"quantities": {}})
    db.session.add(subscription)
    db.session.commit()
    text, _pages = _pdf_text(documents.convention_pdf(subscription)[2])
    assert "représentée par son Président, Monsieur Paul Lafon, dûment autorisé" in text
    assert "Le Président Paul Lafon" in text
