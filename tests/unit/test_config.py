"""Configuration: production refuses to start without SECRET_KEY; URLs are normalised."""

import pytest

from portal.config import ConfigurationError, build_config, normalise_database_url


def test_production_without_secret_key_stops(tmp_path):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        build_config(tmp_path, {"PORTAL_ENV": "production"})


def test_default_environment_is_production(tmp_path):
    with pytest.raises(ConfigurationError):
        build_config(tmp_path, {})


def test_demo_mode_generates_and_keeps_a_secret(tmp_path):
    first = build_config(tmp_path, {"PORTAL_ENV": "demo"})["SECRET_KEY"]
    second = build_config(tmp_path, {"PORTAL_ENV": "demo"})["SECRET_KEY"]
    assert first == second and len(first) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_embedded_defaults_live_under_instance(tmp_path):
    config = build_config(tmp_path, {"PORTAL_ENV": "development"})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'portal.sqlite3'}"
    assert config["CELERY"]["broker_url"] == f"sqla+sqlite:///{tmp_path / 'celery-broker.sqlite3'}"
    assert config["CELERY"]["task_serializer"] == "json" and config["CELERY"]["accept_content"] == ["json"]
    assert config["CELERY"]["task_acks_late"] and config["CELERY"]["worker_prefetch_multiplier"] == 1


def test_environment_chooses_the_scale_out_services(tmp_path):
    config = build_config(
        tmp_path,
        {
            "PORTAL_ENV": "production",
            "SECRET_KEY": "x" * 50,
            "DATABASE_URL": "postgres://u@db/portal",
            "CELERY_BROKER_URL": "redis://r:6379/0",
        },
    )
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db/portal"
    assert config["CELERY"]["broker_url"] == "redis://r:6379/0"
    assert config["SESSION_COOKIE_SECURE"] is True


def test_unknown_environment_and_bad_numbers_are_refused(tmp_path):
    with pytest.raises(ConfigurationError, match="PORTAL_ENV"):
        build_config(tmp_path, {"PORTAL_ENV": "prod"})
    with pytest.raises(ConfigurationError, match="PORTAL_PAGE_SIZE"):
        build_config(tmp_path, {"PORTAL_ENV": "testing", "PORTAL_PAGE_SIZE": "beaucoup"})


def test_database_url_spellings():
    assert normalise_database_url("postgresql://a@b/c") == "postgresql+psycopg://a@b/c"
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"


def test_empty_variables_mean_the_default(tmp_path):
    config = build_config(
        tmp_path,
        {
            "PORTAL_ENV": "development",
            "MAIL_SERVER": "",
            "PORTAL_BASE_URL": "",
            "PREFERRED_URL_SCHEME": "",
            "MAIL_DEFAULT_SENDER": "",
            "PORT": "8080",
        },
    )
    assert config["MAIL_SERVER"] == "127.0.0.1"
    assert config["PORTAL_BASE_URL"] == "http://localhost:8080"
    assert config["PREFERRED_URL_SCHEME"] == "http"
    assert "Portail CDG 47" in config["MAIL_DEFAULT_SENDER"]
    assert config["CDG_DEPARTEMENTS"] == ["47"]
    assert build_config(tmp_path, {"PORTAL_ENV": "development", "CDG_DEPARTEMENTS": ""})["CDG_DEPARTEMENTS"] == []
    assert build_config(tmp_path, {"PORTAL_ENV": "development", "CDG_DEPARTEMENTS": "47, 82"})["CDG_DEPARTEMENTS"] == [
        "47",
        "82",
    ]


def test_environment_name_is_case_and_space_insensitive(tmp_path):
    assert build_config(tmp_path, {"PORTAL_ENV": " Demo "})["PORTAL_ENV"] == "demo"


def test_embedded_broker_polling_interval(tmp_path):
    assert build_config(tmp_path, {"PORTAL_ENV": "testing"})["EMBEDDED_BROKER_POLLING_SECONDS"] == 0.1
    assert (
        build_config(tmp_path, {"PORTAL_ENV": "testing", "EMBEDDED_BROKER_POLLING_SECONDS": "0,5"})[
            "EMBEDDED_BROKER_POLLING_SECONDS"
        ]
        == 0.5
    )
    with pytest.raises(ConfigurationError, match="EMBEDDED_BROKER_POLLING_SECONDS"):
        build_config(tmp_path, {"PORTAL_ENV": "testing", "EMBEDDED_BROKER_POLLING_SECONDS": "vite"})


def test_request_size_follows_the_largest_upload_unless_set(tmp_path):
    mb = 1024 * 1024
    base = {"PORTAL_ENV": "development"}
    # The largest upload is an import file (IMPORT_MAX_UPLOAD_MB, 20 MB) unless conventions allow more.
    assert build_config(tmp_path, base)["MAX_CONTENT_LENGTH"] == 21 * mb
    assert build_config(tmp_path, {**base, "CONVENTION_MAX_UPLOAD_MB": "30"})["MAX_CONTENT_LENGTH"] == 31 * mb
    assert build_config(tmp_path, {**base, "IMPORT_MAX_UPLOAD_MB": "5"})["MAX_CONTENT_LENGTH"] == 11 * mb
    assert build_config(tmp_path, {**base, "PORTAL_MAX_REQUEST_MB": "25"})["MAX_CONTENT_LENGTH"] == 25 * mb
    with pytest.raises(ConfigurationError, match="PORTAL_MAX_REQUEST_MB"):
        build_config(tmp_path, {**base, "PORTAL_MAX_REQUEST_MB": "10"})
    with pytest.raises(ConfigurationError, match="IMPORT_MAX_UPLOAD_MB"):
        build_config(tmp_path, {**base, "PORTAL_MAX_REQUEST_MB": "15"})
    with pytest.raises(ConfigurationError, match="PORTAL_MAX_REQUEST_MB"):
        build_config(tmp_path, {**base, "PORTAL_MAX_REQUEST_MB": "beaucoup"})


def test_outbox_lease_is_read_from_the_environment(tmp_path):
    def lease(**environ) -> int:
        return build_config(tmp_path, {"PORTAL_ENV": "testing", **environ})["OUTBOX_LEASE_SECONDS"]

    assert lease() == 300
    assert lease(OUTBOX_LEASE_SECONDS="") == 300
    assert lease(OUTBOX_LEASE_SECONDS="120") == 120
    assert lease(OUTBOX_LEASE_SECONDS=" 90 ") == 90


@pytest.mark.parametrize("name", ["OUTBOX_LEASE_SECONDS", "OUTBOX_MAX_ATTEMPTS", "OUTBOX_SWEEP_SECONDS"])
@pytest.mark.parametrize("value", ["0", "-300", "5 min", "2.5", "1e3"])
def test_outbox_settings_must_be_positive_whole_numbers(tmp_path, name, value):
    """A lease of 0 (or less) would let every worker take over every email being sent: each would go out as many
    times as there are workers. Start-up stops instead, saying which variable and what it must be."""
    with pytest.raises(ConfigurationError, match=f"^{name} doit être un nombre entier supérieur à zéro") as error:
        build_config(tmp_path, {"PORTAL_ENV": "testing", name: value})
    assert repr(value) in str(error.value)


def test_trusted_proxies_default_to_none_and_cannot_be_negative(tmp_path):
    assert build_config(tmp_path, {"PORTAL_ENV": "testing"})["TRUSTED_PROXY_COUNT"] == 0
    assert build_config(tmp_path, {"PORTAL_ENV": "testing", "TRUSTED_PROXY_COUNT": "2"})["TRUSTED_PROXY_COUNT"] == 2
    with pytest.raises(ConfigurationError, match="TRUSTED_PROXY_COUNT"):
        build_config(tmp_path, {"PORTAL_ENV": "testing", "TRUSTED_PROXY_COUNT": "-1"})


PROCONNECT = {
    "PROCONNECT_CLIENT_ID": "portail-cdg",
    "PROCONNECT_CLIENT_SECRET": "secret",
    "PROCONNECT_DISCOVERY_URL": "https://proconnect.gouv.fr/api/v2/.well-known/openid-configuration",
}


def test_proconnect_is_off_without_its_variables(tmp_path):
    config = build_config(tmp_path, {"PORTAL_ENV": "testing"})
    assert config["PROCONNECT_ENABLED"] is False and config["CSP_FORM_ACTIONS"] == ()
    assert config["PROCONNECT_SCOPES"] == "openid email given_name usual_name siret uid"


def test_proconnect_configured(tmp_path):
    config = build_config(tmp_path, {"PORTAL_ENV": "production", "SECRET_KEY": "x" * 50, **PROCONNECT})
    assert config["PROCONNECT_ENABLED"] is True
    assert config["PROCONNECT_ORIGIN"] == "https://proconnect.gouv.fr"
    assert config["CSP_FORM_ACTIONS"] == ("https://proconnect.gouv.fr",)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"PROCONNECT_CLIENT_SECRET": ""}, "PROCONNECT_CLIENT_SECRET"),
        ({"PROCONNECT_DISCOVERY_URL": "http://proconnect.gouv.fr/x"}, "https"),
        ({"PROCONNECT_DISCOVERY_URL": "proconnect.gouv.fr"}, "adresse complète"),
        ({"PROCONNECT_SCOPES": "email uid"}, "openid"),
    ],
)
def test_proconnect_half_or_badly_configured_stops(tmp_path, changes, message):
    environ = {"PORTAL_ENV": "production", "SECRET_KEY": "x" * 50, **PROCONNECT, **changes}
    with pytest.raises(ConfigurationError, match=message):
        build_config(tmp_path, environ)


def test_campaign_reminders_and_upload_size(tmp_path):
    base = {"PORTAL_ENV": "development"}
    config = build_config(tmp_path, base)
    assert config["CAMPAIGN_REMINDERS"] == ("J+15", "J+30", "J-3")
    assert config["CAMPAIGN_MAX_UPLOAD_MB"] == 10
    assert build_config(tmp_path, {**base, "CAMPAIGN_REMINDERS": " j+7, J-1 "})["CAMPAIGN_REMINDERS"] == ("J+7", "J-1")
    assert build_config(tmp_path, {**base, "CAMPAIGN_REMINDERS": ""})["CAMPAIGN_REMINDERS"] == ()
    for bad in ("J+0", "15", "J+15,J+15", "J*3"):
        with pytest.raises(ConfigurationError, match="CAMPAIGN_REMINDERS"):
            build_config(tmp_path, {**base, "CAMPAIGN_REMINDERS": bad})
    # A deliberation larger than a request may be is refused at start-up, not at the first upload.
    mb = 1024 * 1024
    assert build_config(tmp_path, {**base, "CAMPAIGN_MAX_UPLOAD_MB": "40"})["MAX_CONTENT_LENGTH"] == 41 * mb
    with pytest.raises(ConfigurationError, match="CAMPAIGN_MAX_UPLOAD_MB"):
        build_config(tmp_path, {**base, "CAMPAIGN_MAX_UPLOAD_MB": "30", "PORTAL_MAX_REQUEST_MB": "25"})
