"""Campaigns on a real database: opening (tasks, one email per secretary), reminders that never go out twice,
completion observed from the declarations, a crossing of 350 opening the affiliation decision, closing and
reopening, and a second kind of campaign defined in the test only."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from portal.affiliation.models import AffiliationDecision
from portal.audit.models import AuditEvent
from portal.campaigns import definitions, services, tasks
from portal.campaigns.definitions import Definition, Step, StepKind
from portal.campaigns.models import CampaignMessage, CampaignTask
from portal.common.clock import PARIS, paris_today
from portal.common.errors import DomainError
from portal.extensions import db
from portal.notifications.models import OutboxEmail
from tests import factories

YEAR = paris_today().year + 1
DEADLINE = date(YEAR, 3, 31)


@pytest.fixture
def world(app):
    epci = factories.collectivite("CA du Grand Test", "ca", siren="200000001")
    a = factories.collectivite("Astaffort", epci=epci)
    ccas_a = factories.collectivite("CCAS d'Astaffort", "ccas", parent=a, insee=None, siren="260000001")
    b = factories.collectivite("Boé", epci=epci)
    c = factories.collectivite("Cuq")  # no secretary on the portal
    outside = factories.collectivite("Hors département")
    outside.departement_code = "33"
    staff = factories.user("staff", email="agent@cdg47.fr")
    sec_a = factories.user("secretary", email="mairie@astaffort.fr", collectivites=[a])
    sec_b = factories.user("secretary", email="mairie@boe.fr", collectivites=[b])
    factories.declare(a, YEAR - 1, 300, notify=False)
    factories.declare(ccas_a, YEAR - 1, 40, notify=False)
    factories.declare(b, YEAR - 1, 10, notify=False)
    db.session.commit()
    return {
        "epci": epci,
        "a": a,
        "ccas_a": ccas_a,
        "b": b,
        "c": c,
        "outside": outside,
        "staff": staff,
        "sec_a": sec_a,
        "sec_b": sec_b,
    }


def open_headcount(world, **changes):
    data = services.OpenInput(kind="effectifs", year=YEAR, deadline=DEADLINE, message="Merci de votre aide.")
    for key, value in changes.items():
        setattr(data, key, value)
    campaign = services.open_campaign(data, world["staff"])
    db.session.commit()
    return campaign


def emails_to(address):
    return list(
        db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_address == address).order_by(OutboxEmail.id))
    )


def task_of(campaign, body):
    return db.session.scalar(
        select(CampaignTask).where(CampaignTask.campaign_id == campaign.id, CampaignTask.collectivite_id == body.id)
    )


def test_opening_creates_a_task_per_body_in_scope_and_one_email_per_secretary(world):
    campaign = open_headcount(world)
    bodies = set(
        db.session.scalars(select(CampaignTask.collectivite_id).where(CampaignTask.campaign_id == campaign.id))
    )
    assert bodies == {world[k].id for k in ("epci", "a", "ccas_a", "b", "c")}  # not the body of another département
    assert campaign.reference_date == date(YEAR, 1, 1) and campaign.title == f"Effectifs au 1er janvier {YEAR}"
    # The commune's secretary answers for its CCAS too: one email naming both.
    [to_a] = emails_to("mairie@astaffort.fr")
    assert to_a.template == "campaign" and to_a.context["opening"] is True
    assert to_a.context["bodies"] == ["Astaffort", "CCAS d'Astaffort"]
    assert to_a.context["deadline"] == f"31 mars {YEAR}" and to_a.context["message"] == "Merci de votre aide."
    assert len(emails_to("mairie@boe.fr")) == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == 2
    # Recorded per task: the opening never goes twice; Cuq and the EPCI have nobody to receive it.
    recorded = set(db.session.scalars(select(CampaignMessage.task_id)))
    assert recorded == {task_of(campaign, world[k]).id for k in ("a", "ccas_a", "b")}
    opening = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "campaign.open"))
    assert opening.summary == (
        f"Ouverture de la campagne « Effectifs au 1er janvier {YEAR} » (5 collectivités, date limite 31 mars {YEAR})"
    )
    # The definition's texts are lazy (gettext at use): what is stored is plain text.
    assert type(campaign.title) is str and to_a.context["description"].startswith("Déclarez les agents")


def test_scope_by_kind_and_refusals(world):
    campaign = open_headcount(world, scope_kinds=("commune",))
    kinds = set(db.session.scalars(select(CampaignTask.collectivite_id).where(CampaignTask.campaign_id == campaign.id)))
    assert kinds == {world["a"].id, world["b"].id, world["c"].id}
    with pytest.raises(DomainError, match="existe déjà") as error:
        services.open_campaign(services.OpenInput("effectifs", YEAR, DEADLINE), world["staff"])
    assert error.value.field == "year"
    with pytest.raises(DomainError, match="déjà passée"):
        services.open_campaign(services.OpenInput("effectifs", YEAR - 1, paris_today() - timedelta(days=1)), None)
    with pytest.raises(DomainError, match="précède la date de référence"):
        services.open_campaign(services.OpenInput("effectifs", YEAR + 0, date(YEAR - 1, 12, 31)), None)


def run_job_on(day: date) -> int:
    with time_machine.travel(datetime.combine(day, time(8, 0), tzinfo=PARIS), tick=False):
        sent = tasks.reminders()
    return sent


def test_reminders_go_once_and_only_to_bodies_that_have_not_answered(world):
    campaign = open_headcount(world)
    factories.declare(world["b"], YEAR, 12, actor=world["sec_b"])  # Boé answers
    db.session.commit()
    j15 = campaign.opened_on + timedelta(days=15)
    assert run_job_on(j15 - timedelta(days=1)) == 0
    assert run_job_on(j15) == 1
    assert run_job_on(j15) == 0  # the job run twice the same day sends nothing more
    assert run_job_on(j15 + timedelta(days=1)) == 0
    reminders = [e for e in emails_to("mairie@astaffort.fr") if not e.context["opening"]]
    assert len(reminders) == 1 and reminders[0].context["bodies"] == ["Astaffort", "CCAS d'Astaffort"]
    assert len(emails_to("mairie@boe.fr")) == 1  # the opening only: Boé has answered
    codes = set(
        db.session.scalars(
            select(CampaignMessage.code).where(CampaignMessage.task_id == task_of(campaign, world["a"]).id)
        )
    )
    assert codes == {"ouverture", "J+15"}


def test_a_run_racing_another_sends_nothing(world, monkeypatch):
    """Two beats at once: the other run records Astaffort's J+15 between this run's read and its write. This
    run meets the unique key, its savepoint is rolled back: no email from it, no error; the next run sends what
    is still due."""
    from sqlalchemy import insert

    campaign = open_headcount(world)
    j15 = campaign.opened_on + timedelta(days=15)
    before = db.session.scalar(select(func.count()).select_from(OutboxEmail))
    task_a = task_of(campaign, world["a"])
    original = services._send

    def racing_send(campaign, definition, codes):
        db.session.execute(insert(CampaignMessage).values(task_id=task_a.id, code="J+15", sent_at=func.now()))
        return original(campaign, definition, codes)

    monkeypatch.setattr(services, "_send", racing_send)
    assert services.run_reminders_once(j15) == 0
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(OutboxEmail)) == before
    monkeypatch.setattr(services, "_send", original)
    assert services.run_reminders_once(j15) == 2  # Astaffort (with its CCAS) and Boé
    db.session.commit()
    assert services.run_reminders_once(j15) == 0


def test_completion_is_observed_from_declarations_and_the_family_form_crosses_350(world):
    campaign = open_headcount(world)
    task_a, task_ccas = task_of(campaign, world["a"]), task_of(campaign, world["ccas_a"])
    assert not services.is_answered(task_a)
    handler = definitions.get("effectifs").steps[0].handler
    from werkzeug.datastructures import MultiDict

    form_data = MultiDict(
        {
            f"c{world['a'].id}-titulaires_temps_complet": "320",
            f"c{world['a'].id}-titulaires_temps_non_complet": "4",
            f"c{world['a'].id}-contractuels": "12",
            f"c{world['ccas_a'].id}-titulaires_temps_complet": "35",
            f"c{world['ccas_a'].id}-titulaires_temps_non_complet": "0",
            f"c{world['ccas_a'].id}-contractuels": "3",
        }
    )
    from flask import current_app

    with current_app.test_request_context(method="POST", data=form_data):
        form, rows = handler.build(task_a, form_data)
        assert [r["body"].name for r in rows] == ["Astaffort", "CCAS d'Astaffort"]
        assert all(r["form"].validate() for r in rows)
        assert handler.save(task_a, rows, world["sec_a"]) == 2
    db.session.commit()
    assert services.is_answered(task_a) and services.is_answered(task_ccas)
    # 320 + 35 = 355: the existing flow opens one crossing decision for each of the family, nothing changes alone.
    decisions = list(db.session.scalars(select(AffiliationDecision).where(AffiliationDecision.state == "open")))
    assert {d.collectivite_id for d in decisions} == {world["a"].id, world["ccas_a"].id}
    assert {d.counted_headcount for d in decisions} == {355}
    assert world["a"].affiliation_status == "obligatoire"
    # The same figures sent again add nothing.
    with current_app.test_request_context(method="POST", data=form_data):
        form, rows = handler.build(task_a, form_data)
        assert all(r["form"].validate() for r in rows)
        assert handler.save(task_a, rows, world["sec_a"]) == 0


def test_each_campaign_observes_the_declarations_of_its_own_year(world):
    this_year = services.open_campaign(services.OpenInput("effectifs", YEAR - 1, DEADLINE), world["staff"])
    next_year = open_headcount(world)
    factories.declare(world["c"], YEAR - 1, 3)
    db.session.commit()
    assert services.is_answered(task_of(this_year, world["c"]))
    assert not services.is_answered(task_of(next_year, world["c"]))
    assert services.progress(this_year)[0].overall.answered == 4  # A, its CCAS and B declared last year too
    assert services.progress(next_year)[0].overall.answered == 0


def test_progress_by_epci_and_kind_and_the_missing_list(world):
    campaign = open_headcount(world)
    factories.declare(world["b"], YEAR, 12)
    db.session.commit()
    progress, missing = services.progress(campaign)
    assert (progress.overall.answered, progress.overall.total) == (1, 5)
    assert progress.by_epci["CA du Grand Test"] == services.rules.Tally(1, 3)
    assert progress.by_kind["commune"] == services.rules.Tally(1, 3)
    assert progress.without_recipient == 2  # Cuq and the EPCI
    names = [m.name for m in missing]
    assert names == ["Astaffort", "CA du Grand Test", "CCAS d'Astaffort", "Cuq"]
    ccas = next(m for m in missing if m.name == "CCAS d'Astaffort")
    assert ccas.secretaries == ["mairie@astaffort.fr"]  # answered through its commune
    rows = list(services.missing_csv_rows(missing))
    assert rows[3] == ("Cuq", "Commune", world["c"].insee_code, "", "", "sans secrétaire sur le portail", "aucune")


def test_closed_campaign_sends_no_reminder_and_reopening_keeps_what_was_sent(world):
    campaign = open_headcount(world)
    j15 = campaign.opened_on + timedelta(days=15)
    services.close(campaign, world["staff"])
    db.session.commit()
    assert run_job_on(j15) == 0
    with pytest.raises(DomainError, match="déjà passée"):
        services.reopen(campaign, paris_today() - timedelta(days=1), world["staff"])
    services.reopen(campaign, DEADLINE, world["staff"])
    db.session.commit()
    assert run_job_on(j15) == 2  # Astaffort's secretary (with the CCAS) and Boé's
    assert run_job_on(j15) == 0
    actions = set(db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("campaign.%"))))
    assert actions == {"campaign.open", "campaign.close", "campaign.reopen"}


GROUPEMENT = Definition(
    code="groupement-test",
    label="Groupement de commandes (essai)",
    title="Groupement de commandes de fournitures {year}",
    description="Transmettez la délibération du conseil qui approuve l'adhésion au groupement.",
    steps=(Step("deliberation", "Délibération d'adhésion", StepKind.DOCUMENT),),
    scope_kinds=("commune",),
    one_per_year=False,
)


@pytest.fixture
def groupement():
    definitions.register(GROUPEMENT)
    yield GROUPEMENT
    definitions.unregister(GROUPEMENT.code)


def test_a_second_kind_needs_only_its_definition(world, groupement):
    """A groupement de commandes whose single step is a deliberation to upload: open → tasks → completion →
    progress, with the engine's own templates."""
    campaign = services.open_campaign(
        services.OpenInput("groupement-test", YEAR, DEADLINE, "Avant le conseil de mars."), world["staff"]
    )
    db.session.commit()
    assert campaign.reference_date == date(YEAR, 1, 1)
    assert {
        t.collectivite_id
        for t in db.session.scalars(select(CampaignTask).where(CampaignTask.campaign_id == campaign.id))
    } == {
        world["a"].id,
        world["b"].id,
        world["c"].id,
    }
    [opening] = [e for e in emails_to("mairie@astaffort.fr") if e.context["title"] == campaign.title]
    assert opening.context["bodies"] == ["Astaffort"]  # not the CCAS: this kind does not take attached bodies
    task_a = task_of(campaign, world["a"])
    with pytest.raises(DomainError, match="Seuls les fichiers PDF"):
        services.add_document(task_a, "deliberation", "deliberation.docx", io.BytesIO(b"PK\x03\x04"), world["sec_a"])
    services.add_document(task_a, "deliberation", "délibération.pdf", io.BytesIO(b"%PDF-1.7 test"), world["sec_a"])
    db.session.commit()
    assert services.is_answered(task_a)
    assert services.document_path(services.answers(task_a)["deliberation"]).read_bytes() == b"%PDF-1.7 test"
    progress, missing = services.progress(campaign)
    assert (progress.overall.answered, progress.overall.total) == (1, 3)
    assert [m.name for m in missing] == ["Boé", "Cuq"]
    # A headcount declaration does not answer this kind.
    factories.declare(world["b"], YEAR, 12)
    db.session.commit()
    assert services.progress(campaign)[0].overall.answered == 1


def test_the_reminder_job_is_on_beat_daily_in_paris_time(app):
    from celery.schedules import crontab

    from workers.schedule import build_schedule

    [entry] = [e for e in build_schedule(app.config).values() if e["task"] == tasks.REMINDER_TASK]
    assert entry["schedule"] == crontab(hour=8, minute=0)
    assert tasks.REMINDER_TASK in app.extensions["celery"].tasks
    assert app.extensions["celery"].conf.timezone == "Europe/Paris"


def test_the_emails_read_in_french(world):
    from portal.notifications.mailer import build_message

    campaign = open_headcount(world)
    [opening] = emails_to("mairie@astaffort.fr")
    message = build_message(opening)
    subject = str(message["Subject"])
    text = message.get_payload()[0].get_payload(decode=True).decode()
    from email.header import decode_header, make_header

    subject = str(make_header(decode_header(subject)))
    assert subject == f"Effectifs au 1er janvier {YEAR} : réponse attendue avant le 31 mars {YEAR}"
    assert f"Le centre de gestion ouvre la campagne « Effectifs au 1er janvier {YEAR} »." in text
    assert "- Astaffort\n- CCAS d'Astaffort" in text
    assert "Merci de votre aide." in text
    assert f"/campagnes/{campaign.id}/taches/" not in text  # two bodies: the link leads to her dashboard
    run_job_on(campaign.opened_on + timedelta(days=15))
    reminder = emails_to("mairie@boe.fr")[-1]
    reminder_subject = str(make_header(decode_header(str(build_message(reminder)["Subject"]))))
    assert reminder_subject.startswith(f"Rappel — Effectifs au 1er janvier {YEAR}")
    body = build_message(reminder).get_payload()[0].get_payload(decode=True).decode()
    assert f"/campagnes/{campaign.id}/taches/{task_of(campaign, world['b']).id}" in body
