"""Who am I: the caller's account and token, so that an integration can check its setup."""

from __future__ import annotations

from datetime import datetime

from flask import g
from pydantic import Field

from portal.api.schemas import ResponseModel
from portal.api.spec import operation

TAG = "Compte"


class TokenInfo(ResponseModel):
    nom: str
    prefixe: str
    portee: str = Field(description="read ou read-write.")
    expire_le: datetime


class Me(ResponseModel):
    id: int
    nom: str
    role: str = Field(description="staff, secretary ou elu.")
    compte_de_service: bool
    collectivites: list[int] = Field(description="Identifiants des collectivités rattachées (secrétaire, élu).")
    mandat: int | None = Field(description="Mandat de l'élu (pour s'inscrire à une formation), null pour les autres.")
    jeton: TokenInfo | None = Field(description="Le jeton utilisé, ou null avec la session du portail.")


@operation("GET", "/moi", summary="Compte et jeton de l'appelant", tag=TAG, response=Me)
def me(user):
    token = g.get("api_token")
    if user.is_elu:
        attached = [user.mandate.collectivite_id] if user.mandate else []
    else:
        attached = [c.id for c in user.collectivites]
    return Me(
        id=user.id,
        nom=user.full_name,
        role=user.role,
        compte_de_service=user.is_service_account,
        collectivites=attached,
        mandat=user.mandate.id if user.is_elu and user.mandate else None,
        jeton=TokenInfo(nom=token.name, prefixe=token.prefix, portee=token.scope, expire_le=token.expires_at)
        if token is not None
        else None,
    )
