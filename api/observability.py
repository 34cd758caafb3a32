"""Every request: a request id, a JSON log line and the latency metric."""
from __future__ import annotations

import logging
import re
import time
import uuid

from flask import Flask, Response, g, request
from flask_jwt_extended import get_jwt_identity

from domain import logs, metrics

log = logging.getLogger("parlons.request")
_GOOD_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def observe_requests(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        given = request.headers.get("X-Request-ID", "")
        logs.reset(request_id=given if _GOOD_REQUEST_ID.match(given) else uuid.uuid4().hex)
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        if not endpoint.endswith("/ws"):  # a socket's "request" lasts as long as the socket
            metrics.HTTP_REQUEST_SECONDS.labels(endpoint, request.method, str(response.status_code)).observe(elapsed)
        logs.bind(user_id=_learner())
        response.headers["X-Request-ID"] = logs.context().get("request_id", "")
        # The route, never the path or the query: they may hold ids, never text or tokens.
        log.info("request", extra={"method": request.method, "endpoint": endpoint,
                                   "status": response.status_code, "duration_ms": round(elapsed * 1000, 2)})
        return response


def _learner() -> str | None:
    try:
        return get_jwt_identity()
    except RuntimeError:  # no token was verified for this request
        return None
