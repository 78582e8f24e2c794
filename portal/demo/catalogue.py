"""The demonstration catalogue of CDG 47: services from domain.md §3, illustrative tariffs, fictitious délibérations."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from portal.catalogue.models import ContributionRate, Service, Tariff
from portal.extensions import db

DELIBERATION = "Délibération fictive n° {year}-DEMO-{n:02d} du conseil d'administration"

# code, name, description, group, eligibility, tariff model, amount, request fields, validation, notice (months)
SERVICES = (
    (
        "concours",
        "Concours, examens professionnels et bourse de l'emploi",
        "Organisation des concours et examens (catégories A, B, C), listes d'aptitude, publicité des créations et "
        "vacances d'emploi.",
        "obligatoire",
        "affiliated",
        "included",
        "0",
        [],
        False,
        0,
    ),
    (
        "instances",
        "Instances paritaires et conseil médical",
        "Secrétariat des commissions administratives paritaires, des conseils de discipline, du conseil médical et du "
        "comité social territorial des collectivités de moins de 50 agents.",
        "obligatoire",
        "affiliated",
        "included",
        "0",
        [],
        False,
        0,
    ),
    (
        "socle-commun",
        "Socle commun de compétences",
        "Assistance juridique statutaire, fiabilisation des comptes de retraite, assistance au recrutement, "
        "accompagnement de la mobilité, secrétariat du conseil médical, référents laïcité et déontologue. Adhésion en "
        "bloc (CGFP L452-39).",
        "socle",
        "socle",
        "payroll_rate",
        "0.2",
        [],
        True,
        6,
    ),
    (
        "gestion-personnels",
        "Gestion des personnels (carrières et paie)",
        "Préparation des actes de carrière, calcul et édition de la paie, déclarations sociales.",
        "facultative",
        "any",
        "per_agent",
        "85",
        ["agents", "message"],
        True,
        3,
    ),
    (
        "medecine-preventive",
        "Médecine préventive",
        "Visites d'information et de prévention, suivi médical des agents, actions sur le milieu de travail.",
        "facultative",
        "any",
        "payroll_rate",
        "0.33",
        ["agents", "message"],
        True,
        3,
    ),
    (
        "remplacement",
        "Remplacement et missions temporaires",
        "Mise à disposition d'agents pour remplacer un agent absent ou renforcer un service.",
        "facultative",
        "any",
        "per_hour",
        "27.50",
        ["hours", "message"],
        True,
        1,
    ),
    (
        "marches-publics",
        "Conseil en marchés publics et groupements de commandes",
        "Accompagnement à la rédaction des pièces, à l'analyse des offres, adhésion aux groupements de commandes.",
        "facultative",
        "any",
        "per_day",
        "390",
        ["days", "message"],
        True,
        3,
    ),
    (
        "ent-ecoles",
        "ENT des écoles (convention avec la DASEN)",
        "Espace numérique de travail pour les écoles primaires, dans le cadre de la convention entre l'IA-DASEN et la "
        "commune ; prix par compte élève et par an.",
        "facultative",
        "any",
        "per_pupil",
        "3.50",
        ["ent_schools", "message"],
        True,
        3,
    ),
    (
        "elu-numerique-rural",
        "Élu Numérique Rural (formation des élus)",
        "Parcours de formation au numérique pour les élus des communes rurales (loi du 3 février 1992).",
        "facultative",
        "any",
        "flat",
        "250",
        ["message"],
        True,
        0,
    ),
    (
        "numerique-communication",
        "Conseil en numérique et communication",
        "Accompagnement des projets numériques, site internet, communication de la collectivité.",
        "facultative",
        "any",
        "per_day",
        "360",
        ["days", "message"],
        True,
        3,
    ),
    (
        "rgpd-dpo",
        "RGPD et délégué à la protection des données mutualisé",
        "Désignation du CDG comme délégué à la protection des données, registre des traitements, sensibilisation.",
        "facultative",
        "any",
        "flat",
        "420",
        ["message"],
        True,
        6,
    ),
    (
        "archivage",
        "Archivage et numérisation",
        "Tri, classement, élimination réglementaire et numérisation des archives par un archiviste itinérant.",
        "facultative",
        "any",
        "per_day",
        "310",
        ["days", "message"],
        True,
        1,
    ),
)


def load_catalogue(year: int) -> list[Service]:
    services = []
    for position, (code, name, description, group, eligibility, model, amount, fields, validation, notice) in enumerate(
        SERVICES, start=1
    ):
        service = Service(
            code=code,
            name=name,
            description=description,
            group=group,
            eligibility=eligibility,
            tariff_model=model,
            request_fields=fields,
            requires_validation=validation,
            notice_months=notice,
            position=position * 10,
        )
        if model != "included":
            service.tariffs.append(
                Tariff(
                    year=year,
                    unit_amount=Decimal(amount),
                    deliberation_ref=DELIBERATION.format(year=year - 1, n=position),
                    deliberation_date=date(year - 1, 11, 25),
                )
            )
        db.session.add(service)
        services.append(service)
    db.session.add_all(
        [
            ContributionRate(
                year=year,
                kind="cotisation",
                rate_percent=Decimal("0.80"),
                deliberation_ref=DELIBERATION.format(year=year - 1, n=90),
                deliberation_date=date(year - 1, 11, 25),
            ),
            ContributionRate(
                year=year,
                kind="socle",
                rate_percent=Decimal("0.20"),
                deliberation_ref=DELIBERATION.format(year=year - 1, n=91),
                deliberation_date=date(year - 1, 11, 25),
            ),
        ]
    )
    db.session.flush()
    return services
