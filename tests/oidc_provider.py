"""A real OpenID Connect provider on a local port, for the ProConnect tests.

``oidc-provider-mock`` serves discovery, JWKS, the authorization and token endpoints (id_tokens signed with its own
RSA key) and a JSON userinfo. A thin WSGI wrapper in front of it can behave like ProConnect — answer the userinfo
as a JWT signed by a test key that it publishes in the JWKS — or misbehave on purpose: break the id_token's
signature, re-sign it for another audience, sign the userinfo with a key it does not publish. What is not changed
on purpose is the mock's own answer, so the portal's verification runs against real tokens.
"""

from __future__ import annotations

import base64
import html
import json
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode, urlsplit

import oidc_provider_mock
import requests
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

HOST = "127.0.0.1"
CLIENT_ID = "portail-cdg"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key(kid: str) -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": kid, "alg": "RS256", "use": "sig"})


@dataclass
class Provider:
    """The wrapper's switches; see the module docstring."""

    # The userinfo answered as ``application/jwt`` signed with this key (published in the JWKS unless
    # ``publish_userinfo_key`` is false), with these claims changed.
    userinfo_key: RSAKey | None = None
    publish_userinfo_key: bool = True
    userinfo_changes: dict = field(default_factory=dict)
    # More public keys in the JWKS.
    extra_jwks: list = field(default_factory=list)
    # The id_token re-signed with this key (published, with its key id, as ProConnect's keys are), after the
    # claims of ``id_token_changes`` are changed. The mock signs without a key id, which verifies only while its
    # key is alone in the JWKS: once test keys are published, id_tokens must carry a key id too.
    id_token_key: RSAKey | None = None
    id_token_changes: dict = field(default_factory=dict)
    # The id_token's payload changed without re-signing it (the signature no longer matches).
    id_token_tamper: dict | None = None
    served_jwt_userinfo: int = 0
    base_url: str = ""

    def __post_init__(self):
        self.mock = oidc_provider_mock.app(require_nonce=True, issue_refresh_token=False)

    @property
    def discovery_url(self) -> str:
        return f"{self.base_url}/.well-known/openid-configuration"

    @property
    def issuer(self) -> str:
        return self.base_url

    def like_proconnect(self) -> None:
        """Tokens signed with keys that have a key id, the userinfo as a signed JWT (``application/jwt``)."""
        self.id_token_key = new_key("cle-id-token")
        self.userinfo_key = new_key("cle-userinfo")

    def set_user(self, sub: str, **claims) -> None:
        response = requests.put(f"{self.base_url}/users/{sub}", json=claims, timeout=5)
        assert response.status_code == 204, response.text

    def __call__(self, environ, start_response):
        request = Request(environ)
        inner = Response.from_app(self.mock, environ)
        if request.path == "/jwks":
            keys = json.loads(inner.get_data())
            published = [*self.extra_jwks, *([self.id_token_key] if self.id_token_key else [])]
            if self.userinfo_key is not None and self.publish_userinfo_key:
                published.append(self.userinfo_key)
            keys["keys"].extend(key.as_dict(private=False) for key in published)
            inner = Response(json.dumps(keys), content_type="application/json")
        elif request.path == "/oauth2/token" and inner.status_code == 200:
            body = json.loads(inner.get_data())
            if self.id_token_key is not None:
                claims = {**json.loads(_unb64(body["id_token"].split(".")[1])), **self.id_token_changes}
                body["id_token"] = jwt.encode({"alg": "RS256", "kid": self.id_token_key.kid}, claims, self.id_token_key)
            if self.id_token_tamper is not None:
                header, payload, signature = body["id_token"].split(".")
                claims = {**json.loads(_unb64(payload)), **self.id_token_tamper}
                body["id_token"] = ".".join([header, _b64(json.dumps(claims).encode()), signature])
            inner = Response(json.dumps(body), content_type="application/json")
        elif request.path == "/userinfo" and inner.status_code == 200 and self.userinfo_key is not None:
            now = int(time.time())
            claims = {
                **json.loads(inner.get_data()),
                "iss": self.issuer,
                "aud": CLIENT_ID,
                "iat": now,
                "exp": now + 60,
                **self.userinfo_changes,
            }
            token = jwt.encode({"alg": "RS256", "kid": self.userinfo_key.kid}, claims, self.userinfo_key)
            self.served_jwt_userinfo += 1
            inner = Response(token, content_type="application/jwt; charset=utf-8")
        return inner(environ, start_response)


class RunningProvider:
    """The provider served by werkzeug in a thread, on a free port, until ``stop``."""

    def __init__(self, provider: Provider):
        self.provider = provider
        self.server = make_server(HOST, 0, provider, threaded=True)
        provider.base_url = f"http://{HOST}:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def authorize(authorization_url: str, sub: str, **changes) -> str:
    """What the agent does at the provider: choose the identity ``sub`` and come back. ``changes`` replace query
    parameters of the authorization request on the way (a forged ``nonce``). Returns the portal's callback path
    with its query string."""
    if changes:
        parts = urlsplit(authorization_url)
        query = dict(parse_qsl(parts.query))
        query.update(changes)
        authorization_url = parts._replace(query=urlencode(query)).geturl()
    response = requests.post(authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text[:500]
    return _local(response.headers["Location"])


def deny(authorization_url: str) -> str:
    """The agent refuses at the provider: back with ``error=access_denied``."""
    response = requests.post(authorization_url, data={"action": "deny"}, allow_redirects=False, timeout=5)
    assert response.status_code == 302, response.text[:500]
    return _local(response.headers["Location"])


def end_session(end_session_url: str) -> str:
    """What the browser does with the portal's logout link: the provider's page, its confirmation, back to the
    portal's post-logout address (path and query)."""
    page = requests.get(end_session_url, timeout=5)
    assert page.status_code == 200, page.text[:500]
    redirect_uri = html.unescape(re.search(r'name="redirect_uri" value="([^"]+)"', page.text).group(1))
    confirm = requests.post(
        f"{_origin(end_session_url)}/oauth2/end_session/confirm",
        data={"redirect_uri": redirect_uri},
        allow_redirects=False,
        timeout=5,
    )
    assert confirm.status_code == 302
    return _local(confirm.headers["Location"])


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
