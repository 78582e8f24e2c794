"""Staff management of the catalogue: services and their yearly tariffs (each with its délibération)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from portal.audit import services as audit
from portal.catalogue.models import Service, Tariff
from portal.catalogue.rules import ELIGIBILITY_LABELS, GROUP_LABELS, TARIFF_LABELS, TariffModel
from portal.common.clock import paris_today
from portal.common.errors import DomainError
from portal.common.i18n import gettext as _
from portal.common.inputs import year_problem
from portal.common.labels import N_, Labels
from portal.extensions import db

REQUEST_FIELDS = Labels(
    {
        "agents": N_("Nombre d'agents concernés"),
        "pupils": N_("Nombre d'élèves"),
        "schools": N_("Nombre d'écoles"),
        "hours": N_("Nombre d'heures"),
        "days": N_("Nombre de jours"),
        "ent_schools": N_("Liste des écoles (ENT : code UAI, classes, élèves)"),
        "message": N_("Précisions libres"),
    }
)
CODE_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


@dataclass
class ServiceData:
    code: str
    name: str
    description: str
    group: str
    eligibility: str
    tariff_model: str
    requires_validation: bool
    notice_months: int
    request_fields: list[str]
    active: bool
    position: int = 100


def save_service(service: Service | None, data: ServiceData, actor) -> Service:
    code = data.code.strip().lower()
    if not CODE_RE.match(code):
        raise DomainError(
            _("Le code ne contient que des minuscules, chiffres et tirets (ex. : medecine-preventive)."), "code"
        )
    clash = db.session.scalar(select(Service).where(Service.code == code))
    if clash is not None and clash is not service:
        raise DomainError(
            _("Le code « %(code)s » est déjà utilisé par le service « %(name)s ».", code=code, name=clash.name), "code"
        )
    if not data.name.strip():
        raise DomainError(_("Indiquez le nom du service."), "name")
    if (
        data.group not in GROUP_LABELS
        or data.eligibility not in ELIGIBILITY_LABELS
        or data.tariff_model not in TARIFF_LABELS
    ):
        raise DomainError(_("Groupe, éligibilité ou modalité de tarification inconnus."))
    if (data.group == "obligatoire") != (data.tariff_model == TariffModel.INCLUDED):
        raise DomainError(
            _("Les missions obligatoires, et elles seules, sont comprises dans la cotisation."), "tariff_model"
        )
    if data.group == "socle" and data.eligibility != "socle":
        raise DomainError(
            _("Le socle commun est réservé aux collectivités non affiliées (éligibilité « socle »)."), "eligibility"
        )
    if not 0 <= data.notice_months <= 24:
        raise DomainError(_("Le préavis doit être compris entre 0 et 24 mois."), "notice_months")
    unknown = set(data.request_fields) - set(REQUEST_FIELDS)
    if unknown:
        raise DomainError(
            _("Informations demandées inconnues : %(fields)s.", fields=", ".join(sorted(unknown))), "request_fields"
        )
    creating = service is None
    if creating:
        service = Service()
        db.session.add(service)
    service.code, service.name, service.description = code, data.name.strip(), data.description.strip()
    service.group, service.eligibility, service.tariff_model = data.group, data.eligibility, data.tariff_model
    service.requires_validation, service.notice_months = data.requires_validation, data.notice_months
    service.request_fields, service.active, service.position = list(data.request_fields), data.active, data.position
    db.session.flush()
    audit.record(
        "catalogue.create" if creating else "catalogue.update",
        f"{'Création' if creating else 'Modification'} du service « {service.name} »",
        actor=actor,
        obj=service,
    )
    return service


def set_tariff(
    service: Service, year: int, amount: Decimal, deliberation_ref: str, deliberation_date: date, actor
) -> Tariff:
    if service.tariff_model == TariffModel.INCLUDED:
        raise DomainError(_("Ce service est compris dans la cotisation : il n'a pas de tarif propre."))
    problem = year_problem(year, latest=paris_today().year + 2)
    if problem:
        raise DomainError(problem, "year")
    if amount is None or amount < 0:
        raise DomainError(_("Le tarif doit être un montant positif ou nul."), "unit_amount")
    if service.tariff_model == TariffModel.PAYROLL_RATE and amount > 100:
        raise DomainError(_("Un taux de la masse salariale s'exprime en pourcentage (entre 0 et 100)."), "unit_amount")
    if not (deliberation_ref or "").strip():
        raise DomainError(_("La référence de la délibération est obligatoire."), "deliberation_ref")
    if deliberation_date > paris_today():
        raise DomainError(_("La délibération ne peut pas être datée dans le futur."), "deliberation_date")
    tariff = next((t for t in service.tariffs if t.year == year), None)
    if tariff is None:
        tariff = Tariff(year=year)
        service.tariffs.append(tariff)
    tariff.unit_amount, tariff.deliberation_ref, tariff.deliberation_date = (
        amount,
        deliberation_ref.strip(),
        deliberation_date,
    )
    db.session.flush()
    audit.record(
        "catalogue.tariff",
        f"Tarif {year} du service « {service.name} » : {amount} ({deliberation_ref.strip()})",
        actor=actor,
        obj=service,
        details={"year": year, "amount": str(amount)},
    )
    return tariff
