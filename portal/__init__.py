"""Portail CDG: the mutualised-services portal of a Centre de Gestion.

``create_app`` reads like a table of contents: configuration, extensions,
blueprints, error pages, security headers, commands.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from portal.config import build_config

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder="static",
    )
    overrides = dict(overrides or {})
    environ = overrides.pop("ENVIRON", None)
    app.config.from_mapping(build_config(app.instance_path, environ))
    app.config.update(overrides)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from portal.common.clock import PARIS_TIMEZONE
    from portal.common.database import configure_engine_events
    from portal.common.i18n import LOCALE, TRANSLATIONS_DIR, gettext
    from portal.common.labels import N_
    from portal.extensions import babel, cache, celery_init_app, csrf, db, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), compare_type=True, render_as_batch=True)
    csrf.init_app(app)
    cache.init_app(app)
    # One locale, French; its catalogue (plural rule, plural messages) is the one Jinja and portal.common.i18n read.
    babel.init_app(
        app,
        locale_selector=lambda: LOCALE,
        default_translation_directories=str(TRANSLATIONS_DIR),
        default_timezone=PARIS_TIMEZONE,
        timezone_selector=lambda: PARIS_TIMEZONE,
    )
    login_manager.init_app(app)
    with app.app_context():
        configure_engine_events(db.engine, app.config["DATABASE_IDLE_PING_SECONDS"])
    # Beat's crontab hours (the daily jobs at 00:30) are Paris hours.
    app.config["CELERY"].setdefault("timezone", PARIS_TIMEZONE)
    celery_init_app(app)
    # Models must be imported for Alembic and for relationship resolution.
    import portal.models  # noqa: F401
    import portal.tasks  # noqa: F401  (registers the Celery tasks)
    from portal.accounts.services import load_user_from_session

    login_manager.user_loader(load_user_from_session)
    login_manager.login_view = "accounts.login"
    # Marked for extraction, translated by Flask-Login when it flashes it (a flash is stored: a plain str).
    login_manager.login_message = N_("Veuillez vous connecter pour accéder à cette page.")
    login_manager.localize_callback = gettext
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    from portal.accounts import proconnect

    proconnect.init_app(app)


def register_blueprints(app: Flask) -> None:
    from portal.common.routing import BoundedIntegerConverter, YearConverter

    # Before any route: an id too large for the database's integers, or a year outside the portal's range, is
    # a 404, not a 500.
    app.url_map.converters["int"] = BoundedIntegerConverter
    app.url_map.converters["year"] = YearConverter
    from portal.access.views import bp as access_bp
    from portal.accounts.admin_views import bp as users_bp
    from portal.accounts.import_views import bp as account_import_bp
    from portal.accounts.proconnect import bp as proconnect_bp
    from portal.accounts.views import bp as accounts_bp
    from portal.affiliation.views import bp as affiliation_bp
    from portal.audit.views import bp as audit_bp
    from portal.campaigns.views import bp as campaigns_bp
    from portal.catalogue.views import bp as catalogue_bp
    from portal.conventions.views import bp as conventions_bp
    from portal.main.views import bp as main_bp
    from portal.notifications.views import bp as notifications_bp
    from portal.people.views import bp as people_bp
    from portal.people.views import councils_bp
    from portal.registry.views import bp as registry_bp
    from portal.reports.views import bp as reports_bp
    from portal.statements.views import bp as statements_bp
    from portal.subscriptions.views import bp as subscriptions_bp
    from portal.training.rights_views import bp as training_rights_bp
    from portal.training.views import bp as training_bp
    from portal.training.views import commune_bp as training_commune_bp
    from portal.workqueue.views import bp as workqueue_bp

    blueprints = (
        main_bp,
        accounts_bp,
        users_bp,
        access_bp,
        proconnect_bp,
        registry_bp,
        affiliation_bp,
        audit_bp,
        notifications_bp,
        subscriptions_bp,
        statements_bp,
        catalogue_bp,
        conventions_bp,
        training_bp,
        training_commune_bp,
        training_rights_bp,
        people_bp,
        councils_bp,
        account_import_bp,
        campaigns_bp,
        reports_bp,
        workqueue_bp,
    )
    for blueprint in blueprints:
        app.register_blueprint(blueprint)

    from portal import api
    from portal.api.token_views import bp as api_tokens_bp
    from portal.opendata.views import bp as opendata_bp

    app.register_blueprint(api_tokens_bp)
    app.register_blueprint(opendata_bp)
    api.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    from portal.common.errors import register

    register(app)


def register_request_hooks(app: Flask) -> None:
    from portal.common.page_cache import remember_write
    from portal.common.security import set_security_headers, trust_proxies

    trust_proxies(app)
    app.after_request(set_security_headers)
    app.after_request(remember_write)


def register_template_helpers(app: Flask) -> None:
    from portal.common import templating

    templating.register(app)


def register_commands(app: Flask) -> None:
    from portal.cli import register

    register(app)
