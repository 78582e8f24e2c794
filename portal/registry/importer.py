"""Import of the official Etalab *découpage administratif* (communes, EPCI, départements, régions).

Reading is separate from writing: :func:`read_dataset` parses the JSON files into records,
:func:`import_records` upserts them in bulk (one SELECT of what exists, then batched
INSERTs and UPDATEs), so a second run updates and never duplicates, and the whole country
(about 35,000 communes and 1,250 EPCI) imports in seconds.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import insert, select, update

from portal.common import versions
from portal.common.clock import utcnow
from portal.common.errors import DomainError
from portal.common.i18n import gettext as _
from portal.common.text import normalise
from portal.extensions import db
from portal.registry.kinds import EPCI_TYPE_FROM_ETALAB, Kind
from portal.registry.models import Collectivite

BATCH = 2000
# The fields an import owns; anything else (status, parent, users) belongs to the portal.
IMPORTED_FIELDS = ("name", "name_normalised", "departement_code", "population", "postal_codes", "siren", "insee_code")


@dataclass(frozen=True)
class Record:
    kind: str
    name: str
    insee_code: str | None
    siren: str | None
    departement_code: str | None
    population: int | None
    postal_codes: str | None
    epci_siren: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """Communes, départements and régions are keyed by INSEE code, EPCI by SIREN."""
        return (self.kind, self.insee_code) if self.insee_code else ("siren", self.siren or "")

    def values(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "name_normalised": normalise(self.name),
            "insee_code": self.insee_code,
            "siren": self.siren,
            "departement_code": self.departement_code,
            "population": self.population,
            "postal_codes": self.postal_codes,
        }


@dataclass
class Dataset:
    epci: list[Record] = field(default_factory=list)
    communes: list[Record] = field(default_factory=list)
    others: list[Record] = field(default_factory=list)  # départements, régions

    def __len__(self) -> int:
        return len(self.epci) + len(self.communes) + len(self.others)


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, other: ImportSummary) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged


def _load_json(directory: Path, name: str, required: bool = True):
    path = directory / name
    if not path.exists():
        if required:
            raise DomainError(
                _("Fichier introuvable : %(path)s. Le dossier doit contenir communes.json et epci.json.", path=path)
            )
        return []
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except json.JSONDecodeError as exc:
        raise DomainError(
            _(
                "%(path)s n'est pas un fichier JSON valide (ligne %(lineno)s) : %(msg)s.",
                path=path,
                lineno=exc.lineno,
                msg=exc.msg,
            )
        ) from exc
    if not isinstance(data, list):
        raise DomainError(_("%(path)s doit contenir une liste d'objets.", path=path))
    return data


def _siren(value) -> str | None:
    value = str(value or "").strip()
    return value if len(value) == 9 and value.isdigit() else None


def read_dataset(directory: str | Path, departement: str | None = None) -> Dataset:
    """Parse the Etalab files; keep only current communes (``commune-actuelle``) and, if given, one département."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DomainError(_("Dossier introuvable : %(directory)s", directory=directory))
    departement = departement.strip().upper() if departement else None
    communes_raw = _load_json(directory, "communes.json")
    epci_raw = _load_json(directory, "epci.json")
    departements_raw = _load_json(directory, "departements.json", required=False)
    regions_raw = _load_json(directory, "regions.json", required=False)

    epci_of_commune: dict[str, str] = {}
    departement_of_commune = {str(c["code"]): c.get("departement") for c in communes_raw if c.get("departement")}
    dataset = Dataset()
    for entry in epci_raw:
        siren = _siren(entry.get("code"))
        kind = EPCI_TYPE_FROM_ETALAB.get(entry.get("type", ""))
        if siren is None or kind is None:
            continue
        members = entry.get("membres") or []
        if departement and not any(str(m.get("code", "")).startswith(departement) for m in members):
            continue
        for member in members:
            epci_of_commune[str(member.get("code"))] = siren
        dataset.epci.append(
            Record(
                kind=kind,
                name=entry["nom"],
                insee_code=None,
                siren=siren,
                departement_code=_main_departement(members, departement_of_commune),
                population=entry.get("populationTotale"),
                postal_codes=None,
            )
        )

    for entry in communes_raw:
        if entry.get("type") != "commune-actuelle":
            continue
        if departement and entry.get("departement") != departement:
            continue
        code = str(entry["code"])
        dataset.communes.append(
            Record(
                kind=Kind.COMMUNE,
                name=entry["nom"],
                insee_code=code,
                siren=_siren(entry.get("siren")),
                departement_code=entry.get("departement"),
                population=entry.get("population"),
                postal_codes=" ".join(entry.get("codesPostaux") or []) or None,
                epci_siren=epci_of_commune.get(code),
            )
        )
    if departement and not dataset.communes:
        raise DomainError(
            _(
                "Aucune commune trouvée pour le département %(departement)s dans %(directory)s.",
                departement=departement,
                directory=directory,
            )
        )

    for entry in departements_raw:
        if departement and entry.get("code") != departement:
            continue
        dataset.others.append(
            Record(
                kind=Kind.DEPARTEMENT,
                name=entry["nom"],
                insee_code=entry["code"],
                siren=None,
                departement_code=entry["code"],
                population=None,
                postal_codes=None,
            )
        )
    for entry in regions_raw:
        # A région may join the CDG of the département of its chef-lieu (décret n° 85-643, art. 2, 2°).
        if departement and not str(entry.get("chefLieu", "")).startswith(departement):
            continue
        dataset.others.append(
            Record(
                kind=Kind.REGION,
                name=entry["nom"],
                insee_code=entry["code"],
                siren=None,
                departement_code=None,
                population=None,
                postal_codes=None,
            )
        )
    return dataset


def _main_departement(members: list[dict], departement_of_commune: dict[str, str]) -> str | None:
    """The département of most of an EPCI's member communes (the first in code order on a tie): the CDG whose
    lists (open data, registry filters) include it."""
    counts = Counter(departement_of_commune.get(str(m.get("code"))) for m in members)
    counts.pop(None, None)
    if not counts:
        return None
    return min(counts, key=lambda code: (-counts[code], code))


def _existing() -> dict[tuple[str, str], dict]:
    rows = db.session.execute(
        select(
            Collectivite.id,
            Collectivite.kind,
            Collectivite.epci_id,
            *[getattr(Collectivite, f) for f in IMPORTED_FIELDS],
        ).where(Collectivite.source == "etalab")
    ).mappings()
    existing = {}
    for row in rows:
        key = (row["kind"], row["insee_code"]) if row["insee_code"] else ("siren", row["siren"] or "")
        existing[key] = dict(row)
    return existing


def _chunks(items: list, size: int = BATCH) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _upsert(
    records: list[Record], existing: dict, epci_ids: dict[str, int] | None, progress: Callable[[int], None]
) -> ImportSummary:
    summary = ImportSummary()
    now = utcnow()
    to_insert, to_update = [], []
    for record in records:
        values = record.values()
        if epci_ids is not None:
            values["epci_id"] = epci_ids.get(record.epci_siren) if record.epci_siren else None
        current = existing.get(record.key)
        if current is None:
            to_insert.append({**values, "source": "etalab", "created_at": now, "updated_at": now})
            continue
        changed = {k: v for k, v in values.items() if k != "kind" and current.get(k) != v}
        if changed:
            to_update.append({"id": current["id"], **changed, "updated_at": now})
            summary.updated += 1
        else:
            summary.unchanged += 1
    if to_insert or to_update:  # bulk statements skip the flush events: replace the registry's token here
        versions.bump(versions.REGISTRY)
    for chunk in _chunks(to_insert):
        db.session.execute(insert(Collectivite), chunk)
        summary.created += len(chunk)
        progress(len(chunk))
    # Bulk UPDATE by primary key wants the same keys in every row of a batch.
    by_keys: dict[tuple, list] = {}
    for row in to_update:
        by_keys.setdefault(tuple(sorted(row)), []).append(row)
    for rows in by_keys.values():
        for chunk in _chunks(rows):
            db.session.execute(update(Collectivite), chunk)
    progress(summary.updated + summary.unchanged)
    return summary


def import_records(dataset: Dataset, progress: Callable[[int], None] = lambda n: None) -> ImportSummary:
    """Upsert EPCI, then communes (linked to their EPCI), then départements and régions. Only flushes."""
    existing = _existing()
    summary = ImportSummary()
    summary.add(_upsert(dataset.epci, existing, None, progress))
    db.session.flush()
    epci_ids = dict(
        db.session.execute(
            select(Collectivite.siren, Collectivite.id).where(
                Collectivite.kind.in_([k.value for k in EPCI_TYPE_FROM_ETALAB.values()]),
                Collectivite.siren.is_not(None),
            )
        ).all()
    )
    summary.add(_upsert(dataset.communes, existing, epci_ids, progress))
    summary.add(_upsert(dataset.others, existing, None, progress))
    db.session.flush()
    return summary
