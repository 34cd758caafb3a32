"""gunicorn settings for the web process (`gunicorn -c deploy/gunicorn.conf.py 'api:create_app()'`).

gevent workers: each holds thousands of idle WebSockets and long-polls as greenlets.
"""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_connections = int(os.environ.get("WEB_WORKER_CONNECTIONS", "5000"))
# Long-polls wait up to 30 s and sockets live for hours; gevent workers are not killed
# for a slow request, this only bounds a stuck worker's restart.
timeout = 60
graceful_timeout = 20
keepalive = 5
accesslog = "-" if os.environ.get("ACCESS_LOG", "0") == "1" else None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def child_exit(server, worker):
    # Multiprocess metrics: a dead worker's live gauges (open sockets) stop counting.
    from domain.metrics import process_exited

    process_exited(worker.pid)
