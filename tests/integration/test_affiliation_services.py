"""Affiliation services on the database: status history, crossings opening decisions, decisions, voluntary rules."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.affiliation import services
from portal.affiliation.models import AffiliationDecision
from portal.affiliation.rules import withdrawal_allowed_from
from portal.common.errors import DomainError
from portal.extensions import db
from portal.notifications.models import Notification
from tests import factories

Y = factories.THIS_YEAR


def open_decisions(body):
    return list(
        db.session.scalars(
            select(AffiliationDecision).where(
                AffiliationDecision.collectivite_id == body.id, AffiliationDecision.state == "open"
            )
        )
    )


def test_first_declaration_records_the_initial_status(app):
    commune = factories.collectivite("Sauvagnas")
    factories.declare(commune, Y - 1, 3, 2, 1)
    db.session.commit()
    assert commune.affiliation_status == "obligatoire"
    history = services.history(commune.id)
    assert len(history) == 1 and history[0].effective_date == date(Y - 1, 1, 1)
    assert "Statut initial" in history[0].explanation and "moins de 350" in history[0].explanation


def test_commune_ccas_and_caisse_share_one_headcount(app):
    commune = factories.collectivite("Villeneuve-sur-Lot")
    ccas = factories.collectivite("CCAS de Villeneuve", "ccas", parent=commune)
    caisse = factories.collectivite("Caisse des écoles de Villeneuve", "caisse_ecoles", parent=commune)
    factories.declare(commune, Y, 300)
    factories.declare(ccas, Y, 40)
    factories.declare(caisse, Y, 9)
    db.session.commit()
    for body in (commune, ccas, caisse):
        result = services.compute(body, Y).result
        assert result.counted == 349 and result.status == "obligatoire"
        assert "09035" in result.explanation


def test_crossing_opens_a_decision_and_never_changes_the_status(app):
    staff = factories.user("staff")
    commune = factories.collectivite("Marmande")
    secretary = factories.user("secretary", collectivites=[commune])
    factories.declare(commune, Y - 1, 349)
    db.session.commit()
    factories.declare(commune, Y, 350)
    db.session.commit()
    assert commune.affiliation_status == "obligatoire"  # unchanged until staff decide
    decisions = open_decisions(commune)
    assert len(decisions) == 1
    decision = decisions[0]
    assert (decision.status_before, decision.proposed_status) == ("obligatoire", "non_affiliee")
    assert (decision.previous_headcount, decision.counted_headcount) == (349, 350)
    notified = {
        n.user_id for n in db.session.scalars(select(Notification).where(Notification.category == "affiliation"))
    }
    assert notified == {staff.id, secretary.id}

    # A second declaration of the same year updates the open decision instead of opening another.
    factories.declare(commune, Y, 352)
    db.session.commit()
    assert len(open_decisions(commune)) == 1 and open_decisions(commune)[0].counted_headcount == 352


def test_corrected_declaration_closes_the_crossing(app):
    commune = factories.collectivite()
    factories.declare(commune, Y - 1, 340)
    factories.declare(commune, Y, 360)
    db.session.commit()
    assert len(open_decisions(commune)) == 1
    factories.declare(commune, Y, 345)
    db.session.commit()
    assert open_decisions(commune) == []
    closed = db.session.scalar(select(AffiliationDecision).where(AffiliationDecision.collectivite_id == commune.id))
    assert closed.state == "obsolete" and "corrigée" in closed.decision_note


def test_staff_decision_changes_the_status_from_its_effective_date(app):
    staff = factories.user("staff")
    commune = factories.collectivite()
    factories.declare(commune, Y - 1, 349)
    factories.declare(commune, Y, 351)
    db.session.commit()
    decision = open_decisions(commune)[0]
    with pytest.raises(DomainError, match="ne peut pas être obligatoire"):
        services.decide(
            decision,
            decided_status="obligatoire",
            effective_date=date.today(),
            deliberation_ref="D-1",
            note=None,
            actor=staff,
        )
    with pytest.raises(DomainError, match="délibération"):
        services.decide(
            decision,
            decided_status="volontaire",
            effective_date=date.today(),
            deliberation_ref="  ",
            note=None,
            actor=staff,
        )
    future = date.today() + timedelta(days=30)
    services.decide(
        decision,
        decided_status="volontaire",
        effective_date=future,
        deliberation_ref="Délibération n° 2026-12",
        note="Maintien volontaire",
        actor=staff,
    )
    db.session.commit()
    assert commune.affiliation_status == "obligatoire"  # not yet in effect
    assert services.apply_due_changes(future - timedelta(days=1)) == 0
    assert services.apply_due_changes(future) == 1
    assert commune.affiliation_status == "volontaire"
    assert services.apply_due_changes(future) == 0  # idempotent
    assert services.history(commune.id)[0].deliberation_ref == "Délibération n° 2026-12"
    with pytest.raises(DomainError, match="déjà été enregistrée"):
        services.decide(
            decision, decided_status="volontaire", effective_date=future, deliberation_ref="x", note=None, actor=staff
        )


def test_a_sdis_under_350_is_not_affiliated_by_law_and_staff_cannot_make_it_compulsory(app):
    staff = factories.user("staff")
    sdis = factories.collectivite("SDIS de Lot-et-Garonne", "ep_departemental", population=None)
    factories.declare(sdis, Y - 1, 279)
    db.session.commit()
    assert sdis.affiliation_status == "non_affiliee" and open_decisions(sdis) == []
    result = services.compute(sdis, Y - 1).result
    assert result.counted == 279 and "jamais affilié d'office" in result.explanation
    # Its voluntary affiliation is possible below 350, unlike a commune's.
    decision = services.record_voluntary_decision(
        sdis,
        services.VoluntaryRequest(
            kind="voluntary_affiliation",
            effective_date=date.today(),
            deliberation_ref="Délib. SDIS 2026-3",
            opposing_bodies=0,
            opposing_fonctionnaires=0,
        ),
        staff,
    )
    db.session.commit()
    assert decision.state == "decided" and sdis.affiliation_status == "volontaire"
    # A decision can never make it compulsory.
    crossing = AffiliationDecision(
        collectivite_id=sdis.id, year=Y, kind="threshold_crossing", status_before="volontaire", reason="Test"
    )
    db.session.add(crossing)
    db.session.flush()
    with pytest.raises(DomainError, match="ne peut pas être obligatoire"):
        services.decide(
            crossing,
            decided_status="obligatoire",
            effective_date=date.today(),
            deliberation_ref="D-2",
            note=None,
            actor=staff,
        )
    db.session.rollback()


def test_bad_declarations_are_refused_with_french_messages_and_nothing_saved(app):
    commune = factories.collectivite()
    for counts, message in [
        ({"titulaires_temps_complet": -1}, "négatif"),
        ({"titulaires_temps_complet": 2_000_000}, "plausible"),
        ({"titulaires_temps_complet": "12"}, "nombre entier"),
    ]:
        full = {"titulaires_temps_non_complet": 0, "contractuels": 0, **counts}
        with pytest.raises(DomainError, match=message):
            services.record_declaration(commune, Y, full, None)
    with pytest.raises(DomainError, match="année"):
        services.record_declaration(
            commune, 1990, {"titulaires_temps_complet": 1, "titulaires_temps_non_complet": 0, "contractuels": 0}, None
        )
    db.session.rollback()
    assert services.declaration_in_force(commune.id, Y) is None


def test_declaration_in_force_is_the_latest_of_the_year_or_before(app):
    commune = factories.collectivite()
    factories.declare(commune, Y - 2, 10)
    factories.declare(commune, Y - 1, 12)
    factories.declare(commune, Y - 1, 13)
    db.session.commit()
    assert services.declaration_in_force(commune.id, Y - 1).titulaires_temps_complet == 13
    assert services.declaration_in_force(commune.id, Y).titulaires_temps_complet == 13
    assert services.declaration_in_force(commune.id, Y - 2).titulaires_temps_complet == 10
    assert services.declaration_in_force(commune.id, Y - 3) is None


class TestVoluntary:
    def setup_bodies(self):
        staff = factories.user("staff")
        big = factories.collectivite("Agen")
        small = [factories.collectivite() for _ in range(3)]
        for body in small:
            factories.declare(body, Y, 100)
        factories.declare(big, Y, 400)
        db.session.commit()
        return staff, big

    def request(self, kind="voluntary_affiliation", opposing_bodies=0, opposing_agents=0, on=None):
        return services.VoluntaryRequest(
            kind=kind,
            effective_date=on or date.today(),
            deliberation_ref="Délib. 2026-7",
            opposing_bodies=opposing_bodies,
            opposing_fonctionnaires=opposing_agents,
        )

    def test_voluntary_affiliation_without_opposition(self, app):
        staff, big = self.setup_bodies()
        assert big.affiliation_status == "non_affiliee"
        assert services.affiliated_totals(Y) == (3, 300)
        services.record_voluntary_decision(big, self.request(), staff)
        db.session.commit()
        assert big.affiliation_status == "volontaire"

    def test_opposition_blocks_and_is_recorded(self, app):
        staff, big = self.setup_bodies()
        decision = services.record_voluntary_decision(big, self.request(opposing_bodies=2, opposing_agents=225), staff)
        db.session.commit()
        assert big.affiliation_status == "non_affiliee"
        assert decision.state == "decided" and "Opposition acquise" in decision.decision_note

    def test_opposition_cannot_exceed_the_totals(self, app):
        staff, big = self.setup_bodies()
        with pytest.raises(DomainError, match="ne peut dépasser"):
            services.record_voluntary_decision(big, self.request(opposing_bodies=4), staff)

    def test_withdrawal_only_after_six_years(self, app):
        staff = factories.user("staff")
        big = factories.collectivite("Agen")
        start = date.today() - timedelta(days=365 * 3)
        services.add_status_change(big, "volontaire", start, "Affiliation volontaire (test)")
        factories.declare(big, Y, 400)
        factories.declare(factories.collectivite(), Y, 100)
        db.session.commit()
        assert big.affiliation_status == "volontaire" and open_decisions(big) == []
        with pytest.raises(DomainError, match="six ans"):
            services.record_voluntary_decision(big, self.request("withdrawal"), staff)
        later = withdrawal_allowed_from(start)  # six years later (28 February for a 29 February)
        services.record_voluntary_decision(big, self.request("withdrawal", on=later), staff)
        db.session.commit()
        assert services.status_in_force(big.id, later) == "non_affiliee"

    def test_below_350_neither_voluntary_nor_withdrawal(self, app):
        staff = factories.user("staff")
        small = factories.collectivite()
        factories.declare(small, Y, 12)
        db.session.commit()
        with pytest.raises(DomainError, match="obligatoire"):
            services.record_voluntary_decision(small, self.request(), staff)


def test_the_page_facts_give_the_status_compute_gives(app):
    """body_facts (the collectivité's page, in three queries) and compute (one query per body and question) agree,
    for a commune whose headcount is shared, its CCAS, an EPCI, a voluntary affiliation and a later year's figure."""
    staff = factories.user("staff")
    epci = factories.collectivite("CC du Confluent", "cc", insee=None, siren="200000001")
    commune = factories.collectivite("Aiguillon", epci=epci)
    ccas = factories.collectivite("CCAS d'Aiguillon", "ccas", insee=None, parent=commune)
    caisse = factories.collectivite("Caisse des écoles d'Aiguillon", "caisse_ecoles", insee=None, parent=commune)
    big = factories.collectivite("Agen")
    for body, count in ((commune, 300), (ccas, 40), (caisse, 20), (epci, 60), (big, 400)):
        factories.declare(body, Y - 1, count)
    factories.declare(commune, Y, 320)
    factories.declare(commune, Y + 1, 10)  # next year's: not in force for this year
    for body in (factories.collectivite() for _ in range(3)):
        factories.declare(body, Y, 100)
    db.session.commit()
    services.record_voluntary_decision(big, TestVoluntary().request(), staff)
    db.session.commit()
    for body in (commune, ccas, caisse, epci, big):
        for year in (Y - 1, Y):
            facts = services.body_facts(body, year)
            expected = services.compute(body, year)
            assert facts.evaluation.result == expected.result, (body.name, year)
            # The page reads its declarations as rows: the same declaration, by id.
            assert getattr(facts.evaluation.declaration, "id", None) == getattr(expected.declaration, "id", None)
        assert [d.collectivite_id for d in facts.declarations] == [body.id] * len(facts.declarations)
    assert [c.name for c in services.body_facts(commune, Y).attached] == [
        "Caisse des écoles d'Aiguillon",
        "CCAS d'Aiguillon",
    ]
    assert services.body_facts(big, Y).evaluation.result.status == "volontaire"
