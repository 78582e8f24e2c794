"""The figures the CDG reports to its board (conseil d'administration): each a :class:`~portal.common.charts.Chart`
computed by a few grouped queries over the CDG's bodies (its départements), never by loading rows one by one.

Years run up to ``until`` (the report's year); the last :data:`YEARS_SHOWN` years are shown."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import distinct, func, or_, select

from portal.accounts.models import Mandate
from portal.affiliation.rules import STATUS_LABELS as AFFILIATION_LABELS
from portal.affiliation.rules import Status as Affiliation
from portal.campaigns import services as campaigns
from portal.campaigns.models import Campaign
from portal.campaigns.rules import State as CampaignState
from portal.catalogue.models import ContributionRate, Service
from portal.common import cdg
from portal.common.charts import Chart, Series
from portal.common.clock import paris_instant, to_paris
from portal.common.formatting import decimal_fr, money_fr, percent_fr
from portal.common.i18n import gettext as _
from portal.common.i18n import ngettext
from portal.common.labels import N_
from portal.extensions import db
from portal.registry import kinds
from portal.registry.models import Collectivite, HeadcountDeclaration
from portal.statements import services as statements
from portal.subscriptions.models import Subscription
from portal.subscriptions.rules import State as SubscriptionState
from portal.training.models import Registration, TrainingSession
from portal.training.rules import SEAT_HOLDING
from portal.training.rules import Status as RegistrationStatus

YEARS_SHOWN = 5
# The statuses of a body, in the order of the stacks; a body with no declaration yet is "to be determined".
AFFILIATION_ORDER = (Affiliation.OBLIGATOIRE, Affiliation.VOLONTAIRE, Affiliation.NON_AFFILIEE, Affiliation.INDETERMINE)
TRAINED_BANDS = (
    (0, 0, N_("Aucun élu formé")),
    (1, 1, N_("1 élu")),
    (2, 2, N_("2 élus")),
    (3, 5, N_("3 à 5 élus")),
    (6, None, N_("6 élus ou plus")),
)


def years_until(until: int) -> list[int]:
    return list(range(until - YEARS_SHOWN + 1, until + 1))


def _in_cdg(column=Collectivite.departement_code):
    departements = cdg.departements()
    return column.in_(departements) if departements else True


def affiliation_mix() -> Chart:
    """Bodies by kind and affiliation status, as the registry holds them today."""
    counts: dict[tuple[str, str], int] = {}
    for kind, status, count in db.session.execute(
        select(Collectivite.kind, Collectivite.affiliation_status, func.count())
        .where(_in_cdg())
        .group_by(Collectivite.kind, Collectivite.affiliation_status)
    ):
        key = (kind, status or Affiliation.INDETERMINE)
        counts[key] = counts.get(key, 0) + count
    present = [kind for kind in kinds.Kind if any(k == kind for k, _ in counts)]
    by_status = Counter()
    for (_kind, status), count in counts.items():
        by_status[status] += count
    total = sum(by_status.values())
    outside = by_status[Affiliation.NON_AFFILIEE]
    summary = ngettext(
        "Sur %(count)s collectivité ou établissement : %(mandatory)s en affiliation obligatoire, %(voluntary)s en "
        "affiliation volontaire, %(outside)s, %(undetermined)s sans déclaration d'effectifs.",
        "Sur %(count)s collectivités et établissements : %(mandatory)s en affiliation obligatoire, %(voluntary)s en "
        "affiliation volontaire, %(outside)s, %(undetermined)s sans déclaration d'effectifs.",
        total,
        count=decimal_fr(total),
        mandatory=decimal_fr(by_status[Affiliation.OBLIGATOIRE]),
        voluntary=decimal_fr(by_status[Affiliation.VOLONTAIRE]),
        outside=ngettext("%(count)s non affilié", "%(count)s non affiliés", outside, count=decimal_fr(outside)),
        undetermined=decimal_fr(by_status[Affiliation.INDETERMINE]),
    )
    return Chart(
        key="affiliation",
        title=_("Affiliation des collectivités et établissements, par catégorie"),
        summary=summary,
        categories=tuple(kinds.label(kind) for kind in present),
        series=tuple(
            Series(_affiliation_label(status), tuple(counts.get((kind, status), 0) for kind in present))
            for status in AFFILIATION_ORDER
        ),
        stacked=True,
        horizontal=True,
    )


def _affiliation_label(status: Affiliation) -> str:
    return _("Sans déclaration d'effectifs") if status == Affiliation.INDETERMINE else AFFILIATION_LABELS[status]


def headcounts(until: int) -> Chart:
    """Agents declared for each year (the latest declaration of each body for that year)."""
    years = years_until(until)
    latest = (
        select(
            HeadcountDeclaration.year,
            HeadcountDeclaration.titulaires_temps_complet,
            HeadcountDeclaration.titulaires_temps_non_complet,
            HeadcountDeclaration.contractuels,
            func.row_number()
            .over(
                partition_by=(HeadcountDeclaration.collectivite_id, HeadcountDeclaration.year),
                order_by=(HeadcountDeclaration.declared_at.desc(), HeadcountDeclaration.id.desc()),
            )
            .label("rank"),
        )
        .join(Collectivite, Collectivite.id == HeadcountDeclaration.collectivite_id)
        .where(HeadcountDeclaration.year.between(years[0], years[-1]), _in_cdg())
        .subquery()
    )
    totals = {
        year: (tc, tnc, contractuels, bodies)
        for year, tc, tnc, contractuels, bodies in db.session.execute(
            select(
                latest.c.year,
                func.sum(latest.c.titulaires_temps_complet),
                func.sum(latest.c.titulaires_temps_non_complet),
                func.sum(latest.c.contractuels),
                func.count(),
            )
            .where(latest.c.rank == 1)
            .group_by(latest.c.year)
        )
    }
    shown = [year for year in years if year in totals] or years
    last = totals.get(shown[-1])
    summary = _headcounts_summary(shown[-1], *last) if last else _("Aucune déclaration d'effectifs sur ces années.")
    labels = (_("Titulaires à temps complet"), _("Titulaires à temps non complet"), _("Contractuels"))
    return Chart(
        key="effectifs",
        title=_("Effectifs déclarés au 1er janvier, par année"),
        summary=summary,
        categories=tuple(str(year) for year in shown),
        series=tuple(
            Series(label, tuple(int(totals[year][index] or 0) if year in totals else 0 for year in shown))
            for index, label in enumerate(labels)
        ),
        stacked=True,
    )


def _headcounts_summary(year: int, full_time, part_time, contractuels, bodies: int) -> str:
    full_time, part_time, contractuels = int(full_time or 0), int(part_time or 0), int(contractuels or 0)
    return ngettext(
        "En %(year)s, %(count)s collectivité a déclaré %(full_time)s à temps complet, %(part_time)s à temps non "
        "complet et %(contractuels)s.",
        "En %(year)s, %(count)s collectivités ont déclaré %(full_time)s à temps complet, %(part_time)s à temps non "
        "complet et %(contractuels)s.",
        bodies,
        count=decimal_fr(bodies),
        year=year,
        full_time=ngettext(
            "%(count)s fonctionnaire titulaire",
            "%(count)s fonctionnaires titulaires",
            full_time,
            count=decimal_fr(full_time),
        ),
        part_time=decimal_fr(part_time),
        contractuels=ngettext(
            "%(count)s contractuel", "%(count)s contractuels", contractuels, count=decimal_fr(contractuels)
        ),
    )


def subscriptions(until: int) -> Chart:
    """Subscriptions running at some point of each of the last three years, per service."""
    years = years_until(until)[-3:]
    running_states = (SubscriptionState.ACTIVE, SubscriptionState.SUSPENDED, SubscriptionState.ENDED)
    counts: dict[tuple[str, int], int] = {}
    for year in years:
        first, last = date(year, 1, 1), date(year, 12, 31)
        for name, count in db.session.execute(
            select(Service.name, func.count(Subscription.id))
            .join(Subscription, Subscription.service_id == Service.id)
            .join(Collectivite, Collectivite.id == Subscription.collectivite_id)
            .where(
                Subscription.state.in_(running_states),
                Subscription.start_date <= last,
                or_(Subscription.end_date.is_(None), Subscription.end_date >= first),
                _in_cdg(),
            )
            .group_by(Service.name)
        ):
            counts[(name, year)] = count
    services = sorted({name for name, _ in counts}, key=lambda name: (-counts.get((name, years[-1]), 0), name))
    total_last = sum(count for (_, year), count in counts.items() if year == years[-1])
    running = ngettext(
        "%(count)s abonnement en cours", "%(count)s abonnements en cours", total_last, count=decimal_fr(total_last)
    )
    offered = ngettext("%(num)s service", "%(num)s services", len(services))
    summary = (
        _(
            "En %(year)s, %(running)s sur %(services)s ; le plus demandé : %(first)s.",
            year=years[-1],
            running=running,
            services=offered,
            first=services[0],
        )
        if services
        else _("En %(year)s, %(running)s sur %(services)s.", year=years[-1], running=running, services=offered)
    )
    return Chart(
        key="abonnements",
        title=_("Abonnements en cours, par service et par année"),
        summary=summary,
        categories=tuple(services),
        series=tuple(Series(str(year), tuple(counts.get((name, year), 0) for name in services)) for year in years),
        horizontal=True,
    )


def cotisations(until: int) -> Chart:
    """What the statements call each year: obligatory cotisation, socle commun and missions under convention.
    Computed by the statements themselves (the same figures as the bodies' statements), for the years whose
    rates the board voted."""
    voted = sorted(
        db.session.scalars(
            select(ContributionRate.year)
            .distinct()
            .where(ContributionRate.year.between(until - YEARS_SHOWN + 1, until))
        )
    )
    departements = set(cdg.departements())
    body_ids = list(db.session.scalars(select(Collectivite.id).where(_in_cdg()))) if departements else None
    totals: dict[int, dict[str, Decimal]] = {}
    for year in voted:
        by_kind: dict[str, Decimal] = defaultdict(Decimal)
        for body in statements.statements_for(year, body_ids):
            for kind in ("cotisation", "socle", "service"):
                by_kind[kind] += body.statement.total_of(kind)
        totals[year] = by_kind
    labels = {
        "cotisation": _("Cotisation obligatoire"),
        "socle": _("Socle commun"),
        "service": _("Missions facultatives"),
    }
    summary = (
        _(
            "En %(year)s, %(total)s appelés, dont %(cotisation)s de cotisation obligatoire.",
            year=voted[-1],
            total=money_fr(sum(totals[voted[-1]].values(), Decimal(0))),
            cotisation=money_fr(totals[voted[-1]]["cotisation"]),
        )
        if voted
        else _("Aucun taux de cotisation voté sur ces années.")
    )
    return Chart(
        key="cotisations",
        title=_("Montants appelés par année"),
        summary=summary,
        categories=tuple(str(year) for year in voted),
        series=tuple(Series(label, tuple(totals[year][kind] for year in voted)) for kind, label in labels.items()),
        stacked=True,
        money=True,
    )


@dataclass(frozen=True)
class TrainingYear:
    sessions: int
    seats: int
    taken: int
    present: int
    absent: int

    @property
    def attendance_percent(self) -> int | None:
        marked = self.present + self.absent
        return round(self.present * 100 / marked) if marked else None


def training_years(until: int) -> dict[int, TrainingYear]:
    years = years_until(until)
    first, last = paris_instant(date(years[0], 1, 1)), paris_instant(date(years[-1] + 1, 1, 1))
    held = (
        TrainingSession.cancelled_at.is_(None),
        TrainingSession.starts_at >= first,
        TrainingSession.starts_at < last,
    )
    sessions: dict[int, tuple[int, int]] = defaultdict(lambda: (0, 0))
    for starts_at, capacity in db.session.execute(
        select(TrainingSession.starts_at, TrainingSession.capacity).where(*held)
    ):
        count, seats = sessions[_paris_year(starts_at)]
        sessions[_paris_year(starts_at)] = (count + 1, seats + capacity)
    statuses: dict[int, Counter] = defaultdict(Counter)
    for starts_at, status, count in db.session.execute(
        select(TrainingSession.starts_at, Registration.status, func.count())
        .join(Registration, Registration.session_id == TrainingSession.id)
        .where(*held, Registration.status.in_(SEAT_HOLDING))
        .group_by(TrainingSession.id, TrainingSession.starts_at, Registration.status)
    ):
        statuses[_paris_year(starts_at)][status] += count
    return {
        year: TrainingYear(
            sessions=sessions[year][0],
            seats=sessions[year][1],
            taken=sum(statuses[year].values()),
            present=statuses[year][RegistrationStatus.PRESENT],
            absent=statuses[year][RegistrationStatus.ABSENT],
        )
        for year in years
    }


def _paris_year(moment) -> int:
    return to_paris(moment).year


def training(until: int) -> Chart:
    by_year = training_years(until)
    years = [year for year, figures in by_year.items() if figures.sessions] or list(by_year)
    last = by_year[years[-1]]
    rate = last.attendance_percent
    sessions = ngettext("%(count)s session", "%(count)s sessions", last.sessions, count=decimal_fr(last.sessions))
    taken = ngettext("%(count)s place occupée", "%(count)s places occupées", last.taken, count=decimal_fr(last.taken))
    summary = (
        _(
            "En %(year)s, %(sessions)s, %(taken)s sur %(seats)s, taux de présence %(rate)s.",
            year=years[-1],
            sessions=sessions,
            taken=taken,
            seats=decimal_fr(last.seats),
            rate=percent_fr(rate),
        )
        if rate is not None
        else _(
            "En %(year)s, %(sessions)s, %(taken)s sur %(seats)s.",
            year=years[-1],
            sessions=sessions,
            taken=taken,
            seats=decimal_fr(last.seats),
        )
    )
    series = (
        (_("Sessions"), "sessions"),
        (_("Places offertes"), "seats"),
        (_("Places occupées"), "taken"),
        (_("Présences"), "present"),
    )
    return Chart(
        key="formations",
        title=_("Formations des élus par année"),
        summary=summary,
        categories=tuple(str(year) for year in years),
        series=tuple(Series(label, tuple(getattr(by_year[year], name) for year in years)) for label, name in series),
    )


@dataclass(frozen=True)
class UntrainedCommune:
    id: int
    name: str
    epci: str | None
    population: int | None
    elus: int


def trained_elus_by_commune() -> dict[int, int]:
    """For each commune of the CDG, how many of its élus were marked present at a training (the rule of the
    training pages: a commune "with no trained élu" has nobody present at any session yet)."""
    trained = (
        select(Registration.collectivite_id, func.count(distinct(Mandate.person_id)))
        .join(Mandate, Mandate.id == Registration.mandate_id)
        .where(Registration.status == RegistrationStatus.PRESENT)
        .group_by(Registration.collectivite_id)
    )
    counts = dict(db.session.execute(trained).all())
    communes = db.session.scalars(select(Collectivite.id).where(Collectivite.kind == kinds.Kind.COMMUNE, _in_cdg()))
    return {commune: counts.get(commune, 0) for commune in communes}


def trained_communes() -> Chart:
    by_commune = trained_elus_by_commune()
    bands = []
    for low, high, label in TRAINED_BANDS:
        bands.append((_(label), sum(1 for n in by_commune.values() if n >= low and (high is None or n <= high))))
    none = bands[0][1]
    summary = ngettext(
        "%(count)s commune n’a encore aucun élu présent à une formation, sur %(communes)s.",
        "%(count)s communes n’ont encore aucun élu présent à une formation, sur %(communes)s.",
        none,
        count=decimal_fr(none),
        communes=ngettext(
            "%(count)s commune", "%(count)s communes", len(by_commune), count=decimal_fr(len(by_commune))
        ),
    )
    return Chart(
        key="communes-formees",
        title=_("Communes selon le nombre d'élus formés"),
        summary=summary,
        categories=tuple(label for label, _ in bands),
        series=(Series(_("Communes"), tuple(count for _, count in bands)),),
    )


def untrained_communes() -> list[UntrainedCommune]:
    """The communes with no élu present at a training yet, the most populated first: what a board asks first."""
    untrained = [commune for commune, count in trained_elus_by_commune().items() if count == 0]
    if not untrained:
        return []
    epci = db.aliased(Collectivite)
    elus = (
        select(Mandate.collectivite_id, func.count(distinct(Mandate.person_id)).label("elus"))
        .where(Mandate.end_date.is_(None))
        .group_by(Mandate.collectivite_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Collectivite.id, Collectivite.name, epci.name, Collectivite.population, func.coalesce(elus.c.elus, 0))
        .outerjoin(epci, epci.id == Collectivite.epci_id)
        .outerjoin(elus, elus.c.collectivite_id == Collectivite.id)
        .where(Collectivite.id.in_(untrained))
        .order_by(Collectivite.population.desc().nulls_last(), Collectivite.name_normalised)
    )
    return [UntrainedCommune(*row) for row in rows]


def campaign_progress(campaign: Campaign) -> Chart:
    """Answered and not answered, by EPCI, for one campaign."""
    tally, _missing = campaigns.progress(campaign)
    epcis = sorted(tally.by_epci, key=lambda name: (name is None, name or ""))
    return Chart(
        key=f"campagne-{campaign.id}",
        title=_("%(title)s : réponses par intercommunalité", title=campaign.title),
        summary=ngettext(
            "%(answered)s sur %(total)s attendue (%(percent)s).",
            "%(answered)s sur %(total)s attendues (%(percent)s).",
            tally.overall.total,
            answered=ngettext(
                "%(count)s réponse",
                "%(count)s réponses",
                tally.overall.answered,
                count=decimal_fr(tally.overall.answered),
            ),
            total=decimal_fr(tally.overall.total),
            percent=percent_fr(tally.overall.percent),
        ),
        categories=tuple(name or _("Sans intercommunalité") for name in epcis),
        series=(
            Series(_("Ont répondu"), tuple(tally.by_epci[name].answered for name in epcis)),
            Series(_("N'ont pas encore répondu"), tuple(tally.by_epci[name].missing for name in epcis)),
        ),
        stacked=True,
        horizontal=True,
    )


def campaigns_of(year: int) -> list[Campaign]:
    """The campaigns of a year's activity: those of the year, and those opened during it (next year's headcount
    campaign, whose reference date is 1 January of next year, is opened and run in the autumn)."""
    return list(
        db.session.scalars(
            select(Campaign)
            .where(or_(Campaign.year == year, Campaign.opened_on.between(date(year, 1, 1), date(year, 12, 31))))
            .order_by(Campaign.opened_at.desc())
        )
    )


def open_campaigns() -> list[Campaign]:
    return list(
        db.session.scalars(
            select(Campaign).where(Campaign.state == CampaignState.OPEN).order_by(Campaign.opened_at.desc())
        )
    )


def all_charts(until: int) -> list[Chart]:
    return [
        affiliation_mix(),
        headcounts(until),
        subscriptions(until),
        cotisations(until),
        training(until),
        trained_communes(),
    ]
