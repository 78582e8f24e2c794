"""A body's yearly statement, as a pure function of plain inputs.

- Affiliated bodies pay the obligatory cotisation: their payroll × the rate voted for the year
  (≤ 0.8 %), pro rata of the days affiliated; paid one third in advance (of last year's
  cotisation) before 1 February and the balance before 1 June, or for a mid-year affiliation
  one quarter within 2 months and the balance within 6 months (loi n° 85-1221, art. 20).
- Non-affiliated bodies that joined the socle commun pay its contribution (≤ 0.2 %), pro rata.
- Each service subscribed under a convention is due at the tariff of the year, pro rata of the
  days it ran during the year, and invoiced under its convention.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from portal.catalogue import rules as catalogue_rules
from portal.catalogue.rules import Instalment, money
from portal.common.formatting import date_range_fr, money_fr, percent_fr
from portal.common.i18n import gettext as _


@dataclass(frozen=True)
class ServiceInput:
    name: str
    tariff_model: str
    unit_amount: Decimal | None
    deliberation_ref: str | None
    quantities: dict
    start: date | None
    end: date | None


@dataclass(frozen=True)
class StatementInput:
    year: int
    payroll: Decimal | None
    affiliated_from: date | None  # first day affiliated in the year, None if never affiliated during it
    affiliated_to: date | None  # last day, None when it goes on past the year
    cotisation_rate: Decimal | None
    socle_rate: Decimal | None
    previous_year_cotisation: Decimal | None
    socle: ServiceInput | None = None
    services: tuple[ServiceInput, ...] = ()
    # The board's deliberations that set the rates ("Délibération n° … du 25 novembre 2025").
    cotisation_deliberation: str | None = None
    socle_deliberation: str | None = None


@dataclass
class StatementLine:
    kind: str  # cotisation, socle, service
    label: str
    basis: str
    amount: Decimal | None


@dataclass
class Statement:
    year: int
    lines: list[StatementLine] = field(default_factory=list)
    instalments: list[Instalment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return money(sum((line.amount for line in self.lines if line.amount is not None), Decimal(0)))

    def total_of(self, kind: str) -> Decimal:
        return money(
            sum((line.amount for line in self.lines if line.kind == kind and line.amount is not None), Decimal(0))
        )


def _period(year: int, start: date | None, end: date | None) -> str:
    first, last = date(year, 1, 1), date(year, 12, 31)
    begin = max(first, start) if start else first
    finish = min(last, end) if end else last
    if begin == first and finish == last:
        return _("année entière")
    return date_range_fr(begin, finish)


def _payroll_line(
    kind: str,
    label: str,
    statement_input: StatementInput,
    rate: Decimal | None,
    start: date | None,
    end: date | None,
    warnings: list[str],
    deliberation: str | None = None,
) -> StatementLine:
    year = statement_input.year
    if statement_input.payroll is None:
        warnings.append(
            _("Masse salariale %(year)s non déclarée : %(label)s non calculée.", year=year, label=label.lower())
        )
        return StatementLine(kind, label, _("masse salariale non déclarée"), None)
    if rate is None:
        warnings.append(_("Taux %(year)s non voté : %(label)s non calculée.", year=year, label=label.lower()))
        return StatementLine(kind, label, _("taux non voté"), None)
    catalogue_rules.check_rate("cotisation" if kind == "cotisation" else "socle", rate)
    yearly = money(statement_input.payroll * rate / 100)
    amount = catalogue_rules.pro_rata(yearly, year, start, end)
    basis = f"{money_fr(statement_input.payroll, cents=True)} × {percent_fr(rate)} ({_period(year, start, end)})"
    if deliberation:
        basis += f" — {deliberation}"
    return StatementLine(kind, label, basis, amount)


def compute_statement(data: StatementInput) -> Statement:
    statement = Statement(data.year)
    year = data.year
    if data.affiliated_from is not None:
        line = _payroll_line(
            "cotisation",
            _("Cotisation obligatoire"),
            data,
            data.cotisation_rate,
            data.affiliated_from,
            data.affiliated_to,
            statement.warnings,
            data.cotisation_deliberation,
        )
        statement.lines.append(line)
        if line.amount is not None:
            mid_year = data.affiliated_from if data.affiliated_from > date(year, 1, 1) else None
            statement.instalments = catalogue_rules.cotisation_calendar(
                year, line.amount, data.previous_year_cotisation, affiliation_start=mid_year
            )
    elif data.socle is not None:
        statement.lines.append(
            _payroll_line(
                "socle",
                _("Contribution au socle commun"),
                data,
                data.socle_rate,
                data.socle.start,
                data.socle.end,
                statement.warnings,
                data.socle_deliberation,
            )
        )
    for service in data.services:
        if service.tariff_model == catalogue_rules.TariffModel.INCLUDED:
            continue
        if service.unit_amount is None:
            statement.warnings.append(_("Aucun tarif %(year)s pour « %(name)s ».", year=year, name=service.name))
            statement.lines.append(StatementLine("service", service.name, _("aucun tarif voté"), None))
            continue
        yearly = catalogue_rules.yearly_amount(service.tariff_model, service.unit_amount, service.quantities)
        if yearly is None:
            statement.warnings.append(_("Quantité inconnue pour « %(name)s ».", name=service.name))
            statement.lines.append(StatementLine("service", service.name, _("quantité inconnue"), None))
            continue
        amount = catalogue_rules.pro_rata(yearly, year, service.start, service.end)
        basis = (
            f"{catalogue_rules.TARIFF_LABELS.get(service.tariff_model, service.tariff_model)}, "
            f"{_period(year, service.start, service.end)}"
        )
        if service.deliberation_ref:
            basis += f" — {service.deliberation_ref}"
        statement.lines.append(StatementLine("service", service.name, basis, amount))
    return statement


def affiliation_period(changes: list[tuple[date, str]], year: int) -> tuple[date | None, date | None]:
    """The part of ``year`` during which the body was affiliated, from its status history
    (effective date, status), as (first day, last day or None if it goes on)."""
    affiliated = {"obligatoire", "volontaire"}
    first_day, last_day = date(year, 1, 1), date(year, 12, 31)
    ordered = sorted(changes)
    start = end = None
    for index, (effective, status) in enumerate(ordered):
        following = ordered[index + 1][0] if index + 1 < len(ordered) else None
        period_end = date.fromordinal(following.toordinal() - 1) if following else None
        if status not in affiliated:
            continue
        if effective > last_day or (period_end is not None and period_end < first_day):
            continue
        begin = max(effective, first_day)
        start = begin if start is None else min(start, begin)
        end = (
            None
            if period_end is None or period_end >= last_day
            else (period_end if end is None else max(end, period_end))
        )
    return start, end
