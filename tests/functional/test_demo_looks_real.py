"""The demo looks real (issue 15, item 6): no training session on a weekend or a public holiday, each session as
long as its training's hours (7 a day, 9 h – 17 h with lunch), and the open-data list includes the 12 EPCI of
Lot-et-Garonne."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.common.clock import PARIS
from portal.common.workdays import is_working_day
from portal.demo.loader import load
from portal.extensions import db
from portal.opendata import services as opendata
from portal.registry.models import Collectivite
from portal.training.models import TrainingSession


@pytest.fixture
def demo(app):
    load(log=lambda *args, **kwargs: None)
    db.session.commit()


def test_no_session_on_a_day_off_and_each_as_long_as_its_training(demo):
    sessions = db.session.scalars(select(TrainingSession)).all()
    assert len(sessions) == 4
    for session in sessions:
        start, end = session.starts_at.astimezone(PARIS), session.ends_at.astimezone(PARIS)
        days = [start.date() + timedelta(days=n) for n in range((end.date() - start.date()).days + 1)]
        assert all(is_working_day(day) for day in days), (session.training.title, days)
        assert (start.hour, end.hour) == (9, 17)
        assert len(days) * 7 == session.training.duration_hours, (session.training.title, days)


def test_the_open_data_list_includes_the_twelve_epci_of_lot_et_garonne(demo, client):
    epci = db.session.scalars(select(Collectivite).where(Collectivite.kind.in_(("cc", "ca")))).all()
    assert len(epci) == 12 and {e.departement_code for e in epci} == {"47"}
    published = {record["siren"] for record in opendata.records()}
    assert {e.siren for e in epci} <= published
    link = next(url for url in _links(client.get("/donnees-ouvertes/").get_data(as_text=True)) if url.endswith(".csv"))
    published_csv = client.get(link).get_data(as_text=True)
    assert all(e.name in published_csv for e in epci)


def _links(page: str) -> list[str]:
    return re.findall(r'href="([^"]+)"', page)


def test_no_convention_axis_reads_as_a_placeholder(demo):
    from portal.conventions.models import Axis

    titles = list(db.session.scalars(select(Axis.title)))
    assert titles and not [t for t in titles if re.fullmatch(r"(Axe|Offre de service – axe) \d+", t)]
    assert "Intitulé à reprendre du texte signé" in titles  # an axis whose text domain.md does not give says so
