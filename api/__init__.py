"""The Flask application factory."""
from __future__ import annotations

from pathlib import Path

from flask import Flask, send_from_directory

from api.observability import observe_requests
from domain import logs
from domain.config import Settings, get_settings

SWAGGER_UI_DIR = Path(__import__("flask_swagger_ui").__file__).parent / "dist"


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    logs.configure(settings.log_level)

    app = Flask(__name__)
    if settings.trusted_proxy_hops:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # The client's address, scheme and host as the trusted proxies saw them (the
        # throttles key on the address); headers beyond that many hops are ignored.
        hops = settings.trusted_proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        JSON_SORT_KEYS=False,
        API_TITLE="Parlons API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="api/v1/openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Served from the flask-swagger-ui wheel: nothing is fetched from the internet.
        OPENAPI_SWAGGER_UI_URL="/docs/assets/",
        SOCK_SERVER_OPTIONS={"ping_interval": settings.ws_ping_interval_seconds,
                             "max_message_size": settings.max_request_bytes},
    )

    from api.auth import document_bearer_auth
    from api.auth.tokens import configure_jwt
    from api.errors import register_error_handlers
    from api.extensions import api, close_db, jwt, sock
    from api.inputs import document_id_converter, document_input_errors, install_input_guard

    install_input_guard(app)  # before the blueprints: their schemas read the guard's parse
    configure_jwt(app, settings)
    jwt.init_app(app)
    api.init_app(app)
    document_id_converter(api)
    app.extensions["parlons_api"] = api
    document_bearer_auth(api)
    sock.init_app(app)
    register_error_handlers(app)
    observe_requests(app)
    app.teardown_appcontext(close_db)

    from api.admin.routes import blp as admin_blp
    from api.auth.routes import blp as auth_blp
    from api.characters.routes import blp as characters_blp
    from api.language.routes import blp as language_blp
    from api.notebook.routes import blp as notebook_blp
    from api.journey.routes import blp as journey_blp
    from api.ops.routes import blp as ops_blp
    from api.penpal.routes import blp as penpal_blp
    from api.progress.routes import blp as progress_blp
    from api.sandbox.routes import blp as sandbox_blp
    from api.sessions.routes import blp as sessions_blp
    from api.turns.routes import blp as turns_blp
    from api.vocabulary.routes import blp as vocabulary_blp

    for blueprint in (auth_blp, characters_blp, sessions_blp, turns_blp, sandbox_blp, language_blp,
                      vocabulary_blp, progress_blp, penpal_blp, journey_blp, admin_blp, ops_blp, notebook_blp):
        api.register_blueprint(blueprint)
    from api.achievements.routes import blp as achievements_blp
    api.register_blueprint(achievements_blp)
    from api.mail.routes import blp as mail_blp
    api.register_blueprint(mail_blp)
    from api.anki.routes import blp as anki_blp
    api.register_blueprint(anki_blp)
    from api.push.routes import blp as push_blp
    api.register_blueprint(push_blp)
    from api.audio.routes import blp as audio_blp
    api.register_blueprint(audio_blp)
    from api.classes.routes import blp as classes_blp
    api.register_blueprint(classes_blp)
    from api.classes.routes import roles_blp
    api.register_blueprint(roles_blp)
    from api.assignments.routes import blp as assignments_blp
    api.register_blueprint(assignments_blp)
    document_input_errors(api)
    import api.realtime.sockets  # noqa: F401  (registers the socket routes on `sock`)

    @app.get("/docs/assets/<path:filename>")
    def swagger_assets(filename: str):
        return send_from_directory(SWAGGER_UI_DIR, filename)

    from api.playground.routes import blp as playground_blp

    app.register_blueprint(playground_blp)  # the page at "/", outside the OpenAPI document
    # Where Prometheus looks by default; the same as /api/v1/metrics.
    from api.ops.routes import get_metrics

    app.add_url_rule("/metrics", "metrics", get_metrics)

    from api.cli import register_cli

    register_cli(app)
    return app
