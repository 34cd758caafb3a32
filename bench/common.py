"""What the benchmarks share: a keep-alive JSON client and percentile summaries."""
from __future__ import annotations

import http.client
import json
import statistics
from urllib.parse import urlsplit


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summary(values_ms: list[float]) -> dict[str, float]:
    return {"n": len(values_ms), "p50_ms": round(statistics.median(values_ms), 2),
            "p99_ms": round(percentile(values_ms, 0.99), 2), "mean_ms": round(statistics.fmean(values_ms), 2)}


class Client:
    """JSON over one keep-alive HTTP connection (one thread uses it)."""

    def __init__(self, base: str, token: str | None = None):
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=30)
        self.headers = {"Content-Type": "application/json"}
        if token:
            self.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        payload = json.dumps(body) if body is not None else None
        try:
            self.connection.request(method, path, body=payload, headers=self.headers)
            response = self.connection.getresponse()
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            # The server closed the idle keep-alive connection: open a new one, as browsers do.
            self.connection.close()
            self.connection.request(method, path, body=payload, headers=self.headers)
            response = self.connection.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else {}
