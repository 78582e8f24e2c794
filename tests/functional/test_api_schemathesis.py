"""Schemathesis against the OpenAPI document the app serves: for every operation, requests generated from the
schema (valid ones, then invalid ones), authenticated with a staff token, never give a 500, and every response
matches what the document says for its status (problems included).

The operations are walked by hand with ``as_strategy`` (schemathesis' pytest plugin does not run under the
pytest of this project), each with a modest number of examples.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from portal.extensions import db
from portal.training import services as training_services
from tests import factories
from tests.api_helpers import token_for

CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance, content_type_conformance]
EXAMPLES = {GenerationMode.POSITIVE: 30, GenerationMode.NEGATIVE: 15}


def test_api_conforms_to_its_openapi_document(app):
    body = factories.collectivite("Commune A")
    factories.declare(body, factories.THIS_YEAR, 12)
    # Training data, so that the training operations answer with real sessions and registrations.
    session = factories.training_session(capacity=1)
    for name in ("Élue Une", "Élu Deux"):  # one registered, one on the waiting list
        elu = factories.elu(body, name)
        training_services.register(session, elu.mandate, elu)
    headers = {"Authorization": f"Bearer {token_for(factories.user('staff', email='schemathesis@cdg47.fr'))}"}
    db.session.commit()
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:
        for mode, examples in EXAMPLES.items():

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
            def check(case):
                case.call_and_validate(headers=headers, checks=CHECKS)

            check()
