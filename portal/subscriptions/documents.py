"""Documents of an enrolment: the convention d'adhésion (PDF), and for the ENT the schools annex of the
DASEN convention (PDF) and the export of schools and classes for the ENT provider (CSV)."""

from __future__ import annotations

from portal.catalogue.rules import TARIFF_LABELS
from portal.common import cdg, exports
from portal.common.clock import paris_today
from portal.common.pdf import render_pdf
from portal.subscriptions.models import Subscription


def _context(subscription: Subscription) -> dict:
    service = subscription.service
    year = (subscription.start_date or paris_today()).year
    tariff = service.tariff_for(year)
    return {
        "subscription": subscription,
        "service": service,
        "body": subscription.collectivite,
        "tariff": tariff,
        "tariff_label": TARIFF_LABELS.get(service.tariff_model, service.tariff_model),
        "quantities": (subscription.details or {}).get("quantities", {}),
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
