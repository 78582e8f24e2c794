"""The one place where the portal's settings are read.

Every setting comes from the environment (12-factor), with defaults that give the
embedded deployment: SQLite and Celery on kombu's SQLAlchemy transport, both under
``instance/``. Production (``PORTAL_ENV=production``, the default) refuses to start
without ``SECRET_KEY``; development and demo modes generate one and keep it in
``instance/`` so that sessions survive a restart.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

ENVIRONMENTS = ("production", "development", "demo", "testing")
# The CDG of the demonstration; a CDG sets CDG_NAME to its own.
DEFAULT_CDG_NAME = "Centre de gestion de la fonction publique territoriale de Lot-et-Garonne"


class ConfigurationError(RuntimeError):
    """A setting that production needs is missing or wrong: start-up stops."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on", "oui"}


def _int(environ, name: str, default: int) -> int:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigurationError(f"{name} doit être un nombre entier (reçu : {raw!r}).") from exc


def _positive_int(environ, name: str, default: int) -> int:
    """A whole number greater than zero (a duration, a count): anything else stops start-up."""
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigurationError(f"{name} doit être un nombre entier supérieur à zéro (reçu : {raw!r}).")
    return value


def _non_negative(environ, name: str, default: int) -> int:
    value = _int(environ, name, default)
    if value < 0:
        raise ConfigurationError(f"{name} doit être un nombre entier positif ou nul (reçu : {value}).")
    return value


def _float(environ, name: str, default: float) -> float:
    raw = environ.get(name)
    if raw in (None, ""):
        return default
    try:
        return float(raw.replace(",", "."))
    except ValueError as exc:
        raise ConfigurationError(f"{name} doit être un nombre (reçu : {raw!r}).") from exc


def _persistent_dev_secret(instance_path: Path) -> str:
    """A random key kept in instance/ so that development sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


# ProConnect (the State's single sign-on for public agents): what the portal asks for by default. ``openid`` is
# required; the others are the identity ProConnect's identity providers always transmit.
PROCONNECT_DEFAULT_SCOPES = "openid email given_name usual_name siret uid"
PROCONNECT_VARIABLES = ("PROCONNECT_CLIENT_ID", "PROCONNECT_CLIENT_SECRET", "PROCONNECT_DISCOVERY_URL")


def _proconnect(environ, env: str) -> dict:
    """The ProConnect client: all three variables or none (the button is then hidden); the discovery URL in
    HTTPS outside development and tests. ``PROCONNECT_ORIGIN`` (scheme and host of the discovery URL, where
    ProConnect's authorization endpoint is) is the one origin besides the portal that the content security policy
    lets a form lead to."""
    values = {name: (environ.get(name) or "").strip() for name in PROCONNECT_VARIABLES}
    given = [name for name, value in values.items() if value]
    if given and len(given) != len(values):
        missing = [name for name in values if not values[name]]
        raise ConfigurationError(
            f"ProConnect est configuré à moitié : définissez aussi {', '.join(missing)} "
            f"(ou aucune des variables {', '.join(PROCONNECT_VARIABLES)} pour le désactiver)."
        )
    scopes = " ".join((environ.get("PROCONNECT_SCOPES") or PROCONNECT_DEFAULT_SCOPES).split())
    origin = None
    if given:
        url = urlsplit(values["PROCONNECT_DISCOVERY_URL"])
        if url.scheme not in {"http", "https"} or not url.netloc:
            raise ConfigurationError(
                "PROCONNECT_DISCOVERY_URL doit être une adresse complète, par exemple "
                "https://proconnect.gouv.fr/api/v2/.well-known/openid-configuration."
            )
        if url.scheme != "https" and env not in {"development", "testing"}:
            raise ConfigurationError("PROCONNECT_DISCOVERY_URL doit être une adresse en https.")
        if "openid" not in scopes.split():
            raise ConfigurationError(f"PROCONNECT_SCOPES doit contenir openid (reçu : {scopes!r}).")
        origin = f"{url.scheme}://{url.netloc}"
    return {
        **{name: value or None for name, value in values.items()},
        "PROCONNECT_SCOPES": scopes,
        "PROCONNECT_ENABLED": bool(given),
        "PROCONNECT_ORIGIN": origin,
        # The ProConnect button is a form whose answer redirects to the provider (portal.common.security).
        "CSP_FORM_ACTIONS": (origin,) if origin else (),
    }


CAMPAIGN_REMINDER_RE = re.compile(r"^J[+-]\d{1,3}$")


def _campaign_reminders(environ) -> tuple[str, ...]:
    """``CAMPAIGN_REMINDERS``: days of the campaign reminders, ``J+15`` after the opening, ``J-3`` before the
    deadline, comma-separated (empty: no reminder). Anything else stops start-up."""
    raw = environ.get("CAMPAIGN_REMINDERS")
    raw = "J+15,J+30,J-3" if raw is None else raw
    codes = tuple(part.strip().upper().replace(" ", "") for part in raw.split(",") if part.strip())
    for code in codes:
        if not CAMPAIGN_REMINDER_RE.match(code) or code == "J+0":
            raise ConfigurationError(
                f"CAMPAIGN_REMINDERS : « {code} » n'est pas une relance (écrivez par exemple J+15,J+30,J-3 : "
                "jours après l'ouverture, jours avant la date limite)."
            )
    if len(set(codes)) != len(codes):
        raise ConfigurationError(f"CAMPAIGN_REMINDERS : une relance est en double ({raw!r}).")
    return codes


def _response_cache(environ) -> dict:
    """``RESPONSE_CACHE``: where the pages everyone reads the same way are kept (portal.common.page_cache): ``simple``
    (the default: in each process, the embedded mode), a ``redis://`` URL (shared by every process and machine of a
    scale-out), or ``off``. Anything else stops start-up."""
    raw = (environ.get("RESPONSE_CACHE") or "simple").strip()
    if raw.lower() == "off":
        return {"RESPONSE_CACHE_ENABLED": False, "CACHE_TYPE": "NullCache"}
    if raw.lower() == "simple":
        return {"RESPONSE_CACHE_ENABLED": True, "CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 500}
    if raw.startswith(("redis://", "rediss://", "unix://")):
        return {"RESPONSE_CACHE_ENABLED": True, "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": raw}
    raise ConfigurationError(
        f"RESPONSE_CACHE doit valoir simple, off ou l'URL d'un Redis (redis://…) ; reçu : {raw!r}."
    )


def normalise_database_url(url: str) -> str:
    """Accept the usual ``postgres://`` and ``postgresql://`` spellings and use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def build_config(instance_path: str | os.PathLike, environ=None) -> dict:
    """Return the Flask configuration mapping, read from ``environ`` (``os.environ`` by default)."""
    environ = os.environ if environ is None else environ
    instance = Path(instance_path)
    env = (environ.get("PORTAL_ENV") or "production").strip().lower()
    if env not in ENVIRONMENTS:
        raise ConfigurationError(
            f"PORTAL_ENV doit valoir l'une de ces valeurs : {', '.join(ENVIRONMENTS)} (reçu : {env!r})."
        )

    secret_key = environ.get("SECRET_KEY") or ""
    if not secret_key:
        if env == "production":
            raise ConfigurationError(
                "SECRET_KEY n'est pas définie. En production, définissez une clé secrète longue et aléatoire "
                "(par exemple : python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "ou lancez le portail en mode démonstration avec PORTAL_ENV=demo."
            )
        secret_key = "testing-secret-key" if env == "testing" else _persistent_dev_secret(instance)

    database_url = normalise_database_url(environ.get("DATABASE_URL") or f"sqlite:///{instance / 'portal.sqlite3'}")
    broker_url = environ.get("CELERY_BROKER_URL") or f"sqla+sqlite:///{instance / 'celery-broker.sqlite3'}"
    secure_cookies = _bool(environ.get("SESSION_COOKIE_SECURE"), default=env == "production")
    max_upload_mb = _int(environ, "CONVENTION_MAX_UPLOAD_MB", 10)
    # Files of accounts to import (secretaries): issue 14 refuses them above 20 MB.
    import_max_mb = _positive_int(environ, "IMPORT_MAX_UPLOAD_MB", 20)
    campaign_max_mb = _positive_int(environ, "CAMPAIGN_MAX_UPLOAD_MB", 10)
    # A request body may hold the largest upload plus the form around it (boundaries, CSRF token, fields).
    max_request_mb = _int(environ, "PORTAL_MAX_REQUEST_MB", max(max_upload_mb, import_max_mb, campaign_max_mb) + 1)
    if max_request_mb <= max_upload_mb:
        raise ConfigurationError(
            f"PORTAL_MAX_REQUEST_MB ({max_request_mb}) doit dépasser CONVENTION_MAX_UPLOAD_MB ({max_upload_mb}) : "
            "sinon les plus gros documents autorisés seraient refusés."
        )
    if max_request_mb <= import_max_mb:
        raise ConfigurationError(
            f"PORTAL_MAX_REQUEST_MB ({max_request_mb}) doit dépasser IMPORT_MAX_UPLOAD_MB ({import_max_mb}) : "
            "sinon les plus gros fichiers à importer autorisés seraient refusés."
        )
    if max_request_mb <= campaign_max_mb:
        raise ConfigurationError(
            f"PORTAL_MAX_REQUEST_MB ({max_request_mb}) doit dépasser CAMPAIGN_MAX_UPLOAD_MB ({campaign_max_mb}) : "
            "sinon les plus grosses délibérations autorisées seraient refusées."
        )

    return {
        "PORTAL_ENV": env,
        "TESTING": env == "testing",
        "SECRET_KEY": secret_key,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # No ping on every checkout (a round trip per request): a connection is checked only when it comes back
        # after DATABASE_IDLE_PING_SECONDS unused, and one found dead is replaced (portal.common.database).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": False},
        "DATABASE_IDLE_PING_SECONDS": _non_negative(environ, "DATABASE_IDLE_PING_SECONDS", 30),
        "SQLALCHEMY_RECORD_QUERIES": False,
        "BABEL_DEFAULT_LOCALE": "fr",
        "WTF_CSRF_TIME_LIMIT": 8 * 3600,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_SECURE": secure_cookies,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,
        "PREFERRED_URL_SCHEME": environ.get("PREFERRED_URL_SCHEME") or ("https" if env == "production" else "http"),
        "SERVER_NAME": environ.get("SERVER_NAME") or None,
        "PORTAL_BASE_URL": environ.get("PORTAL_BASE_URL") or f"http://localhost:{environ.get('PORT') or '5000'}",
        "PORTAL_PAGE_SIZE": _int(environ, "PORTAL_PAGE_SIZE", 50),
        # Largest request body (MB): a bigger one is refused with 413 on its Content-Length, before it is read.
        "MAX_CONTENT_LENGTH": max_request_mb * 1024 * 1024,
        # Reverse proxies in front of the portal whose X-Forwarded-For and X-Forwarded-Proto are believed
        # (Werkzeug's ProxyFix). 0: the headers are ignored, the client is the peer of the WSGI server.
        "TRUSTED_PROXY_COUNT": _non_negative(environ, "TRUSTED_PROXY_COUNT", 0),
        # The CDG's full name, as it heads its documents (portal.common.cdg).
        "CDG_NAME": environ.get("CDG_NAME") or DEFAULT_CDG_NAME,
        # Its territory as French writes it after a noun, preposition included ("de Lot-et-Garonne", "du Gers",
        # "de l'Ain"): « les collectivités de Lot-et-Garonne », « le CDG du Gers ».
        "CDG_TERRITORY": (environ.get("CDG_TERRITORY") or "de Lot-et-Garonne").strip(),
        # The short name people use ("CDG 47"): the portal's title, « Portail CDG 47 ».
        "CDG_ACRONYM": (environ.get("CDG_ACRONYM") or "CDG 47").strip(),
        # Its postal address, lines separated by "|" (« Maison des collectivités|14 rue Paul Bert|47000 Agen »),
        # and how to reach it (« 05 53 00 00 00 · contact@cdg47.fr »): the letterhead of its documents.
        "CDG_ADDRESS": [line.strip() for line in (environ.get("CDG_ADDRESS") or "").split("|") if line.strip()],
        "CDG_CONTACT": (environ.get("CDG_CONTACT") or "").strip(),
        # The départements the CDG serves (INSEE codes, comma-separated): the EPCI filter lists their EPCI.
        # Empty: every département (a national federation).
        "CDG_DEPARTEMENTS": [c.strip() for c in (environ.get("CDG_DEPARTEMENTS", "47") or "").split(",") if c.strip()],
        # Login throttling (accounts.rules.login_counters): failed attempts tolerated in the window on one account
        # from one address (the limit a person meets), on one account from every address (25 in 15 minutes:
        # 100 an hour at most, OWASP ASVS V2.2.1), and on every account from one address (a town hall's NAT).
        "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS": _int(environ, "LOGIN_MAX_FAILURES_PER_ACCOUNT_AND_ADDRESS", 5),
        "LOGIN_MAX_FAILURES_PER_ACCOUNT": _int(environ, "LOGIN_MAX_FAILURES_PER_ACCOUNT", 25),
        "LOGIN_MAX_FAILURES_PER_ADDRESS": _int(environ, "LOGIN_MAX_FAILURES_PER_ADDRESS", 100),
        "LOGIN_THROTTLE_WINDOW_SECONDS": _int(environ, "LOGIN_THROTTLE_WINDOW_SECONDS", 15 * 60),
        "PASSWORD_RESET_MAX_AGE_SECONDS": _int(environ, "PASSWORD_RESET_MAX_AGE_SECONDS", 3600),
        "INVITATION_MAX_AGE_DAYS": _positive_int(environ, "INVITATION_MAX_AGE_DAYS", 7),
        # Password-reset requests answered with an email, per email address (known or not) and per IP address,
        # in the window (a database counter: the same in every process).
        "PASSWORD_RESET_MAX_PER_EMAIL": _int(environ, "PASSWORD_RESET_MAX_PER_EMAIL", 3),
        "PASSWORD_RESET_MAX_PER_ADDRESS": _int(environ, "PASSWORD_RESET_MAX_PER_ADDRESS", 10),
        "PASSWORD_RESET_THROTTLE_WINDOW_SECONDS": _int(environ, "PASSWORD_RESET_THROTTLE_WINDOW_SECONDS", 3600),
        # Access requests (portal.access) accepted per email address (known or not) and per IP address in the window.
        "ACCESS_REQUEST_MAX_PER_EMAIL": _int(environ, "ACCESS_REQUEST_MAX_PER_EMAIL", 3),
        "ACCESS_REQUEST_MAX_PER_ADDRESS": _int(environ, "ACCESS_REQUEST_MAX_PER_ADDRESS", 10),
        "ACCESS_REQUEST_THROTTLE_WINDOW_SECONDS": _int(environ, "ACCESS_REQUEST_THROTTLE_WINDOW_SECONDS", 24 * 3600),
        # Mail: a real SMTP server in production; make run starts a local sink on 127.0.0.1:8025.
        "MAIL_SERVER": environ.get("MAIL_SERVER") or "127.0.0.1",
        "MAIL_PORT": _int(environ, "MAIL_PORT", 8025 if env != "production" else 25),
        "MAIL_USE_TLS": _bool(environ.get("MAIL_USE_TLS")),
        "MAIL_USE_SSL": _bool(environ.get("MAIL_USE_SSL")),
        "MAIL_USERNAME": environ.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": environ.get("MAIL_PASSWORD") or None,
        "MAIL_TIMEOUT_SECONDS": _int(environ, "MAIL_TIMEOUT_SECONDS", 10),
        "MAIL_DEFAULT_SENDER": environ.get("MAIL_DEFAULT_SENDER") or "Portail CDG 47 <ne-pas-repondre@cdg47.example>",
        "MAIL_MESSAGE_ID_DOMAIN": environ.get("MAIL_MESSAGE_ID_DOMAIN") or "portail.cdg47.example",
        # Partner conventions: alert delay before a deadline (days), maximum size of an attached document (MB).
        "CONVENTION_ALERT_DAYS": _int(environ, "CONVENTION_ALERT_DAYS", 90),
        "CONVENTION_MAX_UPLOAD_MB": max_upload_mb,
        "IMPORT_MAX_UPLOAD_MB": import_max_mb,
        # Campaigns (headcounts, deliberations): reminders to the bodies that have not answered, largest document.
        "CAMPAIGN_REMINDERS": _campaign_reminders(environ),
        "CAMPAIGN_MAX_UPLOAD_MB": campaign_max_mb,
        # Training of élus: hours to confirm a freed seat, name shown as organiser of the invitations.
        "TRAINING_OFFER_HOURS": _int(environ, "TRAINING_OFFER_HOURS", 48),
        "TRAINING_ORGANISER_NAME": environ.get("TRAINING_ORGANISER_NAME") or "CDG 47 — Formation des élus",
        # Public API: rate limits per token and per address ("N/second|minute|hour|day"), shared by the
        # workers through RATELIMIT_STORAGE_URI: memory:// (one counter per process) in the embedded mode,
        # the Redis URL (e.g. redis://redis:6379/1) when several processes or machines serve the portal.
        "API_RATE_LIMIT": environ.get("API_RATE_LIMIT") or "600/minute",
        "API_ANON_RATE_LIMIT": environ.get("API_ANON_RATE_LIMIT") or "60/minute",
        "RATELIMIT_STORAGE_URI": environ.get("RATELIMIT_STORAGE_URI") or "memory://",
        # How often a worker polls the embedded (SQLite) broker for new messages; kombu's 1 s default caps a
        # worker at about two tasks a second. Redis pushes messages and ignores it.
        "EMBEDDED_BROKER_POLLING_SECONDS": _float(environ, "EMBEDDED_BROKER_POLLING_SECONDS", 0.1),
        # Email outbox (README, « Exploitation »): how long a worker keeps an email it is sending before the
        # sweep gives it to another worker (the lease: also that of the enrolment document jobs), attempts
        # before giving up, period of beat's sweep.
        "OUTBOX_LEASE_SECONDS": _positive_int(environ, "OUTBOX_LEASE_SECONDS", 300),
        "OUTBOX_MAX_ATTEMPTS": _positive_int(environ, "OUTBOX_MAX_ATTEMPTS", 8),
        "OUTBOX_SWEEP_SECONDS": _positive_int(environ, "OUTBOX_SWEEP_SECONDS", 60),
        # ProConnect login (README, « ProConnect »): client id and secret given by ProConnect, discovery URL.
        **_proconnect(environ, env),
        # Response cache (portal.common.page_cache): entries are keyed by the data's version token, so a change
        # never serves an old page; the timeout only frees the memory of entries no longer asked for.
        **_response_cache(environ),
        "CACHE_DEFAULT_TIMEOUT": _positive_int(environ, "RESPONSE_CACHE_SECONDS", 600),
        "CACHE_KEY_PREFIX": "portal-page:",
        # The staff home's work queue is kept this many seconds per agent (page_cache.cached_for): a change made by
        # someone else shows within that delay, the agent's own at once. 0 keeps nothing (the tests' default: they
        # change data behind the pages' back; the cache has its own tests).
        "WORK_QUEUE_CACHE_SECONDS": _non_negative(environ, "WORK_QUEUE_CACHE_SECONDS", 0 if env == "testing" else 15),
        "CELERY": {
            "broker_url": broker_url,
            # Celery lets CELERY_BROKER_URL in the environment override broker_url; read and write URLs
            # are taken from here first, so that the app's own configuration (tests, overrides) wins.
            "broker_read_url": broker_url,
            "broker_write_url": broker_url,
            "result_backend": environ.get("CELERY_RESULT_BACKEND") or None,
            "task_ignore_result": True,
            "task_serializer": "json",
            "result_serializer": "json",
            "accept_content": ["json"],
            "task_acks_late": True,
            "task_reject_on_worker_lost": True,
            "worker_prefetch_multiplier": 1,
            "task_always_eager": _bool(environ.get("CELERY_TASK_ALWAYS_EAGER")),
            "broker_connection_retry_on_startup": True,
            "beat_schedule_filename": str(instance / "celerybeat-schedule"),
        },
    }
