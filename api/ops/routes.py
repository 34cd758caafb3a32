"""Liveness, readiness and metrics, for load balancers, operators and Prometheus."""
from __future__ import annotations

import hmac

import marshmallow as ma
from flask import Response, request
from flask_smorest import Blueprint
from sqlalchemy import text

from api.errors import error_response
from api.extensions import db
from domain import metrics
from domain.config import get_settings
from domain.db import statement_scope
from domain.redis_client import get_redis
from workers.celery_app import celery

blp = Blueprint("ops", __name__, url_prefix="/api/v1", description="Operations")


class HealthSchema(ma.Schema):
    status = ma.fields.String()
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


@blp.get("/healthz")
@blp.response(200, HealthSchema)
def healthz():
    """The process is up (no dependency is checked)."""
    return {"status": "ok", "checks": {}}


@blp.get("/readyz")
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=HealthSchema, description="A dependency is down")
def readyz():
    """Database, Redis and the Celery broker all answer."""
    checks = {"database": _check(lambda: db().execute(text("SELECT 1"))),
              "redis": _check(lambda: get_redis().ping()),
              "broker": _check(_broker_ping)}
    ready = all(value == "ok" for value in checks.values())
    return {"status": "ok" if ready else "unavailable", "checks": checks}, 200 if ready else 503


@blp.get("/metrics")
@blp.doc(responses={200: {"description": "Prometheus text format"}})
def get_metrics():
    """Metrics of the web and worker processes, and the backlogs (README, "Operating
    Parlons"). With METRICS_TOKEN set, only for `Authorization: Bearer <METRICS_TOKEN>`."""
    token = get_settings().metrics_token
    if token and not hmac.compare_digest(request.headers.get("Authorization", ""), f"Bearer {token}"):
        return error_response(401, "metrics_token_required", "Send the metrics token: Authorization: Bearer <token>.",
                              headers={"WWW-Authenticate": "Bearer"})
    return Response(metrics.render(statement_scope), mimetype="text/plain; version=0.0.4")


def _broker_ping() -> None:
    with celery.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as error:  # report, never raise: this endpoint exists to describe failures
        return f"error: {type(error).__name__}"
