"""Gathering the inputs of statements in bulk (a few queries for the whole country), rates and payrolls.

``statements_for(year)`` loads rates, payrolls, status histories and subscriptions once, then
computes each body's statement with the pure :func:`portal.statements.rules.compute_statement`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import or_, select

from portal.affiliation.models import AffiliationStatusChange
from portal.audit import services as audit
from portal.catalogue import rules as catalogue_rules
from portal.catalogue.models import ContributionRate, PayrollDeclaration, Service, Tariff
from portal.common.clock import paris_today
from portal.common.errors import DomainError
from portal.common.formatting import money_fr, percent_fr
from portal.common.i18n import gettext as _
from portal.common.inputs import InvalidNumber, parse_decimal, year_problem
from portal.common.labels import N_, Labels
from portal.extensions import db
from portal.registry.models import Collectivite
from portal.statements.rules import ServiceInput, Statement, StatementInput, affiliation_period, compute_statement
from portal.subscriptions.models import Subscription
from portal.subscriptions.rules import State

BILLED_STATES = (State.VALIDATED, State.ACTIVE, State.SUSPENDED, State.ENDED)
MAX_PAYROLL = Decimal("10000000000")
PAYROLL_DIGITS = 14  # PayrollDeclaration.amount: Numeric(14, 2)
RATE_NAMES = Labels(
    {"cotisation": N_("de la cotisation obligatoire"), "socle": N_("de la contribution au socle commun")}
)


@dataclass
class BodyStatement:
    body_id: int
    name: str
    code: str
    kind: str
    statement: Statement


def rates(year: int) -> dict[str, Decimal]:
    return {kind: rate.rate_percent for kind, rate in rate_rows(year).items()}


def rate_rows(year: int) -> dict[str, ContributionRate]:
    """The rates voted for ``year`` by kind (cotisation, socle), with their deliberations."""
    return {
        rate.kind: rate for rate in db.session.scalars(select(ContributionRate).where(ContributionRate.year == year))
    }


def set_rate(
    year: int, kind: str, rate_percent: Decimal, deliberation_ref: str, actor, *, deliberation_date: date | None
) -> ContributionRate:
    """Record the yearly rate voted by the board with its deliberation and the day it was voted; refused above the
    legal cap, or for a cotisation voted after 30 November of the year before
    (:func:`catalogue_rules.rate_deliberation_problem`)."""
    if kind not in ("cotisation", "socle"):
        raise DomainError(_("Type de taux inconnu."), "kind")
    problem = year_problem(year, latest=paris_today().year + 1)  # voted for next year at the latest
    if problem:
        raise DomainError(problem, "year")
    if not isinstance(rate_percent, Decimal) or not rate_percent.is_finite():
        raise DomainError(_("Indiquez le taux en chiffres, par exemple 0,8."), "rate_percent")
    try:
        catalogue_rules.check_rate(kind, rate_percent)
    except catalogue_rules.RateTooHigh as exc:
        raise DomainError(str(exc), "rate_percent") from exc
    if not (deliberation_ref or "").strip():
        raise DomainError(_("La référence de la délibération est obligatoire."), "deliberation_ref")
    problem = catalogue_rules.rate_deliberation_problem(kind, year, deliberation_date, paris_today())
    if problem:
        raise DomainError(problem, "deliberation_date")
    existing = db.session.scalar(
        select(ContributionRate).where(ContributionRate.year == year, ContributionRate.kind == kind)
    )
    if existing is None:
        existing = ContributionRate(year=year, kind=kind)
        db.session.add(existing)
    existing.rate_percent, existing.deliberation_ref = rate_percent, deliberation_ref.strip()
    existing.deliberation_date = deliberation_date
    db.session.flush()
    audit.record(
        "rate.set",
        f"Taux {RATE_NAMES[kind]} {year} : {percent_fr(rate_percent)} ({existing.deliberation_label})",
        actor=actor,
        obj=existing,
        details={
            "year": year,
            "kind": kind,
            "rate": str(rate_percent),
            "deliberation_date": deliberation_date.isoformat(),
        },
    )
    return existing


def set_payroll(body: Collectivite, year: int, amount: Decimal | str, actor) -> PayrollDeclaration:
    """Record the payroll a body declared for ``year`` (an amount in euros, or its text: « 1 250 000,50 »)."""
    problem = year_problem(year)
    if problem:
        raise DomainError(problem, "year")
    try:
        text = format(amount, "f") if isinstance(amount, Decimal) else str(amount)
        amount = parse_decimal(text, places=2, max_digits=PAYROLL_DIGITS)
    except InvalidNumber as exc:
        raise DomainError(exc.message, "amount") from None
    if amount < 0 or amount > MAX_PAYROLL:
        raise DomainError(_("La masse salariale doit être un montant positif plausible."), "amount")
    # Read before the new row is added: an expired actor reloads itself, which would flush the row half filled.
    actor_id = getattr(actor, "id", None)
    declaration = db.session.scalar(
        select(PayrollDeclaration).where(PayrollDeclaration.collectivite_id == body.id, PayrollDeclaration.year == year)
    )
    if declaration is None:
        declaration = PayrollDeclaration(collectivite_id=body.id, year=year)
        db.session.add(declaration)
    declaration.amount, declaration.declared_by_id = amount, actor_id
    db.session.flush()
    audit.record(
        "payroll.set",
        _("Masse salariale %(year)s de %(name)s : %(amount)s", year=year, name=body.name, amount=money_fr(amount)),
        actor=actor,
        obj=body,
        details={"year": year, "amount": str(amount)},
    )
    return declaration


def _by_body(rows) -> dict[int, list]:
    grouped = defaultdict(list)
    for body_id, *rest in rows:
        grouped[body_id].append(tuple(rest) if len(rest) > 1 else rest[0])
    return grouped


def _tariffs(year: int) -> dict[int, Tariff]:
    """The tariff of each service for ``year`` (the latest voted up to that year)."""
    chosen: dict[int, Tariff] = {}
    for tariff in db.session.scalars(select(Tariff).where(Tariff.year <= year).order_by(Tariff.year)):
        chosen[tariff.service_id] = tariff
    return chosen


def _cotisation_only(year, payroll, history, rate) -> Decimal | None:
    start, end = affiliation_period(history, year)
    if start is None or payroll is None or rate is None:
        return None
    return catalogue_rules.pro_rata(catalogue_rules.money(payroll * rate / 100), year, start, end)


def statements_for(year: int, body_ids: list[int] | None = None) -> Iterator[BodyStatement]:
    """Every body's statement for ``year`` (or only ``body_ids``), from a fixed number of queries."""

    def scoped(statement, column):
        return statement.where(column.in_(body_ids)) if body_ids is not None else statement

    voted, previous_rates = rate_rows(year), rates(year - 1)
    year_rates = {kind: rate.rate_percent for kind, rate in voted.items()}
    deliberations = {kind: rate.deliberation_label for kind, rate in voted.items()}
    payrolls = dict(
        db.session.execute(
            scoped(
                select(PayrollDeclaration.collectivite_id, PayrollDeclaration.amount).where(
                    PayrollDeclaration.year == year
                ),
                PayrollDeclaration.collectivite_id,
            )
        ).all()
    )
    previous_payrolls = dict(
        db.session.execute(
            scoped(
                select(PayrollDeclaration.collectivite_id, PayrollDeclaration.amount).where(
                    PayrollDeclaration.year == year - 1
                ),
                PayrollDeclaration.collectivite_id,
            )
        ).all()
    )
    histories = _by_body(
        db.session.execute(
            scoped(
                select(
                    AffiliationStatusChange.collectivite_id,
                    AffiliationStatusChange.effective_date,
                    AffiliationStatusChange.status,
                ),
                AffiliationStatusChange.collectivite_id,
            )
        ).all()
    )
    services = {s.id: s for s in db.session.scalars(select(Service))}
    tariffs = _tariffs(year)
    subscriptions = defaultdict(list)
    rows = db.session.execute(
        scoped(
            select(
                Subscription.collectivite_id,
                Subscription.service_id,
                Subscription.start_date,
                Subscription.end_date,
                Subscription.details,
            ).where(
                Subscription.state.in_([s.value for s in BILLED_STATES]),
                or_(Subscription.start_date.is_(None), Subscription.start_date <= date(year, 12, 31)),
                or_(Subscription.end_date.is_(None), Subscription.end_date >= date(year, 1, 1)),
            ),
            Subscription.collectivite_id,
        )
    )
    for body_id, service_id, start, end, details in rows:
        service = services[service_id]
        tariff = tariffs.get(service_id)
        quantities = dict((details or {}).get("quantities") or {})
        if service.tariff_model == catalogue_rules.TariffModel.PAYROLL_RATE:
            # A rate of payroll is priced on the payroll declared for the year, not on what the request said.
            quantities.setdefault("payroll", payrolls.get(body_id))
        subscriptions[body_id].append(
            (
                service,
                ServiceInput(
                    service.name,
                    service.tariff_model,
                    tariff.unit_amount if tariff else None,
                    tariff.deliberation_ref if tariff else None,
                    quantities,
                    start,
                    end,
                ),
            )
        )

    bodies = db.session.execute(
        scoped(
            select(
                Collectivite.id, Collectivite.name, Collectivite.insee_code, Collectivite.siren, Collectivite.kind
            ).order_by(Collectivite.name_normalised),
            Collectivite.id,
        )
    )
    for body_id, name, insee, siren, kind in bodies:
        history = histories.get(body_id, [])
        affiliated_from, affiliated_to = affiliation_period(history, year)
        subscribed = subscriptions.get(body_id, [])
        socle = next((item for service, item in subscribed if service.group == "socle"), None)
        data = StatementInput(
            year=year,
            payroll=payrolls.get(body_id),
            affiliated_from=affiliated_from,
            affiliated_to=affiliated_to,
            cotisation_rate=year_rates.get("cotisation"),
            socle_rate=year_rates.get("socle"),
            cotisation_deliberation=deliberations.get("cotisation"),
            socle_deliberation=deliberations.get("socle"),
            previous_year_cotisation=_cotisation_only(
                year - 1, previous_payrolls.get(body_id), history, previous_rates.get("cotisation")
            ),
            socle=socle,
            services=tuple(item for service, item in subscribed if service.group == "facultative"),
        )
        yield BodyStatement(body_id, name, insee or siren or "", kind, compute_statement(data))


def statement_of(body: Collectivite, year: int) -> Statement:
    return next(statements_for(year, [body.id])).statement
