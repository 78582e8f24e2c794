"""Schemathesis against the OpenAPI document the app serves: for every operation, requests generated from the
schema (valid ones, then invalid ones), authenticated with a staff token and with a secretary's token, give no
server error, and every response matches what the document says for its status (problems included).

The rate limits are raised for this run, so that every operation is really exercised (at the defaults, the later
operations of the walk were answered 429, which the document allows, and so checked nothing).

The operations are walked by hand with ``as_strategy`` (schemathesis' pytest plugin does not run under the
pytest of this project), each with a modest number of examples. Failures are collected rather than raised at the
first one, so that the assertion lists them all; a server error raised inside the app propagates (testing mode).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.common.clock import paris_today
from portal.conventions.demo import load_conventions
from portal.demo.catalogue import load_catalogue
from portal.extensions import db
from portal.subscriptions import services as subscription_services
from portal.training.registrations import register
from tests import factories
from tests.api_helpers import token_for
from tests.conftest import clean_tables

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 25, GenerationMode.NEGATIVE: 10}


@pytest.fixture
def roomy_app(app_factory):
    """The test app with rate limits far above what the run sends."""
    app = app_factory(
        CELERY_TASK_ALWAYS_EAGER="1", API_RATE_LIMIT="1000000/minute", API_ANON_RATE_LIMIT="1000000/minute"
    )
    with app.app_context():
        yield app
        db.session.remove()
        clean_tables()


def build_data():
    """A commune with a headcount, a subscription, a convention and training registrations, seen by both callers."""
    catalogue = {s.code: s for s in load_catalogue(paris_today().year)}
    body = factories.collectivite("Laroque-Timbaut", insee="47138")
    factories.declare(body, paris_today().year, 12)
    staff = factories.user("staff", email="schemathesis@cdg47.fr")
    secretary = factories.user("secretary", email="secretaire@laroque.fr", collectivites=[body])
    subscription_services.request_subscription(
        body,
        catalogue["gestion-personnels"],
        subscription_services.RequestInput(start_date=paris_today() + timedelta(days=20), quantities={"agents": 4}),
        secretary,
    )
    load_conventions({"47138": body}, staff, log=lambda _m: None)
    session = factories.training_session(capacity=1)
    for name in ("Élue Une", "Élu Deux"):  # one registered, one on the waiting list
        elu = factories.elu(body, name)
        register(session, elu.mandate, elu)
    db.session.commit()
    return {"staff": token_for(staff), "secretary": token_for(secretary)}


def exercise(operation, who: str, secret: str, statuses: dict, failures: list) -> None:
    """Send the operation's generated requests as ``who``; count the statuses, collect the failed checks."""
    headers = {"Authorization": f"Bearer {secret}"}
    for mode, examples in EXAMPLES.items():

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case):
            response = case.call(headers=headers)
            statuses[(who, operation.label)][response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS, headers=headers)
            except (Failure, FailureGroup) as exc:
                failures.append(f"{who} — {operation.label}: {exc}")

        check()


def test_api_conforms_to_its_openapi_document_for_staff_and_a_secretary(roomy_app):
    tokens = build_data()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", roomy_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    failures: list[str] = []
    statuses: dict[tuple[str, str], Counter] = defaultdict(Counter)
    for operation in operations:
        for who, secret in tokens.items():
            exercise(operation, who, secret, statuses, failures)

    assert failures == []  # no server error, no response outside the document
    assert all(429 not in counts for counts in statuses.values()), "a rate limit answered instead of the operation"
    lists = [op.label for op in operations if op.method.upper() == "GET" and "{" not in op.path]
    assert len(lists) >= 5
    for label in lists:
        for who in tokens:
            assert statuses[(who, label)][200] > 0, f"{label} never answered 200 to the {who}"
