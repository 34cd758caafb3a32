"""The production check against every deployment template, as each template would run it:
a template's placeholders never pass, and with real secrets in their place it starts."""
from __future__ import annotations

import re
import secrets

import pytest
import yaml
from dotenv import dotenv_values

from domain.config import ConfigError, is_placeholder, load_settings
from tests.support.stack import REPO

ENV_EXAMPLE = {k: v for k, v in dotenv_values(REPO / ".env.example").items() if v is not None}
COMPOSE = yaml.safe_load((REPO / "deploy/docker-compose.yml").read_text())
APP_SPEC = yaml.safe_load((REPO / "deploy/digitalocean/app.yaml").read_text())


def _unit_environment(unit: str) -> dict[str, str]:
    """A systemd unit's `Environment=` defaults, which /etc/parlons/parlons.env (a copy of
    .env.example) then overrides."""
    values: dict[str, str] = {}
    for line in (REPO / "deploy/systemd" / unit).read_text().splitlines():
        if line.startswith("Environment="):
            values.update(part.split("=", 1) for part in line.removeprefix("Environment=").split())
    return values


def _systemd(unit: str) -> dict[str, str]:
    return {**_unit_environment(unit), **ENV_EXAMPLE}


def _compose(service: str) -> dict[str, str]:
    """deploy/.env (a copy of .env.example) as env_file, then the service's `environment:`,
    whose `${NAME:-default}` Compose fills from deploy/.env."""
    def interpolate(value: str) -> str:
        return re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: ENV_EXAMPLE.get(m[1]) or m[2], value)

    return {**ENV_EXAMPLE, **{k: interpolate(str(v)) for k, v in COMPOSE["services"][service]["environment"].items()}}


def _app_platform(component: str) -> dict[str, str]:
    found = [c for kind in ("services", "workers", "jobs") for c in APP_SPEC.get(kind, []) if c["name"] == component]
    return {e["key"]: str(e.get("value", "")) for e in APP_SPEC["envs"] + found[0].get("envs", [])}


# (template, environment, is Flower, the variables the check must name)
TEMPLATES = [
    ("systemd web", _systemd("parlons-web.service"), False, {"JWT_SECRET_KEY", "DATABASE_URL", "REDIS_URL"}),
    ("systemd flower", _systemd("parlons-flower.service"), True,
     {"JWT_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "FLOWER_BASIC_AUTH"}),
    ("compose web", _compose("web"), False, {"JWT_SECRET_KEY"}),
    ("compose flower", _compose("flower"), True, {"JWT_SECRET_KEY", "FLOWER_BASIC_AUTH"}),
    ("app platform web", _app_platform("web"), False, {"JWT_SECRET_KEY"}),
    ("app platform worker", _app_platform("worker-llm"), False, {"JWT_SECRET_KEY"}),
    ("app platform flower", _app_platform("flower"), True, {"JWT_SECRET_KEY", "FLOWER_BASIC_AUTH"}),
]


def _refusals(environ: dict[str, str], *, flower: bool) -> set[str]:
    """The variables the production check names for this environment (empty: it starts)."""
    try:
        load_settings(environ, for_flower=flower)
    except ConfigError as error:
        return set(re.findall(r"^\s+- ([A-Z][A-Z_]+)", str(error), re.M))
    return set()


@pytest.mark.parametrize("name, environ, flower, offending", TEMPLATES, ids=[t[0] for t in TEMPLATES])
def test_each_template_as_shipped_is_refused_naming_each_offending_variable(name, environ, flower, offending):
    assert environ.get("PARLONS_ENV") == "production", f"{name} runs in production mode"
    assert _refusals(environ, flower=flower) == offending


@pytest.mark.parametrize("name, environ, flower, offending", TEMPLATES, ids=[t[0] for t in TEMPLATES])
def test_each_template_with_private_values_in_place_starts(name, environ, flower, offending):
    filled = {**environ, "JWT_SECRET_KEY": secrets.token_hex(32),
              "FLOWER_BASIC_AUTH": f"ops:{secrets.token_urlsafe(16)}"}
    filled.setdefault("DATABASE_URL", "postgresql+psycopg://parlons:s3cr3t-db@127.0.0.1:5432/parlons")
    filled.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert _refusals(filled, flower=flower) == set()


def test_env_example_never_turns_development_mode_on():
    assert "PARLONS_ENV" not in ENV_EXAMPLE
    assert "JWT_SECRET_KEY" not in ENV_EXAMPLE and "FLOWER_BASIC_AUTH" not in ENV_EXAMPLE


@pytest.mark.parametrize("secret", [
    "parlons-development-secret-change-me-0123456789",
    "replace-with-at-least-32-private-characters",  # 43 characters: long is not private
    "CHANGE-ME-please-0123456789abcdef0123456789",
    "<your secret of at least 32 characters here>",
])
def test_placeholders_are_refused_by_value_whatever_their_length(secret):
    assert is_placeholder(secret)
    base = {"PARLONS_ENV": "production", "DATABASE_URL": "postgresql+psycopg://db/parlons",
            "REDIS_URL": "redis://cache/0"}
    with pytest.raises(ConfigError, match="JWT_SECRET_KEY"):
        load_settings({**base, "JWT_SECRET_KEY": secret})


@pytest.mark.parametrize("login", ["admin:parlons", "replace-with-user:password", "ops:password", "ops", "ops:"])
def test_flower_placeholder_logins_are_refused(login):
    environ = {"PARLONS_ENV": "production", "DATABASE_URL": "postgresql+psycopg://db/parlons",
               "REDIS_URL": "redis://cache/0", "JWT_SECRET_KEY": secrets.token_hex(32), "FLOWER_BASIC_AUTH": login}
    with pytest.raises(ConfigError, match="FLOWER_BASIC_AUTH"):
        load_settings(environ)


def test_a_placeholder_database_password_is_refused():
    environ = {"PARLONS_ENV": "production", "DATABASE_URL": "postgresql+psycopg://user:password@host:5432/parlons",
               "REDIS_URL": "redis://cache/0", "JWT_SECRET_KEY": secrets.token_hex(32)}
    with pytest.raises(ConfigError, match="DATABASE_URL has a placeholder password"):
        load_settings(environ)


def test_development_keeps_its_defaults():
    settings = load_settings({"DATABASE_URL": "postgresql+psycopg://db/parlons", "REDIS_URL": "redis://cache/0"},
                             for_flower=True)
    assert not settings.is_production and not settings.flower_basic_auth


def test_the_app_platform_spec_routes_neither_metrics_nor_flower_publicly():
    rules = APP_SPEC["ingress"]["rules"]
    routed = {rule["match"]["path"]["prefix"]: rule.get("component", {}).get("name") for rule in rules}
    assert routed["/metrics"] is None and routed["/api/v1/metrics"] is None, "redirected, not routed"
    assert "flower" not in routed.values()
    flower = next(s for s in APP_SPEC["services"] if s["name"] == "flower")
    assert "http_port" not in flower and flower["internal_ports"] == [5555]
