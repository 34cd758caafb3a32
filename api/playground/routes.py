"""The playground page at `/` and its assets under `/playground/` (static files, no
build step, nothing fetched at run time). A plain Flask blueprint, so it stays out of
the OpenAPI document.

The page is a reference client: it talks to the server only through the public API
(`/api/v1/...`) and the sockets, like any other client.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, send_from_directory

STATIC = Path(__file__).resolve().parent / "static"

blp = Blueprint("playground", __name__, static_folder=str(STATIC), static_url_path="/playground")

# Only this origin's scripts, styles, HTTP and sockets: the page loads nothing from elsewhere,
# and an injected tag could neither run nor phone home.
CONTENT_SECURITY_POLICY = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
                           "; media-src blob:")  # audio.js plays the replies' speech from blob: URLs


@blp.get("/")
def index() -> Response:
    """The playground page."""
    response = send_from_directory(STATIC, "index.html")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
