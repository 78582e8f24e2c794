"""Documents of an enrolment: the convention d'adhésion (PDF), and for the ENT the schools annex of the
DASEN convention (PDF) and the export of schools and classes for the ENT provider (CSV)."""

from __future__ import annotations

from sqlalchemy import select

from portal.accounts.models import Mandate, MandateFunction, Person
from portal.catalogue import rules as catalogue_rules
from portal.catalogue.rules import TARIFF_LABELS
from portal.common import cdg, exports, titles
from portal.common.clock import paris_today
from portal.common.pdf import render_pdf
from portal.extensions import db
from portal.subscriptions.models import Subscription

# Bodies presided by the maire of their commune (CASF L123-6, code de l'éducation L212-10).
MAIRE_PRESIDES = frozenset({"ccas", "caisse_ecoles"})


def _executive(body) -> titles.Signatory:
    """Who signs for ``body``: its maire for a commune; for a CCAS or a caisse des écoles, the maire of its
    commune, who presides it by law; the président, unnamed, for other bodies (the register holds no name)."""
    commune_id = body.id if body.kind == "commune" else body.parent_id if body.kind in MAIRE_PRESIDES else None
    maire = None
    if commune_id is not None:
        maire = db.session.scalar(
            select(Person)
            .join(Mandate, Mandate.person_id == Person.id)
            .where(
                Mandate.collectivite_id == commune_id,
                Mandate.function == MandateFunction.MAIRE,
                Mandate.end_date.is_(None),
            )
        )
    return titles.signatory(body.kind, name=maire.full_name if maire else None, sex=maire.sex if maire else None)


def _context(subscription: Subscription) -> dict:
    service = subscription.service
    year = (subscription.start_date or paris_today()).year
    tariff = service.tariff_for(year)
    quantities = (subscription.details or {}).get("quantities") or {}
    yearly = catalogue_rules.yearly_amount(service.tariff_model, tariff.unit_amount, quantities) if tariff else None
    return {
        "subscription": subscription,
        "service": service,
        "body": subscription.collectivite,
        "executive": _executive(subscription.collectivite),
        "year": year,
        "tariff": tariff,
        "yearly_amount": yearly,
        "tariff_label": TARIFF_LABELS.get(service.tariff_model, service.tariff_model),
        "today": paris_today(),
        "cdg_name": cdg.name(),
    }


def convention_pdf(subscription: Subscription) -> tuple[str, str, bytes]:
    data = render_pdf("subscriptions/pdf/convention.html", **_context(subscription))
    return f"convention-adhesion-{subscription.id}.pdf", "application/pdf", data


def ent_annex_pdf(subscription: Subscription) -> tuple[str, str, bytes]:
    data = render_pdf("subscriptions/pdf/ent_annex.html", **_context(subscription))
    return f"annexe-ecoles-ent-{subscription.id}.pdf", "application/pdf", data


ENT_EXPORT_HEADER = (
    "code_uai",
    "nom_ecole",
    "commune",
    "code_insee",
    "nombre_classes",
    "nombre_eleves",
    "directeur",
    "date_adhesion",
)


def ent_export_csv(subscription: Subscription) -> tuple[str, str, bytes]:
    """One line per school, semicolon-separated UTF-8 with BOM: opens as is in a French spreadsheet. Written by
    the shared exporter (formula-like text neutralised); the date stays ISO, for the ENT provider."""
    body = subscription.collectivite
    rows = (
        (
            school.uai,
            school.name,
            body.name,
            body.insee_code or "",
            school.classes,
            school.pupils,
            school.director or "",
            school.joined_on.isoformat() if school.joined_on else "",
        )
        for school in subscription.schools
    )
    data = b"".join(exports.csv_chunks(ENT_EXPORT_HEADER, rows))
    return f"ent-ecoles-{subscription.id}.csv", "text/csv; charset=utf-8", data


def documents_for(subscription: Subscription) -> list[tuple[str, str, str, bytes]]:
    """(kind, filename, content type, data) of every document the enrolment produces."""
    documents = [("convention", *convention_pdf(subscription))]
    if subscription.schools:
        documents.append(("ent_annex", *ent_annex_pdf(subscription)))
        documents.append(("ent_export", *ent_export_csv(subscription)))
    return documents
