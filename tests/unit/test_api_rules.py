"""Pure pieces of the API: token secrets and hashes, the Authorization header, expiry, the French translation
of pydantic's errors, problem documents."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import BaseModel, Field, ValidationError

from portal.api import rules, validation

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def test_new_secret_is_random_marked_and_hashed_with_sha256():
    first, second = rules.new_secret(), rules.new_secret()
    assert first.secret != second.secret
    assert first.secret.startswith("cdg_") and len(first.secret) >= 40
    assert first.prefix == first.secret[:12]
    assert first.digest == hashlib.sha256(first.secret.encode()).hexdigest() == rules.hash_secret(first.secret)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("", None),
        ("Basic abc", None),
        ("Bearer cdg_abc", "cdg_abc"),
        ("bearer   cdg_abc  ", "cdg_abc"),
        ("Bearer", ""),
        ("Bearer a b", ""),
        ("Bearer " + "x" * 201, ""),
    ],
)
def test_bearer_token(header, expected):
    assert rules.bearer_token(header) == expected


def test_lifetime_is_future_and_at_most_a_year():
    assert rules.lifetime_problem(NOW - timedelta(seconds=1), NOW) == "La date d'expiration doit être dans le futur."
    assert rules.lifetime_problem(NOW + timedelta(days=366), NOW) is None
    assert rules.lifetime_problem(NOW + timedelta(days=367), NOW) == "Un jeton est valable un an au plus."


def test_last_use_is_touched_once_a_minute():
    assert rules.should_touch(None, NOW)
    assert not rules.should_touch(NOW - timedelta(seconds=59), NOW)
    assert rules.should_touch(NOW - timedelta(seconds=60), NOW)


class Sample(BaseModel):
    annee: int = Field(strict=True, ge=2000)
    nombre: int = Field(ge=0, le=10)
    nom: str = Field(max_length=3)
    etat: int = 0


def errors_of(data) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        Sample.model_validate(data)
    return {e["pointer"]: e["detail"] for e in validation.body_errors(caught.value)}


def test_pydantic_errors_in_french_with_pointers():
    assert errors_of({"nombre": -1, "nom": "abcd", "etat": "x"}) == {
        "/annee": "Ce champ est obligatoire.",
        "/nombre": "Doit être supérieur ou égal à 0.",
        "/nom": "Doit comporter au plus 3 caractères.",
        "/etat": "Doit être un entier.",
    }
    assert errors_of({"annee": "2020", "nombre": 11, "nom": "a"}) == {
        "/annee": "Doit être un entier.",
        "/nombre": "Doit être inférieur ou égal à 10.",
    }


def test_json_pointer_escapes():
    assert validation.json_pointer(("ecoles", 0, "uai")) == "/ecoles/0/uai"
    assert validation.json_pointer(("a/b", "c~d")) == "/a~1b/c~0d"


def test_unknown_error_type_has_a_french_fallback():
    assert validation.french_message({"type": "something_new"}) == "Valeur invalide."
    assert validation.french_message({"type": "literal_error", "ctx": {"expected": "'a' or 'b'"}}) == (
        "Doit valoir l'une de ces valeurs : 'a' ou 'b'."
    )


def test_problem_body(app):
    from portal.api.problems import problem_body

    body = problem_body(422, errors=[{"pointer": "/annee", "detail": "Ce champ est obligatoire."}])
    assert body == {
        "type": "/api/v1/docs#erreur-422",
        "title": "Données invalides",
        "status": 422,
        "detail": "Certaines données sont invalides : voir la liste « errors ».",
        "errors": [{"pointer": "/annee", "detail": "Ce champ est obligatoire."}],
    }
    assert problem_body(418)["title"] == "Requête incorrecte"
