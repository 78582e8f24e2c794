"""The registry's count cache: served while the registry's version token is unchanged, recomputed after any
change (ORM flush or bulk import), never used for a secretary."""

from __future__ import annotations

from portal.common import versions
from portal.extensions import db
from portal.registry import services as registry
from portal.registry.importer import import_records, read_dataset
from tests import factories
from tests.conftest import DATA_47


def _counts(queries: list[str]) -> int:
    return sum("count(" in q.lower() for q in queries)


def _total(user, **filters) -> int:
    return registry.list_collectivites(user, registry.ListFilters(**filters), 10).total


def test_a_second_identical_list_reuses_the_count_until_a_collectivite_changes(app, count_queries):
    staff = factories.user("staff", email="staff@cdg47.fr")
    factories.collectivite("Sauvagnas")
    factories.collectivite("Layrac")
    db.session.commit()
    assert _total(staff) == 2
    with count_queries() as second:
        assert _total(staff) == 2
    assert _counts(second) == 0
    before = versions.current(versions.REGISTRY)
    factories.collectivite("Pujols")
    db.session.commit()
    assert versions.current(versions.REGISTRY) != before
    with count_queries() as after_change:
        assert _total(staff) == 3
    assert _counts(after_change) == 1
    renamed = factories.collectivite("Astaffort")
    db.session.commit()
    assert _total(staff, q="astaffort") == 1
    renamed.name, renamed.name_normalised = "Boé", "boe"
    db.session.commit()
    assert _total(staff, q="astaffort") == 0


def test_filters_are_counted_separately(app):
    staff = factories.user("staff", email="staff@cdg47.fr")
    factories.collectivite("Sauvagnas")
    factories.collectivite("CCAS de Sauvagnas", kind="ccas")
    db.session.commit()
    assert _total(staff) == 2
    assert _total(staff, kind="ccas") == 1
    assert _total(staff, q="zzz") == 0


def test_a_bulk_import_replaces_the_token(app):
    staff = factories.user("staff", email="staff@cdg47.fr")
    factories.collectivite("Commune hors du département", insee="99999")
    db.session.commit()
    assert _total(staff) == 1  # cached under the current token
    import_records(read_dataset(DATA_47, "47"))
    db.session.commit()
    assert _total(staff) > 300


def test_a_secretary_count_is_never_cached(app, count_queries):
    commune = factories.collectivite("Sauvagnas")
    secretary = factories.user("secretary", email="mairie@sauvagnas.fr", collectivites=[commune])
    db.session.commit()
    assert _total(secretary) == 1
    with count_queries() as second:
        assert _total(secretary) == 1
    assert _counts(second) == 1


def test_staff_lists_reuse_their_statements_and_page_by_bound_parameters(app):
    """The staff's list is built once per set of filters (the page aside): the next page and the next agent
    reuse it, its LIMIT/OFFSET bound; the rows are those of the uncached statement, a secretary's built anew."""
    staff = factories.user("staff", email="staff@cdg47.fr")
    other_staff = factories.user("staff", email="autre@cdg47.fr")
    names = [f"Commune {n:02d}" for n in range(25)]
    bodies = [factories.collectivite(name) for name in names]
    factories.collectivite("Autre", kind="ccas")
    secretary = factories.user("secretary", email="mairie@sauvagnas.fr", collectivites=bodies[:3])
    db.session.commit()
    registry._staff_rows_query.cache_clear()

    def names_of(user, page, **filters):
        return [
            row.name for row in registry.list_collectivites(user, registry.ListFilters(page=page, **filters), 10).items
        ]

    assert names_of(staff, 1, kind="commune") == names[:10]
    assert names_of(other_staff, 2, kind="commune") == names[10:20]
    assert names_of(staff, 3, kind="commune") == names[20:]
    info = registry._staff_rows_query.cache_info()
    assert (info.misses, info.hits) == (1, 2)
    assert names_of(staff, 1, kind="commune", descending=True) == names[::-1][:10]
    assert registry._staff_rows_query.cache_info().misses == 2
    assert names_of(secretary, 1) == names[:3]
    assert registry._staff_rows_query.cache_info().misses == 2
