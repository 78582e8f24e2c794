"""The yearly headcount campaign: each body declares its agents on 1 January of the year.

The campaign observes the declarations of ``portal.registry`` and records new ones through the affiliation
service (``record_declarations``): a declaration made anywhere on the portal (the collectivité's page, this
campaign's form, the API) answers the task, and one that crosses 350 opens the affiliation decision as always
(``../shared/domain.md`` §1). A commune's secretary declares its CCAS and caisse des écoles in the same form:
their agents are counted with the commune's (réponse ministérielle n° 09035).
"""

from __future__ import annotations

from sqlalchemy import exists, select
from wtforms import SubmitField

from portal.affiliation import services as affiliation
from portal.campaigns.definitions import Definition, Step, StepKind, register
from portal.campaigns.models import Campaign, CampaignTask
from portal.common.forms import PortalForm, PortalSubForm
from portal.common.i18n import lazy_gettext as _l
from portal.registry.forms import _count_field
from portal.registry.kinds import Kind
from portal.registry.models import Collectivite, HeadcountDeclaration

COUNT_FIELDS = ("titulaires_temps_complet", "titulaires_temps_non_complet", "contractuels")


def declared_for_campaign_year():
    """A declaration of the task's body for the campaign's year exists (made before the opening or after)."""
    return (
        exists()
        .where(
            Campaign.id == CampaignTask.campaign_id,
            HeadcountDeclaration.collectivite_id == CampaignTask.collectivite_id,
            HeadcountDeclaration.year == Campaign.year,
        )
        # Only the task comes from the enclosing query: the campaign is the task's own, whatever that query joins.
        .correlate_except(Campaign, HeadcountDeclaration)
    )


class BodyCountsForm(PortalSubForm):
    """The three figures of one body (one fieldset of the campaign's form)."""

    titulaires_temps_complet = _count_field(
        _l("Fonctionnaires titulaires et stagiaires à temps complet"),
        _l("En position d'activité au 1er janvier. Seul ce nombre compte pour le seuil de 350 agents."),
    )
    titulaires_temps_non_complet = _count_field(_l("Fonctionnaires titulaires et stagiaires à temps non complet"))
    contractuels = _count_field(_l("Agents contractuels"))


class HeadcountCampaignForm(PortalForm):
    submit = SubmitField(_l("Enregistrer la déclaration"))


class HeadcountHandler:
    """Builds the form of a task (its body and, for a commune, its CCAS and caisse des écoles) and saves it."""

    def bodies(self, task: CampaignTask) -> list[Collectivite]:
        body = task.collectivite
        if body.kind != Kind.COMMUNE:
            return [body]
        return [body, *affiliation.attached_bodies(body)]

    def build(self, task: CampaignTask, formdata=None):
        """The outer form (CSRF, submit) and one sub-form per body, pre-filled with the year's declaration."""
        form = HeadcountCampaignForm(formdata=formdata)
        rows = []
        for body in self.bodies(task):
            current = _declaration_of_year(body.id, task.campaign.year)
            previous = affiliation.declaration_in_force(body.id, task.campaign.year - 1)
            data = {name: getattr(current, name) for name in COUNT_FIELDS} if current else None
            sub = BodyCountsForm(formdata=formdata, prefix=f"c{body.id}", data=data)
            rows.append({"body": body, "form": sub, "current": current, "previous": previous})
        return form, rows

    def validate(self, form, rows) -> bool:
        results = [form.validate()] + [row["form"].validate() for row in rows]
        return all(results)

    def save(self, task: CampaignTask, rows, actor) -> int:
        """Record a declaration for each body whose figures differ from its declaration of the year (the same
        figures sent again add nothing); returns how many were recorded."""
        entries = []
        for row in rows:
            counts = {name: row["form"][name].data for name in COUNT_FIELDS}
            current = row["current"]
            if current is not None and all(getattr(current, n) == counts[n] for n in COUNT_FIELDS):
                continue
            entries.append((row["body"], counts))
        if entries:
            affiliation.record_declarations(entries, task.campaign.year, actor)
        return len(entries)


def _declaration_of_year(collectivite_id: int, year: int) -> HeadcountDeclaration | None:
    from portal.extensions import db

    return db.session.scalar(
        select(HeadcountDeclaration)
        .where(HeadcountDeclaration.collectivite_id == collectivite_id, HeadcountDeclaration.year == year)
        .order_by(HeadcountDeclaration.declared_at.desc(), HeadcountDeclaration.id.desc())
        .limit(1)
    )


HEADCOUNT = register(
    Definition(
        code="effectifs",
        label=_l("Recensement des effectifs"),
        title=_l("Effectifs au 1er janvier {year}"),
        description=_l(
            "Déclarez les agents de la collectivité au 1er janvier : ils déterminent son affiliation au centre de "
            "gestion (seuil de 350 fonctionnaires titulaires et stagiaires à temps complet, comptés avec le CCAS "
            "et la caisse des écoles) et servent au calcul des cotisations."
        ),
        steps=(
            Step(
                "declaration",
                _l("Déclaration des effectifs"),
                StepKind.FORM,
                done=declared_for_campaign_year,
                template="campaigns/steps/headcount.html",
                handler=HeadcountHandler(),
            ),
        ),
        scope_kinds=(
            Kind.COMMUNE.value,
            Kind.CCAS.value,
            Kind.CAISSE_ECOLES.value,
            Kind.CC.value,
            Kind.CA.value,
            Kind.CU.value,
            Kind.METROPOLE.value,
            Kind.SYNDICAT.value,
            Kind.ETABLISSEMENT_PUBLIC.value,
        ),
        with_attached_bodies=True,
    )
)
