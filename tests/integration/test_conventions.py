"""Conventions on the database: creation with parties, signatories and axes; refusals that save nothing;
local contracts within their framework agreement; documents on disk; the alert job sent exactly once;
what a secretary sees; the demonstration data."""

import io
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.audit.models import AuditEvent
from portal.common.errors import DomainError
from portal.conventions import services, tasks
from portal.conventions.demo import load_conventions
from portal.conventions.models import Convention, ConventionAlert, ConventionDocument, ConventionParty, Partner
from portal.conventions.rules import Kind, State
from portal.extensions import db
from portal.notifications.models import Notification, OutboxEmail
from tests import factories

TODAY = date.today()


@pytest.fixture
def world(app, tmp_path, monkeypatch):
    monkeypatch.setattr(app, "instance_path", str(tmp_path))  # uploaded files go to a temporary folder
    staff = factories.user("staff", email="staff@cdg47.fr")
    other_staff = factories.user("staff", email="staff2@cdg47.fr")
    commune = factories.collectivite("Laroque-Timbaut", insee="47138")
    other = factories.collectivite("Pujols", insee="47215")
    cnfpt = services.create_partner(services.PartnerInput("CNFPT", "cnfpt", "François Deluga"), staff)
    amf = services.create_partner(services.PartnerInput("AMF", "amf"), staff)
    local = services.partner_for_collectivite(commune, staff)
    secretary = factories.user("secretary", email="sec@mairie.fr", collectivites=[commune])
    other_secretary = factories.user("secretary", email="sec@pujols.fr", collectivites=[other])
    db.session.commit()
    return {
        "staff": staff,
        "other_staff": other_staff,
        "cnfpt": cnfpt,
        "amf": amf,
        "local": local,
        "commune": commune,
        "secretary": secretary,
        "other_secretary": other_secretary,
    }


def data(world, **kw) -> services.ConventionInput:
    base = {
        "title": "Accord-cadre CNFPT – AMF",
        "kind": Kind.ACCORD_CADRE,
        "signed_on": date(2012, 5, 9),
        "start_date": date(2012, 5, 9),
        "parties": [services.PartyInput(world["amf"].id), services.PartyInput(world["cnfpt"].id)],
        "signatories": [
            services.SignatoryInput("Jacques Pélissard", partner_id=world["amf"].id),
            services.SignatoryInput("François Deluga", partner_id=world["cnfpt"].id),
        ],
        "axes": [services.AxisInput("Axe 1"), services.AxisInput("Axe 2")],
    }
    base.update(kw)
    return services.ConventionInput(**base)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_a_convention_with_parties_signatories_and_axes(world):
    convention = services.create_convention(data(world), world["staff"])
    db.session.commit()
    assert [p.partner.name for p in convention.parties] == ["AMF", "CNFPT"]
    assert convention.parties[1].representative == "François Deluga"  # the partner's representative by default
    assert [s.party.partner.name for s in convention.signatories] == ["AMF", "CNFPT"]
    assert [(a.position, a.title) for a in convention.axes] == [(1, "Axe 1"), (2, "Axe 2")]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "convention.create")) is not None


def test_duration_gives_the_end_date(world):
    convention = services.create_convention(
        data(world, start_date=date(2015, 6, 10), signed_on=date(2015, 6, 10), duration_months=36), world["staff"]
    )
    assert convention.end_date == date(2018, 6, 9)
    assert services.rows(convention, TODAY).state == State.EXPIRED


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"end_date": date(2012, 1, 1)}, "La date de fin ne peut pas précéder la date de début."),
        ({"parties": []}, "au moins deux parties"),
        ("one_party", "au moins deux parties"),
        ("same_party_twice", "figure deux fois"),
        ({"title": "  "}, "Indiquez l'intitulé"),
        ("foreign_signatory", "doit figurer parmi les parties"),
    ],
)
def test_bad_input_saves_nothing(world, changes, message):
    if changes == "one_party":
        changes = {"parties": [services.PartyInput(world["amf"].id)], "signatories": []}
    elif changes == "same_party_twice":
        changes = {"parties": [services.PartyInput(world["amf"].id), services.PartyInput(world["amf"].id)]}
    elif changes == "foreign_signatory":
        changes = {"signatories": [services.SignatoryInput("X", partner_id=world["local"].id)]}
    with pytest.raises(DomainError, match=message):
        services.create_convention(data(world, **changes), world["staff"])
    db.session.rollback()
    assert count(Convention) == 0 and count(ConventionParty) == 0


def test_a_child_may_not_outlast_its_parent(world):
    parent = services.create_convention(
        data(world, end_date=date(2022, 12, 31), start_date=date(2019, 11, 20)), world["staff"]
    )
    child_parties = [services.PartyInput(world["cnfpt"].id), services.PartyInput(world["local"].id)]
    with pytest.raises(DomainError, match="au-delà de la convention-cadre"):
        services.create_convention(
            data(
                world,
                title="Contrat local",
                kind=Kind.CONTRAT_TERRITORIALISE,
                parent_id=parent.id,
                start_date=date(2020, 1, 1),
                end_date=date(2023, 6, 30),
                parties=child_parties,
                signatories=[],
            ),
            world["staff"],
        )
    child = services.create_convention(
        data(
            world,
            title="Contrat local",
            kind=Kind.CONTRAT_TERRITORIALISE,
            parent_id=parent.id,
            start_date=date(2020, 1, 1),
            end_date=date(2022, 6, 30),
            parties=child_parties,
            signatories=[],
        ),
        world["staff"],
    )
    assert parent.children == [child]


def test_secretaries_see_the_conventions_of_their_collectivites(world):
    national = services.create_convention(data(world), world["staff"])
    local = services.create_convention(
        data(
            world,
            title="Local",
            parties=[services.PartyInput(world["cnfpt"].id), services.PartyInput(world["local"].id)],
            signatories=[],
        ),
        world["staff"],
    )
    db.session.commit()
    assert services.get_visible(world["secretary"], local.id) is local
    assert services.get_visible(world["secretary"], national.id) is None
    assert services.get_visible(world["other_secretary"], local.id) is None
    assert [r.convention.title for r in services.search(world["secretary"], services.Filters())] == ["Local"]
    assert len(services.search(world["staff"], services.Filters())) == 2


def test_search_filters(world):
    services.create_convention(
        data(world, end_date=TODAY + timedelta(days=20), start_date=date(2020, 1, 1)), world["staff"]
    )
    services.create_convention(data(world, title="Préfon", kind=Kind.PARTENARIAT), world["staff"])
    staff = world["staff"]
    assert [r.convention.title for r in services.search(staff, services.Filters(expiring_within=30))] == [
        "Accord-cadre CNFPT – AMF"
    ]
    assert services.search(staff, services.Filters(expiring_within=10)) == []
    assert [r.convention.title for r in services.search(staff, services.Filters(kind=Kind.PARTENARIAT))] == ["Préfon"]
    assert len(services.search(staff, services.Filters(q="prefon"))) == 1  # accent-free search
    assert len(services.search(staff, services.Filters(partner_id=world["amf"].id))) == 2
    assert [r.convention.title for r in services.search(staff, services.Filters(state=State.TO_RENEW))] == [
        "Accord-cadre CNFPT – AMF"
    ]


def test_alert_sent_exactly_once_per_deadline_even_if_the_job_runs_twice(world, app):
    app.config["CONVENTION_ALERT_DAYS"] = 60
    end = TODAY + timedelta(days=30)
    convention = services.create_convention(
        data(world, start_date=date(2020, 1, 1), end_date=end, tacit_renewal=True, notice_months=0), world["staff"]
    )
    services.create_convention(data(world, title="Lointaine", end_date=TODAY + timedelta(days=400)), world["staff"])
    db.session.commit()
    assert tasks.alerts.apply().get() == 2  # the end and the notice deadline (same day: notice 0 month)
    assert tasks.alerts.apply().get() == 0
    alerts = db.session.scalars(select(ConventionAlert).order_by(ConventionAlert.kind)).all()
    assert [(a.convention_id, a.kind, a.deadline) for a in alerts] == [
        (convention.id, "end", end),
        (convention.id, "notice", end),
    ]
    notifications = db.session.scalars(select(Notification).where(Notification.category == "conventions")).all()
    assert len(notifications) == 4  # two alerts × two CDG agents
    assert {n.link for n in notifications} == {f"/conventions/{convention.id}"}
    assert (
        db.session.scalar(select(func.count()).select_from(OutboxEmail).where(OutboxEmail.category == "conventions"))
        == 4
    )
    # The next term of the tacit renewal has a new deadline: one new alert when it comes.
    assert services.run_alerts(end + timedelta(days=1)) == 0
    db.session.rollback()


def test_alert_unique_constraint_guards_a_race(world):
    convention = services.create_convention(data(world, end_date=TODAY + timedelta(days=5)), world["staff"])
    db.session.add(ConventionAlert(convention_id=convention.id, kind="end", deadline=convention.end_date))
    db.session.commit()
    db.session.add(ConventionAlert(convention_id=convention.id, kind="end", deadline=convention.end_date))
    with pytest.raises(Exception, match="(?i)unique"):
        db.session.flush()
    db.session.rollback()


def test_documents_are_stored_under_the_instance_folder(world, app):
    convention = services.create_convention(data(world), world["staff"])
    document = services.add_document(
        convention, "../../convention signée.pdf", io.BytesIO(b"%PDF-1.7 test"), world["staff"]
    )
    db.session.commit()
    path = services.document_path(document)
    assert path.is_file() and path.read_bytes() == b"%PDF-1.7 test"
    assert Path(app.instance_path) / "conventions" / str(convention.id) == path.parent
    assert "static" not in path.parts and document.filename == "convention signée.pdf"
    path.unlink()


def test_refused_or_rolled_back_documents_leave_no_file(world, app):
    convention = services.create_convention(data(world), world["staff"])
    db.session.commit()
    app.config["CONVENTION_MAX_UPLOAD_MB"] = 1
    with pytest.raises(DomainError, match="taille maximale de 1 Mo"):
        services.add_document(convention, "gros.pdf", io.BytesIO(b"%PDF" + b"0" * 1024 * 1024), world["staff"])
    with pytest.raises(DomainError, match="Type de fichier refusé"):
        services.add_document(convention, "virus.exe", io.BytesIO(b"MZ"), world["staff"])
    with pytest.raises(DomainError, match="ne correspond pas"):
        services.add_document(convention, "faux.xlsx", io.BytesIO(b"%PDF-1.4"), world["staff"])
    document = services.add_document(convention, "a.odt", io.BytesIO(b"PK\x03\x04rest"), world["staff"])
    path = services.document_path(document)
    assert path.is_file()
    db.session.rollback()
    assert not path.exists() and count(ConventionDocument) == 0


def test_demo_conventions(world):
    conventions = load_conventions({"47138": world["commune"]}, world["staff"], log=lambda _m: None)
    db.session.commit()
    by_title = {c.title: c for c in conventions}
    amf = by_title["Accord-cadre CNFPT – AMF"]
    assert len(amf.axes) == 5 and {s.name for s in amf.signatories} == {"Jacques Pélissard", "François Deluga"}
    assert len(amf.children) == 1
    assert len(by_title["Accord-cadre CNFPT – FNCDG"].axes) == 7
    assert by_title["Convention-cadre État – CNFPT, économie sociale et solidaire"].end_date == date(2018, 6, 9)
    assert len(by_title["Convention CNFPT – Régions de France"].axes) == 5  # 4 axes of service offer + legal work
    states = {c.title: services.rows(c, TODAY).state for c in conventions}
    assert states["Convention ENT des écoles – DASEN, CDG 47 et communes"] == State.DRAFT
    assert states["Accord-cadre CNFPT – FNCDG"] == State.EXPIRED
    seen = {r.convention.title for r in services.search(world["secretary"], services.Filters())}
    assert seen == {amf.children[0].title, "Convention ENT des écoles – DASEN, CDG 47 et communes"}
    assert db.session.scalar(select(func.count()).select_from(Partner)) >= 10


# Corrections after creation -------------------------------------------------------------------------------


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_parties_and_signatories_are_replaced_and_the_change_is_audited(world):
    convention = services.create_convention(data(world), world["staff"])
    db.session.commit()
    amf, cnfpt, local = world["amf"], world["cnfpt"], world["local"]
    amf_row = convention.parties[0]
    parties = [
        services.PartyInput(amf.id, "Jacques Pélissard", "Délibération du bureau du 3 avril 2012"),
        services.PartyInput(local.id),
    ]
    signatories = [
        services.SignatoryInput("Jacques Pélissard", "Président", amf.id),
        services.SignatoryInput("Françoise Laroque", "Maire", local.id),
        services.SignatoryInput("François Deluga", partner_id=cnfpt.id),  # still attached to the removed party
    ]
    preview = services.preview_parties(convention, parties, signatories)
    assert preview.added == ["Laroque-Timbaut"] and preview.removed == ["CNFPT"] and preview.amended == ["AMF"]
    assert preview.dropped_signatories == ["François Deluga – CNFPT"]
    assert preview.hidden_from == []
    assert [p.partner.name for p in convention.parties] == ["AMF", "CNFPT"]  # a preview writes nothing

    with pytest.raises(DomainError, match="Indiquez le motif du retrait.") as refused:
        services.update_parties(convention, parties, signatories, world["staff"], reason="  ")
    assert refused.value.field == "reason"
    db.session.rollback()
    assert [p.partner.name for p in convention.parties] == ["AMF", "CNFPT"] and audit_events(
        "convention.parties_update"
    ) == []

    change = services.update_parties(convention, parties, signatories, world["staff"], reason="Le CNFPT se retire.")
    db.session.commit()
    db.session.expire_all()
    assert [p.partner.name for p in convention.parties] == ["AMF", "Laroque-Timbaut"]
    assert convention.parties[0].id == amf_row.id  # a kept party keeps its row
    assert convention.parties[0].deliberation_ref == "Délibération du bureau du 3 avril 2012"
    assert [(s.name, s.role, s.party.partner.name) for s in convention.signatories] == [
        ("Jacques Pélissard", "Président", "AMF"),
        ("Françoise Laroque", "Maire", "Laroque-Timbaut"),
    ]
    assert count(ConventionParty) == 2
    (event,) = audit_events("convention.parties_update")
    assert event.details == {
        "parties_added": ["Laroque-Timbaut"],
        "parties_removed": ["CNFPT"],
        "parties_amended": ["AMF"],
        "signatories_before": ["Jacques Pélissard – AMF", "François Deluga – CNFPT"],
        "signatories_after": ["Jacques Pélissard (Président) – AMF", "Françoise Laroque (Maire) – Laroque-Timbaut"],
        "reason": "Le CNFPT se retire.",
    }
    assert (
        "parties ajoutées : Laroque-Timbaut ; parties retirées : CNFPT ; motif : Le CNFPT se retire." in event.summary
    )
    assert change.changed
    # The secretary of the commune now sees the convention; removing the commune again says she will not.
    assert services.get_visible(world["secretary"], convention.id) is convention
    back = [services.PartyInput(amf.id), services.PartyInput(cnfpt.id)]
    assert services.preview_parties(convention, back, []).hidden_from == ["Laroque-Timbaut"]


def test_saving_the_same_parties_records_nothing(world):
    convention = services.create_convention(data(world), world["staff"])
    db.session.commit()
    same_parties = [services.PartyInput(p.partner_id, p.representative, p.deliberation_ref) for p in convention.parties]
    same_signatories = [services.SignatoryInput(s.name, s.role, s.party.partner_id) for s in convention.signatories]
    change = services.update_parties(convention, same_parties, same_signatories, world["staff"])
    assert not change.changed and audit_events("convention.parties_update") == []


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("one_party", "au moins deux parties"),
        ("same_party_twice", "figure deux fois"),
        ("foreign_signatory", "doit figurer parmi les parties"),
        ("nameless_signatory", "Signataire n° 1 : indiquez son nom."),
        ("unknown_partner", "n'existe pas"),
    ],
)
def test_bad_parties_change_nothing(world, case, message):
    convention = services.create_convention(data(world), world["staff"])
    db.session.commit()
    amf, cnfpt = world["amf"].id, world["cnfpt"].id
    parties = [services.PartyInput(amf), services.PartyInput(cnfpt)]
    signatories = []
    if case == "one_party":
        parties = [services.PartyInput(amf)]
    elif case == "same_party_twice":
        parties = [services.PartyInput(amf), services.PartyInput(amf)]
    elif case == "foreign_signatory":
        signatories = [services.SignatoryInput("Mme Laroque", partner_id=world["local"].id)]
    elif case == "nameless_signatory":
        signatories = [services.SignatoryInput(" ", "Maire", amf)]
    elif case == "unknown_partner":
        parties = [services.PartyInput(amf), services.PartyInput(987654)]
    with pytest.raises(DomainError, match=message):
        services.update_parties(convention, parties, signatories, world["staff"])
    db.session.rollback()
    assert [p.partner.name for p in convention.parties] == ["AMF", "CNFPT"]
    assert [s.name for s in convention.signatories] == ["Jacques Pélissard", "François Deluga"]
    assert audit_events("convention.parties_update") == []


def test_an_axis_is_corrected_and_one_without_actions_removed(world):
    convention = services.create_convention(
        data(world, axes=[services.AxisInput(f"Axe {n}") for n in (1, 2, 3)]), world["staff"]
    )
    first, second, third = convention.axes
    services.add_action(first, "Session 2025", None, None, "planned", world["staff"])
    db.session.commit()
    with pytest.raises(DomainError, match="Indiquez l'intitulé de l'axe."):
        services.update_axis(second, "  ", "", world["staff"])
    db.session.rollback()
    assert second.title == "Axe 2"
    services.update_axis(second, "Formation des secrétaires généraux de mairie", "Sessions départementales", None)
    db.session.commit()
    assert (second.title, second.description) == (
        "Formation des secrétaires généraux de mairie",
        "Sessions départementales",
    )
    (updated,) = audit_events("convention.axis_update")
    assert "avant : Axe 2 ; après : Formation des secrétaires généraux de mairie" in updated.summary

    with pytest.raises(DomainError, match="L'axe « Axe 1 » a 1 action de suivi : il ne peut pas être supprimé."):
        services.remove_axis(first, world["staff"])
    db.session.rollback()
    assert len(convention.axes) == 3 and audit_events("convention.axis_remove") == []

    services.remove_axis(second, world["staff"])
    db.session.commit()
    db.session.expire_all()
    assert [(a.position, a.title) for a in convention.axes] == [(1, "Axe 1"), (2, "Axe 3")]
    assert first.actions[0].title == "Session 2025"
    (removed,) = audit_events("convention.axis_remove")
    assert removed.details == {"position": 2, "title": "Formation des secrétaires généraux de mairie"}
    assert third.position == 2


def test_a_withdrawn_document_is_kept_on_disk_with_its_reason(world):
    convention = services.create_convention(data(world), world["staff"])
    document = services.add_document(convention, "mauvaise version.pdf", io.BytesIO(b"%PDF-1.7 v1"), world["staff"])
    db.session.commit()
    with pytest.raises(DomainError, match="Indiquez le motif du retrait."):
        services.withdraw_document(document, "   ", world["staff"])
    db.session.rollback()
    assert document.withdrawn_at is None and audit_events("convention.document_withdraw") == []

    services.withdraw_document(document, "Version non signée, remplacée", world["other_staff"])
    db.session.commit()
    assert document.withdrawn and document.withdrawn_by.email == "staff2@cdg47.fr"
    assert document.withdrawal_reason == "Version non signée, remplacée"
    assert convention.offered_documents == [] and convention.withdrawn_documents == [document]
    assert services.document_path(document).read_bytes() == b"%PDF-1.7 v1"  # evidence: the file stays
    (event,) = audit_events("convention.document_withdraw")
    assert event.details == {
        "document_id": document.id,
        "filename": "mauvaise version.pdf",
        "reason": "Version non signée, remplacée",
    }
    assert event.actor_email == "staff2@cdg47.fr"
    with pytest.raises(DomainError, match="déjà retiré"):
        services.withdraw_document(document, "Encore", world["staff"])
    db.session.rollback()
    services.document_path(document).unlink()
