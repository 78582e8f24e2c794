"""Load the Lot-et-Garonne demonstration.

The registry is the official Etalab extract shipped in ``data/``. Headcounts are
synthetic (real counts are not public): deterministic, derived from each body's code
and population, and flagged ``is_synthetic`` so that the interface says so. A few
bodies are set on purpose around the threshold: Villeneuve-sur-Lot at 349 with its
CCAS, Marmande rising to 350 in the current year (an open decision for staff), Agen
above 350 and voluntarily affiliated, the Département far above and not affiliated, the SDIS under 350 yet not
affiliated (voluntary only, whatever its headcount).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from portal.accounts import services as accounts
from portal.accounts.models import Role
from portal.affiliation import rules
from portal.affiliation import services as affiliation
from portal.common.clock import paris_today
from portal.common.text import normalise
from portal.conventions.demo import load_conventions
from portal.demo.catalogue import SERVICES, load_catalogue
from portal.extensions import db
from portal.registry.importer import ImportSummary, import_records, read_dataset
from portal.registry.kinds import Kind
from portal.registry.models import Collectivite
from portal.training.demo import load_training

DATA_DIR = Path(__file__).parent / "data" / "decoupage-administratif-47"
DEPARTEMENT = "47"
DEMO_PASSWORD = "demo-portail-cdg47"  # noqa: S105 - demo mode only; printed by the command and the README


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    full_name: str
    codes: tuple[str, ...] = ()
    function: str | None = None
    sex: str | None = None


DEMO_ACCOUNTS = (
    DemoAccount("agent@cdg47.example", Role.STAFF, "Camille Durand (CDG 47)"),
    DemoAccount(
        "secretariat@mairies-pays-de-serres.example", Role.SECRETARY, "Nadia Roussel", ("47138", "47288", "47279")
    ),
    DemoAccount("secretariat@mairie-villeneuve.example", Role.SECRETARY, "Julien Lacombe", ("47323",)),
    DemoAccount("maire@mairie-sauvagnas.example", Role.ELU, "Bernard Castaing", ("47288",), "maire", "M"),
    DemoAccount("conseillere@mairie-laroque-timbaut.example", Role.ELU, "Sophie Vidal", ("47138",), "conseiller", "F"),
)

# Synthetic headcounts of the bodies placed on purpose around the threshold: {code: {year offset: (tc, tnc, contract.)}}
SPECIAL = {
    ("commune", "47001"): {-2: (405, 61, 120), -1: (410, 60, 118), 0: (418, 58, 121)},  # Agen
    ("ccas", "47001"): {-2: (44, 9, 30), -1: (45, 9, 31), 0: (46, 8, 29)},
    ("caisse_ecoles", "47001"): {-2: (11, 4, 6), -1: (12, 4, 6), 0: (12, 5, 7)},
    ("commune", "47323"): {-2: (312, 40, 77), -1: (316, 41, 80), 0: (320, 42, 79)},  # Villeneuve-sur-Lot
    ("ccas", "47323"): {-2: (28, 6, 15), -1: (29, 6, 14), 0: (29, 6, 16)},  # 320 + 29 = 349
    ("commune", "47157"): {-2: (340, 38, 70), -1: (345, 37, 72), 0: (350, 36, 69)},  # Marmande reaches 350
    ("departement", "47"): {-2: (1402, 35, 180), -1: (1415, 33, 176), 0: (1431, 30, 182)},
    # The SDIS: under 350, yet never affiliated by law (établissement public départemental).
    ("ep_departemental", None): {-2: (268, 4, 31), -1: (272, 4, 30), 0: (279, 3, 33)},
}


def _unit(*parts: str) -> float:
    """A deterministic number in [0, 1) from the given parts."""
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def synthetic_headcount(body: Collectivite, year: int) -> tuple[int, int, int]:
    population = body.population or 500
    base = population / (95 if body.is_epci else 120)
    spread = 0.6 + 0.8 * _unit(body.code, body.kind)
    trend = 1 + 0.02 * (year - 2024) * (_unit(body.code, "trend") - 0.3)
    tc = min(300, int(base * spread * trend))
    tnc = int((1.5 + population / 900) * (0.5 + _unit(body.code, str(year), "tnc")))
    contractuels = int((0.5 + population / 600) * (0.4 + _unit(body.code, str(year), "c")))
    return tc, tnc, contractuels


def is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(Collectivite))


def _add_attached(commune: Collectivite, kind: str, name: str) -> Collectivite:
    body = Collectivite(
        kind=kind,
        name=name,
        name_normalised=name.lower(),
        departement_code=commune.departement_code,
        parent=commune,
        source="demo",
    )
    body.name_normalised = normalise(name)
    db.session.add(body)
    return body


def load(current_year: int | None = None, log=print) -> ImportSummary:
    """Load everything into an empty database. Only flushes; the caller commits."""
    current_year = current_year or paris_today().year
    years = (current_year - 2, current_year - 1, current_year)
    summary = import_records(read_dataset(DATA_DIR, DEPARTEMENT))
    log(f"Registre : {summary.created} créées, {summary.updated} mises à jour, {summary.unchanged} inchangées.")

    by_code = {
        b.insee_code: b for b in db.session.scalars(select(Collectivite).where(Collectivite.kind == Kind.COMMUNE))
    }
    attached = {
        ("ccas", "47001"): _add_attached(by_code["47001"], Kind.CCAS, "CCAS d'Agen"),
        ("caisse_ecoles", "47001"): _add_attached(by_code["47001"], Kind.CAISSE_ECOLES, "Caisse des écoles d'Agen"),
        ("ccas", "47323"): _add_attached(by_code["47323"], Kind.CCAS, "CCAS de Villeneuve-sur-Lot"),
    }
    sdis = "Service départemental d'incendie et de secours de Lot-et-Garonne (SDIS 47)"
    db.session.add(
        Collectivite(
            kind=Kind.EP_DEPARTEMENTAL,
            name=sdis,
            name_normalised=normalise(sdis),
            departement_code=DEPARTEMENT,
            source="demo",
        )
    )
    db.session.flush()

    created_users = {}
    for account in DEMO_ACCOUNTS:
        mandate = (
            accounts.MandateInput(function=account.function, start_date=date(2026, 3, 22), sex=account.sex)
            if account.function
            else None
        )
        created_users[account.email] = accounts.create_user(
            email=account.email,
            role=account.role,
            password=DEMO_PASSWORD,
            full_name=account.full_name,
            collectivites=[by_code[c] for c in account.codes],
            mandate=mandate,
        )

    # Agen and its attached bodies chose voluntary affiliation long ago (synthetic history).
    for body in (by_code["47001"], attached[("ccas", "47001")], attached[("caisse_ecoles", "47001")]):
        affiliation.add_status_change(
            body,
            rules.Status.VOLONTAIRE,
            date(2015, 1, 1),
            "Affiliation volontaire (donnée de démonstration, délibération fictive).",
            deliberation_ref="Démonstration — délibération fictive n° 2014-DEMO",
        )

    bodies = list(db.session.scalars(select(Collectivite).order_by(Collectivite.id)))
    for year in years:
        for body in bodies:
            key = (body.kind, body.insee_code if body.parent is None else body.parent.insee_code)
            special = SPECIAL.get(key)
            if special is not None:
                tc, tnc, contractuels = special[year - current_year]
            elif body.kind == Kind.REGION:
                continue
            else:
                tc, tnc, contractuels = synthetic_headcount(body, year)
            affiliation.record_declaration(
                body,
                year,
                {"titulaires_temps_complet": tc, "titulaires_temps_non_complet": tnc, "contractuels": contractuels},
                actor=None,
                is_synthetic=True,
                comment="Effectifs fictifs de démonstration",
                notify=year == current_year,
            )
    catalogue = {service.code: service for service in load_catalogue(current_year)}
    db.session.flush()
    log(f"Catalogue de démonstration : {len(SERVICES)} services, tarifs {current_year} illustratifs.")
    load_payrolls(bodies, years[-2:])
    load_subscriptions(by_code, catalogue, created_users, current_year)
    load_conventions(by_code, created_users["agent@cdg47.example"], log=log)
    load_training(by_code, created_users, DEMO_PASSWORD, log=log)
    log(
        f"Effectifs fictifs déclarés pour {len(bodies)} collectivités et établissements ({', '.join(map(str, years))})."
    )
    return summary


def load_payrolls(bodies: list[Collectivite], years) -> None:
    """Synthetic payrolls: about 31,000 € a year per agent declared (fictitious, like the headcounts)."""
    from portal.affiliation.services import declaration_in_force
    from portal.catalogue.models import PayrollDeclaration

    for body in bodies:
        for year in years:
            declaration = declaration_in_force(body.id, year)
            if declaration is None:
                continue
            agents = (
                declaration.titulaires_temps_complet
                + declaration.titulaires_temps_non_complet / 2
                + declaration.contractuels * 0.8
            )
            amount = Decimal(int(agents * (29_000 + 4_000 * _unit(body.code, "payroll")))).quantize(Decimal("0.01"))
            db.session.add(
                PayrollDeclaration(collectivite_id=body.id, year=year, amount=amount, details={"synthetic": True})
            )
    db.session.flush()


def load_subscriptions(by_code: dict, catalogue: dict, users: dict, year: int) -> None:
    """A few subscriptions in different states, made through the services like real ones."""
    from portal.catalogue.rules import uai_key
    from portal.subscriptions import services as subscriptions
    from portal.subscriptions.rules import Action

    staff = users["agent@cdg47.example"]
    secretary = users["secretariat@mairies-pays-de-serres.example"]
    january = date(year, 1, 1)
    # Laroque-Timbaut has used the personnel management service since 1 January.
    personnel = subscriptions.request_subscription(
        by_code["47138"],
        catalogue["gestion-personnels"],
        subscriptions.RequestInput(start_date=january, quantities={"agents": 9}, message="Paie et carrières"),
        secretary,
        today=january,
    )
    subscriptions.transition(personnel, Action.VALIDATE, staff, "Bienvenue au service.")
    subscriptions.run_daily(paris_today())
    # Sauvagnas asks for the ENT of its school: waiting in the staff queue.
    school = "0479001"
    subscriptions.request_subscription(
        by_code["47288"],
        catalogue["ent-ecoles"],
        subscriptions.RequestInput(
            start_date=paris_today().replace(day=1) if paris_today().day == 1 else paris_today(),
            schools=[subscriptions.SchoolInput(school + uai_key(school), "École de Sauvagnas (fictive)", 2, 38)],
            message="Pour la rentrée de janvier.",
        ),
        secretary,
    )
    # Saint-Sixte was asked for more information about its RGPD request.
    rgpd = subscriptions.request_subscription(
        by_code["47279"], catalogue["rgpd-dpo"], subscriptions.RequestInput(start_date=paris_today()), secretary
    )
    subscriptions.transition(rgpd, Action.ASK_INFO, staff, "Merci d'indiquer le nom de l'élu référent RGPD.")
    db.session.flush()
