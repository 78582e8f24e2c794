"""Login with ProConnect, the State's single sign-on for public agents (OpenID Connect, authorization-code flow).

Authlib's Flask client does the protocol: discovery (``PROCONNECT_DISCOVERY_URL``), ``state`` kept in the session
and checked on return, ``nonce``, code exchange, id_token verified against the provider's JWKS (signature, ``iss``,
``aud``, ``exp``, ``nonce``). The userinfo is fetched with the access token: ProConnect answers a signed JWT
(``application/jwt``), verified here against the same JWKS (signature, ``iss``, ``aud``, dates); plain JSON is read
only when the provider answers JSON. Logout goes through the provider's ``end_session_endpoint`` with the id_token
kept in the session (``end_session_page``).

What the portal does with the identity (match by verified email, who may log in) is in ``proconnect_rules``.
Nothing here trusts the SIRET for anything but pre-filling the access request.
"""

from __future__ import annotations

import logging

from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from requests import RequestException

from portal.accounts import proconnect_rules as rules
from portal.accounts import services
from portal.common.i18n import gettext as _
from portal.common.security import client_address
from portal.common.urls import external_url, safe_next
from portal.extensions import db, oauth

log = logging.getLogger(__name__)

CLIENT_NAME = "proconnect"
# Seconds before a call to the provider (discovery, token, JWKS, userinfo) is given up.
HTTP_TIMEOUT_SECONDS = 10
# ProConnect requires a state and a nonce of at least 32 characters.
RANDOM_LENGTH = 48
SESSION_ID_TOKEN = "proconnect_id_token"  # noqa: S105 (a session key, not a secret)
SESSION_NEXT = "proconnect_next"

bp = Blueprint("proconnect", __name__)


class ProviderError(Exception):
    """The provider refused, could not be reached, or sent something that does not verify.

    ``reason`` is for the log (never shown); ``unreachable`` tells a network failure from a bad answer."""

    def __init__(self, reason: str, *, unreachable: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.unreachable = unreachable


def init_app(app: Flask) -> None:
    """Bind the OAuth registry and, when the three variables are set, register the ProConnect client.

    The client is kept on the app (``app.extensions``): one per app, with its own cached discovery document."""
    oauth.init_app(app)
    app.extensions.pop(CLIENT_NAME, None)
    if not app.config["PROCONNECT_ENABLED"]:
        return
    # The registry keeps one client per name: a client of an earlier app (tests create several, each with its own
    # provider) must not be reused with its discovery document.
    oauth._clients.pop(CLIENT_NAME, None)
    app.extensions[CLIENT_NAME] = oauth.register(
        CLIENT_NAME,
        client_id=app.config["PROCONNECT_CLIENT_ID"],
        client_secret=app.config["PROCONNECT_CLIENT_SECRET"],
        server_metadata_url=app.config["PROCONNECT_DISCOVERY_URL"],
        client_kwargs={
            "scope": app.config["PROCONNECT_SCOPES"],
            # ProConnect's token endpoint takes the client's credentials in the body.
            "token_endpoint_auth_method": "client_secret_post",
            "default_timeout": HTTP_TIMEOUT_SECONDS,
        },
    )


def enabled() -> bool:
    return CLIENT_NAME in current_app.extensions


def _client():
    client = current_app.extensions.get(CLIENT_NAME)
    if client is None:
        abort(404)
    return client


def access_request_url(agent: rules.Agent) -> str:
    """The access request of the login page, pre-filled with what ProConnect sent (the SIRET as a hint)."""
    return url_for("access.request_access", **rules.access_request_prefill(agent))


# The flow --------------------------------------------------------------------------------------------------------


@bp.post("/connexion/proconnect")
def login():
    """The « S'identifier avec ProConnect » button: off to the provider, with a fresh state and nonce."""
    client = _client()
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    session[SESSION_NEXT] = safe_next(request.args.get("next"))
    try:
        return client.authorize_redirect(
            external_url("proconnect.callback"),
            state=generate_token(RANDOM_LENGTH),
            nonce=generate_token(RANDOM_LENGTH),
        )
    except (RequestException, ValueError, KeyError, RuntimeError) as exc:
        return _failure(ProviderError(f"discovery failed: {type(exc).__name__}: {exc}", unreachable=True))


@bp.get("/connexion/proconnect/retour")
def callback():
    """The provider sends the browser back here with a code (or an error) and the state."""
    client = _client()
    next_url = session.pop(SESSION_NEXT, None)
    try:
        token, agent = _verified_identity(client)
    except ProviderError as exc:
        return _failure(exc)
    except rules.ClaimsRefused as exc:
        log.warning("ProConnect login refused: %s", exc.reason)
        return _failure(ProviderError(exc.reason), unverified_email=exc.reason == "unverified_email")

    user = services.find_user_by_email(agent.email)
    outcome = rules.outcome_for(
        user.role if user else None,
        user.status if user else None,
        service_account=bool(user and user.is_service_account),
    )
    ip = client_address()
    if outcome is not rules.Outcome.LOG_IN:
        services.record_proconnect_refusal(agent.email, outcome, ip, user)
        db.session.commit()
        return _refused(outcome, agent)
    services.login_with_proconnect(user, ip, sub=agent.sub)
    db.session.commit()
    login_user(user)
    session[SESSION_ID_TOKEN] = token["id_token"]
    flash(_("Bienvenue, %(name)s.", name=user.full_name), "success")
    return redirect(next_url or url_for("main.dashboard"))


def _verified_identity(client) -> tuple[dict, rules.Agent]:
    if request.args.get("error"):
        # The agent cancelled, or the provider refused the request: said on the page, nothing to verify.
        raise ProviderError(f"provider error {request.args['error']!r}: {request.args.get('error_description')!r}")
    try:
        # Checks the state against the session, exchanges the code, verifies the id_token: signature (JWKS), nonce,
        # dates, and the issuer and audience given here (Authlib checks the audience only when told to).
        metadata = client.load_server_metadata()
        token = client.authorize_access_token(
            claims_options={
                "iss": {"essential": True, "value": metadata["issuer"]},
                "aud": {"essential": True, "value": client.client_id},
            }
        )
        if not token.get("id_token") or not token.get("userinfo"):
            raise ProviderError("the token response has no id_token")
        userinfo = _userinfo(client, token)
    except RequestException as exc:
        raise ProviderError(f"{type(exc).__name__}: {exc}", unreachable=True) from exc
    except (OAuthError, JoseError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise ProviderError(f"{type(exc).__name__}: {exc}") from exc
    return token, rules.agent_from_claims(token["userinfo"], userinfo)


def _userinfo(client, token: dict) -> dict:
    """The userinfo for the access token: a signed JWT verified against the JWKS, or JSON if the provider answers
    JSON (never a JWT read without its signature)."""
    metadata = client.load_server_metadata()
    response = client.get(metadata["userinfo_endpoint"], token=token)
    response.raise_for_status()
    media_type = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if media_type == "application/jwt":
        return _verified_jwt(client, metadata, response.text.strip())
    if media_type == "application/json":
        data = response.json()
        if not isinstance(data, dict):
            raise ValueError("the userinfo is not a JSON object")
        return data
    raise ValueError(f"unexpected userinfo media type {media_type!r}")


def _verified_jwt(client, metadata: dict, value: str) -> dict:
    algorithms = metadata.get("userinfo_signing_alg_values_supported") or metadata.get(
        "id_token_signing_alg_values_supported"
    )
    registry = JWSRegistry(algorithms=algorithms, strict_check_header=False) if algorithms else None
    try:
        decoded = jwt.decode(value, KeySet.import_key_set(client.fetch_jwk_set()), registry=registry)
    except InvalidKeyIdError:
        # The provider rotated its keys since the JWKS was read.
        decoded = jwt.decode(value, KeySet.import_key_set(client.fetch_jwk_set(force=True)), registry=registry)
    claims = jwt.JWTClaimsRegistry(
        leeway=120,
        iss={"essential": True, "value": metadata["issuer"]},
        aud={"essential": True, "value": client.client_id},
    )
    claims.validate(decoded.claims)
    return dict(decoded.claims)


# Pages -----------------------------------------------------------------------------------------------------------


def _failure(exc: ProviderError, *, unverified_email: bool = False):
    log.warning("ProConnect login failed: %s", exc.reason)
    if unverified_email:
        message = _(
            "ProConnect n'a pas confirmé votre adresse électronique : le portail ne peut pas vous connecter avec "
            "elle. Connectez-vous avec votre mot de passe, ou adressez-vous au centre de gestion."
        )
    elif exc.unreachable:
        message = _(
            "ProConnect ne répond pas pour le moment. Réessayez dans quelques minutes, ou connectez-vous avec votre "
            "adresse électronique et votre mot de passe."
        )
    else:
        message = _(
            "La connexion avec ProConnect n'a pas abouti : elle a été interrompue ou la réponse reçue n'a pas pu "
            "être vérifiée. Vous n'êtes pas connecté. Recommencez depuis la page de connexion ; si le problème "
            "persiste, connectez-vous avec votre mot de passe."
        )
    status = 502 if exc.unreachable else 400
    return render_template("accounts/proconnect_failed.html", message=message), status


def _refused(outcome: rules.Outcome, agent: rules.Agent):
    return (
        render_template(
            "accounts/proconnect_refused.html",
            outcome=outcome.value,
            email=services.normalise_email(agent.email),
            access_request_url=access_request_url(agent) if outcome is rules.Outcome.UNKNOWN else None,
        ),
        403,
    )


# Logout ----------------------------------------------------------------------------------------------------------


def end_session_page(id_token: str):
    """After the portal's own logout, end the ProConnect session too, coming back to ``logged_out``.

    The logout form is answered with a page whose link goes to the provider's ``end_session_endpoint`` (followed
    at once by portal.js), not with a redirection: ProConnect redirects on to the agent's identity provider, an
    origin the content security policy cannot list, and browsers check a form's redirections against
    ``form-action``. If the provider cannot be reached, the portal's session is over all the same."""
    try:
        # Authlib keeps the state in the session and answers a redirection: its address is the link.
        end_session_url = (
            _client()
            .logout_redirect(
                post_logout_redirect_uri=external_url("proconnect.logged_out"),
                id_token_hint=id_token,
                state=generate_token(RANDOM_LENGTH),
            )
            .location
        )
    except (RequestException, ValueError, KeyError, RuntimeError) as exc:
        log.warning("ProConnect logout not sent: %s: %s", type(exc).__name__, exc)
        flash(_("Vous êtes déconnecté du portail."), "info")
        return redirect(url_for("accounts.login"))
    return render_template("accounts/proconnect_logout.html", end_session_url=end_session_url)


@bp.get("/deconnexion/proconnect/retour")
def logged_out():
    """ProConnect sends the browser back here once its session is over."""
    client = _client()
    try:
        client.validate_logout_response()
    except OAuthError as exc:
        # The portal's session is already over: only worth a line in the log.
        log.warning("ProConnect logout return with a bad state: %s", exc)
    else:
        flash(_("Vous êtes déconnecté du portail et de ProConnect."), "info")
    return redirect(url_for("accounts.login"))
