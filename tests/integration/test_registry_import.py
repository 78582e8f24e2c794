"""Import of the Etalab découpage administratif: Lot-et-Garonne from the shipped extract, idempotence, bad input."""

import json

import pytest
from sqlalchemy import func, select

from portal.common.errors import DomainError
from portal.extensions import db
from portal.registry.importer import import_records, read_dataset
from portal.registry.models import Collectivite
from tests.conftest import DATA_47, NATIONAL_DATA


def count(**filters):
    statement = select(func.count()).select_from(Collectivite)
    for key, value in filters.items():
        statement = statement.where(getattr(Collectivite, key) == value)
    return db.session.scalar(statement)


def test_lot_et_garonne_has_319_communes_and_12_epci(app):
    summary = import_records(read_dataset(DATA_47, "47"))
    db.session.commit()
    assert count(kind="commune") == 319
    assert (
        db.session.scalar(select(func.count()).select_from(Collectivite).where(Collectivite.kind.in_(["cc", "ca"])))
        == 12
    )
    assert count(kind="departement") == 1
    assert summary.created == 319 + 12 + 1 and summary.updated == 0 and summary.unchanged == 0

    agen = db.session.scalar(select(Collectivite).where(Collectivite.insee_code == "47001"))
    assert agen.name == "Agen" and agen.siren == "214700015" and agen.population > 30000
    assert agen.postal_codes == "47000"
    assert agen.epci.name == "CA Agglomération d'Agen" and agen.epci.siren == "200096956"
    # Every commune of 47 belongs to one of the 12 EPCI.
    assert count(kind="commune", epci_id=None) == 0


def test_second_run_updates_and_never_duplicates(app, tmp_path):
    import_records(read_dataset(DATA_47, "47"))
    db.session.commit()
    again = import_records(read_dataset(DATA_47, "47"))
    db.session.commit()
    assert (again.created, again.updated, again.unchanged) == (0, 0, 332)

    # A renamed commune and a new population are updated in place.
    communes = json.loads((DATA_47 / "communes.json").read_text())
    for entry in communes:
        if entry["code"] == "47001":
            entry["population"] = 40000
            entry["nom"] = "Agen (test)"
    for name in ("epci.json", "departements.json", "regions.json"):
        (tmp_path / name).write_text((DATA_47 / name).read_text())
    (tmp_path / "communes.json").write_text(json.dumps(communes))
    changed = import_records(read_dataset(tmp_path, "47"))
    db.session.commit()
    assert (changed.created, changed.updated) == (0, 1)
    agen = db.session.scalar(select(Collectivite).where(Collectivite.insee_code == "47001"))
    assert agen.population == 40000 and agen.name == "Agen (test)" and agen.name_normalised == "agen (test)"
    assert count(kind="commune") == 319


def test_import_keeps_what_the_portal_owns(app):
    from tests import factories

    import_records(read_dataset(DATA_47, "47"))
    db.session.commit()
    agen = db.session.scalar(select(Collectivite).where(Collectivite.insee_code == "47001"))
    factories.declare(agen, 2025, 420)
    db.session.commit()
    assert agen.affiliation_status == "non_affiliee"
    import_records(read_dataset(DATA_47, "47"))
    db.session.commit()
    db.session.refresh(agen)
    assert agen.affiliation_status == "non_affiliee"


def test_national_dataset_reads_all_current_communes():
    assert NATIONAL_DATA.exists(), f"the national data set is expected at {NATIONAL_DATA} (../shared)"
    dataset = read_dataset(NATIONAL_DATA)
    assert len(dataset.communes) == 34969
    assert 1200 < len(dataset.epci) < 1300


def test_bad_input_gives_french_errors(tmp_path):
    with pytest.raises(DomainError, match="Dossier introuvable"):
        read_dataset(tmp_path / "absent")
    with pytest.raises(DomainError, match="communes.json"):
        read_dataset(tmp_path)
    (tmp_path / "communes.json").write_text("{pas du json")
    (tmp_path / "epci.json").write_text("[]")
    with pytest.raises(DomainError, match="n'est pas un fichier JSON valide"):
        read_dataset(tmp_path)
    (tmp_path / "communes.json").write_text("[]")
    with pytest.raises(DomainError, match="Aucune commune trouvée pour le département 99"):
        read_dataset(tmp_path, "99")
