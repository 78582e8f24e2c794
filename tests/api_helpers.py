"""Helpers of the API tests: tokens for a user, and checks of problem documents."""

from __future__ import annotations

from datetime import timedelta

from portal.api import tokens
from portal.common.clock import utcnow
from portal.extensions import db


def token_for(user, scope: str = "read-write", days: int = 30, name: str = "test") -> str:
    created = tokens.create_token(user, name, scope, utcnow() + timedelta(days=days), user)
    db.session.commit()
    return created.secret


def bearer(secret: str) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["type"].startswith("/api/v1/docs#")
    return body
