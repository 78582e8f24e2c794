"""One élu's training rights, for his file: a PDF and a CSV (French headers, ``;``, UTF-8 BOM) of what the élu's
page shows — leave days taken, booked and left out of the ceiling, the DIFE estimate, the trainings followed.

The figures are those of :func:`portal.training.rights.rights_for` (per élu, whatever his mandates: CGCT
L2123-13), written by the ground floor's PDF renderer and CSV exporter.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from portal.common import cdg
from portal.common.clock import PARIS
from portal.common.formatting import date_fr
from portal.common.i18n import gettext as _
from portal.common.labels import N_, translated
from portal.common.pdf import render_pdf
from portal.training.rights import Rights
from portal.training.rights_rules import FUNDING_LABELS, Funding
from portal.training.rules import Status

MON_COMPTE_ELU = "https://www.moncompteformation.gouv.fr/espace-public/mon-compte-elu"
# Registrations that belong in the élu's file: followed, missed or still to come (not cancelled ones, nor the
# waiting list).
LISTED = (Status.PRESENT, Status.ABSENT, Status.REGISTERED, Status.OFFERED)

HEADER = (N_("Rubrique"), N_("Valeur"))
TRAININGS_HEADER = (
    N_("Formation"),
    N_("Organisme"),
    N_("Agrément"),
    N_("Début"),
    N_("Fin"),
    N_("Heures"),
    N_("Statut"),
    N_("Financement"),
    N_("Coût pédagogique (€)"),
    N_("Frais (€)"),
    N_("Part DIFE (€)"),
    N_("Jours de congé"),
)


def listed(rights: Rights) -> list:
    """The registrations the file lists, oldest first."""
    return sorted((r for r in rights.registrations if r.status in LISTED), key=lambda r: (r.session.starts_at, r.id))


def filename(rights: Rights, today: date, extension: str) -> str:
    return f"droits-formation-elu-{rights.mandate.id}-{today:%Y-%m-%d}.{extension}"


def summary(rights: Rights, today: date) -> list[tuple[str, object]]:
    """(label, value) of the élu's rights, the same lines in the PDF and the CSV; numbers stay numbers."""
    mandate, person = rights.mandate, rights.mandate.person
    return [
        (_("Élu"), person.full_name),
        (
            _("Mandat"),
            _(
                "%(function)s, %(body)s, depuis le %(date)s",
                function=mandate.function_label,
                body=mandate.collectivite.name,
                date=date_fr(mandate.start_date),
            ),
        ),
        (_("Délégation"), mandate.delegation_subject or (_("Oui") if mandate.has_delegation else _("Non"))),
        (_("Situation au"), today),
        (_("Heures de formation suivies"), rights.hours_trained),
        (_("Formation de première année de mandat"), rights.first_year_label),
        (_("Congé de formation : jours par mandat"), rights.leave_days_ceiling),
        (_("Congé de formation : jours pris"), rights.leave_days_taken),
        (_("Congé de formation : jours réservés"), rights.leave_days_booked),
        (_("Congé de formation : jours restants"), rights.leave_days_left),
        (_("DIFE : crédité (€)"), rights.dife_acquired),
        (_("DIFE : mobilisé par le portail (€)"), rights.dife_used),
        (_("DIFE : solde estimé (€)"), rights.dife_estimate),
        (_("DIFE : solde exact"), _("Mon Compte Élu, %(url)s", url=MON_COMPTE_ELU)),
    ]


def csv_rows(rights: Rights, today: date) -> Iterator[tuple]:
    """The rows under :data:`HEADER`: the summary, an empty row, then the trainings with their own header."""
    yield from summary(rights, today)
    yield ()
    yield translated(TRAININGS_HEADER)
    for r in listed(rights):
        session, training = r.session, r.session.training
        yield (
            training.title,
            training.body.name,
            training.body.agrement_number,
            session.starts_at.astimezone(PARIS),
            session.ends_at.astimezone(PARIS),
            session.hours,
            r.status_label,
            FUNDING_LABELS.get(Funding(r.funding), r.funding),
            r.tuition_cost,
            r.travel_cost,
            r.dife_amount,
            r.leave_days,
        )


def pdf(rights: Rights, today: date) -> bytes:
    return render_pdf(
        "training/pdf/rights.html",
        rights=rights,
        mandate=rights.mandate,
        elu=rights.mandate.person,
        registrations=listed(rights),
        today=today,
        cdg_name=cdg.name(),
        mon_compte_elu=MON_COMPTE_ELU,
        paris=PARIS,
    )
