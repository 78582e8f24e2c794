"""Demonstration conventions: those of domain.md §6, from the public texts, and the planned ENT convention.

Only the facts given in domain.md are used (parties, signatories, dates, durations, numbers of axes). Where the
text of an axis is not given, the axis says that its title is to be copied from the signed text. Where a start
date is not given, the signature date is used; where only a period is given ("2019–2022"), its last day is taken as
the end. The local contract under the CNFPT–AMF agreement and its commune are illustrative and marked as such.
"""

from __future__ import annotations

from datetime import date

from portal.conventions import services
from portal.conventions.models import Convention, PartnerKind
from portal.conventions.rules import Kind

PARTNERS = (
    ("CNFPT", PartnerKind.CNFPT),
    ("Délégation régionale du CNFPT", PartnerKind.CNFPT_DELEGATION),
    ("Association des maires de France (AMF)", PartnerKind.AMF),
    ("Régions de France", PartnerKind.REGIONS),
    ("État", PartnerKind.ETAT),
    ("Préfon", PartnerKind.PREFON),
    ("Association des administrateurs territoriaux de France (AATF)", PartnerKind.AATF),
    ("Fédération nationale des centres de gestion (FNCDG)", PartnerKind.FNCDG),
    ("DSDEN de Lot-et-Garonne (IA-DASEN)", PartnerKind.DSDEN),
    ("Centre de gestion de Lot-et-Garonne (CDG 47)", PartnerKind.CDG),
)


TITLE_TO_COPY = "intitulé à reprendre du texte signé"


def _generic_axes(count: int, theme: str | None = None) -> list[services.AxisInput]:
    # The axis texts are not in domain.md: the page says so ("Axe 2 : intitulé à reprendre du texte signé"), as a
    # CDG would while the signed text is being transcribed — never "Axe 2 : Axe 2".
    title = f"{theme} ({TITLE_TO_COPY})" if theme else TITLE_TO_COPY[0].upper() + TITLE_TO_COPY[1:]
    return [services.AxisInput(title) for _n in range(1, count + 1)]


def load_conventions(by_code: dict, staff=None, log=print) -> list[Convention]:
    """Create the demonstration partners and conventions through the services. Only flushes.

    ``by_code`` maps INSEE codes to communes of the registry (Laroque-Timbaut, 47138, is used for the ENT
    convention and the illustrative local contract, so that its secretary sees them)."""
    existing = {p.name: p for p in services.all_partners()}
    partners = {
        name: existing.get(name) or services.create_partner(services.PartnerInput(name, kind), staff)
        for name, kind in PARTNERS
    }
    cnfpt = partners["CNFPT"].id
    created = []

    def party(name: str, representative: str | None = None) -> services.PartyInput:
        return services.PartyInput(partners[name].id, representative)

    amf = services.create_convention(
        services.ConventionInput(
            title="Accord-cadre CNFPT – AMF",
            kind=Kind.ACCORD_CADRE,
            object=(
                "Accord-cadre national, appliqué par des contrats de partenariat de formation professionnelle "
                "territorialisée entre les délégations régionales du CNFPT et les communes."
            ),
            signed_on=date(2012, 5, 9),
            start_date=date(2012, 5, 9),  # start date not given: the signature date
            parties=[
                party("Association des maires de France (AMF)", "Jacques Pélissard"),
                party("CNFPT", "François Deluga"),
            ],
            signatories=[
                services.SignatoryInput(
                    "Jacques Pélissard", partner_id=partners["Association des maires de France (AMF)"].id
                ),
                services.SignatoryInput("François Deluga", partner_id=cnfpt),
            ],
            axes=_generic_axes(5),  # 5 axes; their texts are not given in domain.md
        ),
        staff,
    )
    created.append(amf)
    commune = by_code.get("47138")
    if commune is not None:
        local = services.partner_for_collectivite(commune, staff)
        created.append(
            services.create_convention(
                services.ConventionInput(
                    title=f"Contrat de partenariat de formation professionnelle territorialisée – {commune.name} "
                    "(exemple de démonstration)",
                    kind=Kind.CONTRAT_TERRITORIALISE,
                    object="Exemple fictif d'application locale de l'accord-cadre CNFPT – AMF.",
                    parent_id=amf.id,
                    parties=[
                        services.PartyInput(partners["Délégation régionale du CNFPT"].id),
                        services.PartyInput(local.id),
                    ],
                ),
                staff,
            )
        )
    created.append(
        services.create_convention(
            services.ConventionInput(
                title="Convention CNFPT – Régions de France",
                kind=Kind.PARTENARIAT,
                signed_on=date(2019, 5, 15),
                start_date=date(2019, 5, 15),
                parties=[party("Régions de France", "Hervé Morin"), party("CNFPT", "François Deluga")],
                signatories=[
                    services.SignatoryInput("Hervé Morin", partner_id=partners["Régions de France"].id),
                    services.SignatoryInput("François Deluga", partner_id=cnfpt),
                ],
                # 4 axes of service offer (texts not given) and the legal and practice work.
                axes=_generic_axes(4, "Offre de service")
                + [services.AxisInput("Travaux juridiques et sur les pratiques")],
            ),
            staff,
        )
    )
    created.append(
        services.create_convention(
            services.ConventionInput(
                title="Convention-cadre État – CNFPT, économie sociale et solidaire",
                kind=Kind.CONVENTION_CADRE,
                signed_on=date(2015, 6, 10),
                start_date=date(2015, 6, 10),
                duration_months=36,
                parties=[party("État", "Carole Delga"), party("CNFPT", "François Deluga")],
                signatories=[
                    services.SignatoryInput("Carole Delga", partner_id=partners["État"].id),
                    services.SignatoryInput("François Deluga", partner_id=cnfpt),
                ],
            ),
            staff,
        )
    )
    created.append(
        services.create_convention(
            services.ConventionInput(
                title="Partenariat Préfon – AATF",
                kind=Kind.PARTENARIAT,
                signed_on=date(2021, 1, 13),
                start_date=date(2021, 1, 13),
                parties=[
                    party("Préfon"),
                    party("Association des administrateurs territoriaux de France (AATF)"),
                ],
                axes=[services.AxisInput("Groupe de travail sur la retraite")],
            ),
            staff,
        )
    )
    created.append(
        services.create_convention(
            services.ConventionInput(
                title="Accord-cadre CNFPT – FNCDG",
                kind=Kind.ACCORD_CADRE,
                object="Accord-cadre 2019–2022, décliné au niveau régional.",
                signed_on=date(2019, 11, 20),
                start_date=date(2019, 11, 20),
                end_date=date(2022, 12, 31),  # "2019–2022": the last day of 2022
                parties=[party("Fédération nationale des centres de gestion (FNCDG)"), party("CNFPT")],
                axes=_generic_axes(7),  # 7 axes; their texts are not given in domain.md
            ),
            staff,
        )
    )
    ent_parties = [party("DSDEN de Lot-et-Garonne (IA-DASEN)"), party("Centre de gestion de Lot-et-Garonne (CDG 47)")]
    if commune is not None:
        ent_parties.append(services.PartyInput(services.partner_for_collectivite(commune, staff).id))
    created.append(
        services.create_convention(
            services.ConventionInput(
                title="Convention ENT des écoles – DASEN, CDG 47 et communes",
                kind=Kind.PARTENARIAT,
                object=(
                    "Projet de convention de partenariat pour l'ENT des écoles primaires, dans le cadre du SDET : "
                    "les écoles couvertes sont listées en annexe ; la commune paie ; le DASEN est responsable de "
                    "traitement des données des élèves."
                ),
                parties=ent_parties,
            ),
            staff,
        )
    )
    log(f"Conventions de partenariat : {len(created)} conventions, {len(partners)} partenaires.")
    return created
