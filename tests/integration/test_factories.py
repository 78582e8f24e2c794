"""The test factories make valid, distinct rows, flushed (they have ids) but never committed, through the services
where a rule applies."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.accounts.models import Mandate, Person, User
from portal.audit.models import AuditEvent
from portal.extensions import db
from portal.registry.models import Collectivite
from tests import factories
from tests.conftest import TEST_PASSWORD


def test_two_collectivites_get_distinct_names_and_insee_codes(app):
    first, second = factories.CollectiviteFactory(), factories.CollectiviteFactory()
    assert first.id and second.id and first.id != second.id
    assert first.name != second.name and first.insee_code != second.insee_code
    assert len(first.insee_code) == 5 and first.name_normalised == first.name.lower()
    assert factories.CollectiviteFactory(kind="epci").insee_code is None


def test_factories_flush_and_leave_the_commit_to_the_test(app):
    body = factories.collectivite("Sauvagnas")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Collectivite)) == 0
    assert body.name == "Sauvagnas"


def test_two_users_get_distinct_emails_and_can_log_in(app):
    first, second = factories.UserFactory(), factories.user("staff")
    assert first.email != second.email and first.email.startswith("staff")
    assert first.role == "staff" and first.collectivites == []
    assert accounts.verify_password(first, TEST_PASSWORD) and first.full_name != second.full_name
    # Made by the account service: the creation is in the audit trail.
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "user.create")) == 2


def test_the_role_traits_attach_a_new_commune(app):
    secretary = factories.UserFactory(secretary=True)
    assert secretary.role == "secretary" and secretary.email.startswith("secretary")
    assert len(secretary.collectivites) == 1 and secretary.collectivites[0].kind == "commune"
    elected = factories.UserFactory(elected=True)
    assert elected.role == "elu" and elected.mandate.function == "conseiller"
    assert elected.mandate.collectivite not in secretary.collectivites


def test_an_elu_gets_a_person_and_a_mandate_in_the_given_commune(app):
    agen = factories.collectivite("Agen")
    elu = factories.elu(agen, "Jeanne Dupont", delegation=True)
    assert elu.role == "elu" and elu.person.full_name == "Jeanne Dupont"
    assert elu.mandate.collectivite is agen and elu.mandate.function == "conseiller"
    assert elu.mandate.has_delegation and elu.mandate.delegation_subject == "Voirie"
    assert elu.mandate.start_date == date(2020, 5, 23)
    assert db.session.scalar(select(func.count()).select_from(Mandate).where(Mandate.collectivite_id == agen.id)) == 1
    other = factories.EluFactory(function="adjoint")
    assert other.email != elu.email and other.mandate.collectivite is not agen
    assert other.mandate.has_delegation  # an adjoint acts by delegation of the maire


def test_a_person_of_the_register_holds_one_current_mandate(app):
    commune = factories.collectivite()
    maire = factories.person(commune, "Paul", "Martin", function="maire", sex="M")
    assert db.session.get(Person, maire.id) is maire and maire.user is None
    (mandate,) = maire.mandates
    assert mandate.collectivite is commune and mandate.function == "maire" and mandate.has_delegation
    assert mandate.start_date == mandate.function_start_date == date(2026, 3, 22)
    assert factories.PersonFactory().source_key != factories.PersonFactory().source_key
    assert factories.PersonFactory(mandate=None).mandates == []


def test_a_session_comes_with_its_training_and_agreed_body(app):
    staff = factories.user("staff")
    session = factories.TrainingSessionFactory(capacity=3, training__title="Budget communal", actor=staff)
    assert session.id and session.capacity == 3 and session.published
    assert session.training.title == "Budget communal" and session.training.cost_per_participant == Decimal("150.00")
    assert session.training.body.agrement_until == date(2099, 12, 31)
    assert session.ends_at - session.starts_at == timedelta(hours=7)
    assert session.registration_deadline == session.starts_at - timedelta(days=2)
    again = factories.training_session()
    assert again.training.body.name != session.training.body.name


def test_a_declaration_goes_through_the_affiliation_service(app):
    commune = factories.collectivite(population=5000)
    declaration = factories.declare(commune, factories.THIS_YEAR, 12, tnc=3)
    assert declaration.collectivite_id == commune.id and declaration.year == factories.THIS_YEAR
    assert (declaration.titulaires_temps_complet, declaration.titulaires_temps_non_complet) == (12, 3)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_partners_conventions_requests_and_emails_are_distinct_rows(app):
    first, second = factories.PartnerFactory(), factories.PartnerFactory(kind="cdg")
    assert first.id and second.id and first.name != second.name and second.kind == "cdg"
    convention = factories.ConventionFactory()
    assert convention.id and convention.start_date < convention.end_date
    assert factories.AccessRequestFactory().email != factories.AccessRequestFactory().email
    failed, pending = factories.OutboxEmailFactory(failed=True), factories.OutboxEmailFactory()
    assert (failed.state, pending.state) == ("failed", "pending") and failed.message_id != pending.message_id
    unsaved = factories.OutboxEmailFactory.build()
    assert unsaved.id is None and unsaved not in db.session
