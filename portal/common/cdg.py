"""The CDG that runs the portal: its names, its territory and the départements it serves, read from configuration
in one place (``CDG_NAME``, ``CDG_ACRONYM``, ``CDG_TERRITORY``, ``CDG_DEPARTEMENTS``, ``CDG_ADDRESS``,
``CDG_CONTACT``: see portal/config.py and .env.example). Pages, emails and documents name the CDG through
:func:`identity` (the ``cdg`` of templates), never by a name written in them."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, current_app


@dataclass(frozen=True)
class Identity:
    name: str  # « Centre de gestion de la fonction publique territoriale de Lot-et-Garonne »
    acronym: str  # « CDG 47 »
    territory: str  # « de Lot-et-Garonne », preposition included (« du Gers », « de l'Ain »)
    # The letterhead of its documents under its name: postal address lines, then how to reach it (telephone,
    # email); empty when not configured.
    address: tuple[str, ...] = ()
    contact: str = ""

    @property
    def short_name(self) -> str:
        """« CDG de Lot-et-Garonne »: reads after « du » or « le » in a sentence."""
        return f"CDG {self.territory}"

    @property
    def portal_name(self) -> str:
        """« Portail CDG 47 »: the title of every page and the signature of every email."""
        return f"Portail {self.acronym}"


def identity(app: Flask | None = None) -> Identity:
    config = (app or current_app).config
    return Identity(
        name=config["CDG_NAME"],
        acronym=config["CDG_ACRONYM"],
        territory=config["CDG_TERRITORY"],
        address=tuple(config["CDG_ADDRESS"]),
        contact=config["CDG_CONTACT"],
    )


def name() -> str:
    """The CDG's full name, as it heads its documents (conventions, statements, attestations)."""
    return current_app.config["CDG_NAME"]


def departements() -> list[str]:
    """The INSEE codes of the départements the CDG serves; empty for every département (a national federation)."""
    return current_app.config["CDG_DEPARTEMENTS"]
