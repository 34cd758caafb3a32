import pytest

from domain.config import ConfigError, load_settings

BASE = {"DATABASE_URL": "postgresql+psycopg://db/parlons", "REDIS_URL": "redis://cache/0"}


def test_values_come_from_the_environment_with_their_types():
    settings = load_settings({**BASE, "TURN_DEADLINE_SECONDS": "30", "SWEEP_INTERVAL_SECONDS": "0.5"})
    assert settings.turn_deadline_seconds == 30
    assert settings.sweep_interval_seconds == 0.5
    assert settings.jwt_access_token_minutes == 15 and settings.jwt_refresh_token_days == 30
    assert settings.celery_broker_url == "redis://cache/0"


def test_production_without_required_settings_names_each_missing_one():
    with pytest.raises(ConfigError) as error:
        load_settings({"PARLONS_ENV": "production"})
    message = str(error.value)
    for name in ("DATABASE_URL", "REDIS_URL", "JWT_SECRET_KEY"):
        assert f"{name} is required" in message


def test_production_refuses_the_development_secret():
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        load_settings({**BASE, "PARLONS_ENV": "production", "JWT_SECRET_KEY": "short"})
    settings = load_settings({**BASE, "PARLONS_ENV": "production", "JWT_SECRET_KEY": "x" * 40})
    assert settings.is_production


def test_malformed_number_is_a_clear_error():
    with pytest.raises(ConfigError, match="TURN_DEADLINE_SECONDS='soon' is not a valid int"):
        load_settings({**BASE, "TURN_DEADLINE_SECONDS": "soon"})


def test_missing_database_url_outside_production_points_at_make_run():
    with pytest.raises(ConfigError, match="make run"):
        load_settings({"REDIS_URL": "redis://cache/0"})
