"""Every form of the portal is bounded (issue 12, items 1 and 2): it derives from the portal's base forms (control
characters removed, dates within the portal's range), its text fields have a length no longer than their column,
its numbers are read by the portal's fields (digits 0-9, what fits the column)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from types import SimpleNamespace

import pytest
from wtforms import DecimalField, Form, PasswordField, StringField
from wtforms import IntegerField as WTFormsIntegerField
from wtforms.fields.core import UnboundField
from wtforms.validators import Length

import portal
from portal.accounts.models import User
from portal.affiliation.models import AffiliationDecision, AffiliationStatusChange
from portal.api.models import ApiToken
from portal.catalogue.models import ContributionRate, PayrollDeclaration, Service, Tariff
from portal.common.forms import FrenchDecimalField, IntegerField, PortalForm, PortalSubForm
from portal.conventions.models import Axis, AxisAction, Convention, ConventionParty, Meeting, Partner, Signatory
from portal.registry.models import HeadcountDeclaration
from portal.subscriptions.forms import request_form_class
from portal.subscriptions.models import School
from portal.subscriptions.services import QUANTITY_LABELS
from portal.training.models import Registration, Training, TrainingBody, TrainingBudget, TrainingSession


def portal_forms() -> list[type[Form]]:
    """Every form class defined in the portal's modules, and the subscription request form with every field."""
    found = {}
    for module_info in pkgutil.walk_packages(portal.__path__, "portal."):
        if module_info.name.startswith("portal.demo") or module_info.name.endswith(("cli", "tasks")):
            continue
        module = importlib.import_module(module_info.name)
        for _name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, Form) and value.__module__ == module_info.name:
                found[f"{value.__module__}.{value.__qualname__}"] = value
    service = SimpleNamespace(request_fields=[*QUANTITY_LABELS, "ent_schools", "message"])
    found["portal.subscriptions.forms.RequestForm"] = request_form_class(service)
    return list(found.values())


def fields_of(form_class) -> dict[str, UnboundField]:
    return {
        name: value
        for klass in reversed(form_class.__mro__)
        for name, value in vars(klass).items()
        if isinstance(value, UnboundField)
    }


def max_length(unbound: UnboundField) -> int | None:
    lengths = [v.max for v in unbound.kwargs.get("validators", ()) if isinstance(v, Length) and v.max >= 0]
    return min(lengths) if lengths else None


FORMS = portal_forms()


def test_the_forms_are_found():
    names = {f.__name__ for f in FORMS}
    assert {"HeadcountForm", "RateForm", "ConventionForm", "SessionForm", "SchoolForm", "LoginForm"} <= names
    assert len(FORMS) >= 35


@pytest.mark.parametrize("form_class", FORMS, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_every_form_derives_from_the_portal_base(form_class):
    assert issubclass(form_class, (PortalForm, PortalSubForm))


@pytest.mark.parametrize("form_class", FORMS, ids=lambda f: f"{f.__module__}.{f.__name__}")
def test_every_text_field_has_a_length_and_every_number_field_is_the_portal_s(form_class):
    for name, unbound in fields_of(form_class).items():
        field_class = unbound.field_class
        if issubclass(field_class, StringField) and not issubclass(field_class, PasswordField):
            assert max_length(unbound) is not None, f"{form_class.__name__}.{name} has no maximum length"
        if issubclass(field_class, WTFormsIntegerField):
            assert issubclass(field_class, IntegerField), f"{form_class.__name__}.{name}: use portal's IntegerField"
        if issubclass(field_class, DecimalField):
            assert issubclass(field_class, FrenchDecimalField), f"{form_class.__name__}.{name}: FrenchDecimalField"


def column(model, name: str):
    return model.__table__.c[name].type


# (form, field) -> the String(n) column it is stored in.
TEXT_COLUMNS = {
    ("LoginForm", "email"): (User, "email"),
    ("ForgotPasswordForm", "email"): (User, "email"),
    ("ServiceAccountForm", "email"): (User, "email"),
    ("ServiceAccountForm", "full_name"): (User, "full_name"),
    ("TokenForm", "name"): (ApiToken, "name"),
    ("DecisionForm", "deliberation_ref"): (AffiliationDecision, "deliberation_ref"),
    ("VoluntaryForm", "deliberation_ref"): (AffiliationStatusChange, "deliberation_ref"),
    ("ServiceForm", "code"): (Service, "code"),
    ("ServiceForm", "name"): (Service, "name"),
    ("TariffForm", "deliberation_ref"): (Tariff, "deliberation_ref"),
    ("RateForm", "deliberation_ref"): (ContributionRate, "deliberation_ref"),
    ("PartyForm", "representative"): (ConventionParty, "representative"),
    ("PartyForm", "deliberation_ref"): (ConventionParty, "deliberation_ref"),
    ("SignatoryForm", "name"): (Signatory, "name"),
    ("SignatoryForm", "role"): (Signatory, "role"),
    ("AxisForm", "title"): (Axis, "title"),
    ("NewAxisForm", "title"): (Axis, "title"),
    ("ConventionTermsForm", "title"): (Convention, "title"),
    ("PartnerForm", "name"): (Partner, "name"),
    ("PartnerForm", "representative_name"): (Partner, "representative_name"),
    ("PartnerForm", "representative_role"): (Partner, "representative_role"),
    ("ActionForm", "title"): (AxisAction, "title"),
    ("ActionForm", "owner"): (AxisAction, "owner"),
    ("MeetingForm", "title"): (Meeting, "title"),
    ("HeadcountForm", "comment"): (HeadcountDeclaration, "comment"),
    ("SchoolForm", "uai"): (School, "uai"),
    ("SchoolForm", "school_name"): (School, "name"),
    ("SchoolForm", "director"): (School, "director"),
    ("BodyForm", "name"): (TrainingBody, "name"),
    ("BodyForm", "agrement_number"): (TrainingBody, "agrement_number"),
    ("BodyForm", "contact_email"): (TrainingBody, "contact_email"),
    ("TrainingForm", "title"): (Training, "title"),
    ("SessionForm", "place"): (TrainingSession, "place"),
    ("SessionForm", "remote_url"): (TrainingSession, "remote_url"),
    ("BudgetForm", "deliberation_ref"): (TrainingBudget, "deliberation_ref"),
}

# (form, field) -> the Numeric(precision, scale) column it is stored in.
NUMBER_COLUMNS = {
    ("RateForm", "rate_percent"): (ContributionRate, "rate_percent"),
    ("PayrollForm", "amount"): (PayrollDeclaration, "amount"),
    ("TariffForm", "unit_amount"): (Tariff, "unit_amount"),
    ("TrainingForm", "duration_hours"): (Training, "duration_hours"),
    ("TrainingForm", "cost_per_participant"): (Training, "cost_per_participant"),
    ("RegistrationForm", "dife_amount"): (Registration, "dife_amount"),
    ("RegistrationForm", "travel_cost"): (Registration, "travel_cost"),
    ("RegistrationForm", "leave_days"): (Registration, "leave_days"),
    ("BudgetForm", "amount"): (TrainingBudget, "amount"),
    ("BudgetForm", "max_indemnities"): (TrainingBudget, "max_indemnities"),
}


def form_field(form_name: str, field_name: str) -> list[UnboundField]:
    matches = [fields_of(f)[field_name] for f in FORMS if f.__name__ == form_name and field_name in fields_of(f)]
    assert matches, f"{form_name}.{field_name} not found"
    return matches


@pytest.mark.parametrize(("form_field_name", "target"), TEXT_COLUMNS.items(), ids=lambda v: ".".join(map(str, v)))
def test_a_text_field_is_no_longer_than_its_column(form_field_name, target):
    model, name = target
    for unbound in form_field(*form_field_name):
        assert max_length(unbound) <= column(model, name).length


@pytest.mark.parametrize(("form_field_name", "target"), NUMBER_COLUMNS.items(), ids=lambda v: ".".join(map(str, v)))
def test_a_number_field_takes_what_its_column_holds(form_field_name, target):
    model, name = target
    numeric = column(model, name)
    for unbound in form_field(*form_field_name):
        assert issubclass(unbound.field_class, FrenchDecimalField)
        assert unbound.kwargs["places"] == numeric.scale
        assert unbound.kwargs["max_digits"] == numeric.precision
