"""gunicorn settings for the web process (`gunicorn -c deploy/gunicorn.conf.py 'api:create_app()'`).

gevent workers: each holds thousands of idle WebSockets and long-polls as greenlets, one
greenlet per connection. docs/sockets.md has what that costs and the limits (open files,
kernel) a deployment needs.
"""
import os
import resource

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
worker_class = "gevent"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Connections one worker serves at once, sockets and HTTP alike (gevent's pool: when it is
# full the worker stops accepting). A tenth is kept for HTTP (see post_worker_init).
worker_connections = int(os.environ.get("WEB_WORKER_CONNECTIONS", "12000"))
# Long-polls wait up to 30 s and sockets live for hours; gevent workers are not killed
# for a slow request, this only bounds a stuck worker's restart.
timeout = 60
graceful_timeout = 20
keepalive = 5
# The longest request line gunicorn reads (its maximum; the default is 4094): a longer
# URL than that gets a 414 from gunicorn itself (in the error format: post_fork).
limit_request_line = 8190
# Accept bursts (every socket reconnecting after a deploy); the kernel caps it at net.core.somaxconn.
backlog = int(os.environ.get("WEB_BACKLOG", "4096"))
accesslog = "-" if os.environ.get("ACCESS_LOG", "0") == "1" else None
# The path without its query (a socket's ?token= is a bearer token), no user (%(u)s is
# taken from an Authorization header) and no referrer (it may hold a query too).
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms "%(a)s"'
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# Every connection is a file descriptor, plus a few dozen for Redis, PostgreSQL and files.
_FILES_BESIDES_CONNECTIONS = 200


def on_starting(server):
    """Soft limits are often 1024 while the hard one is far higher: take what the
    connections need (the workers inherit it), and say so when the hard limit is short."""
    wanted = server.cfg.worker_connections + _FILES_BESIDES_CONNECTIONS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft < wanted:
        server.log.warning("open files limit %d is below WEB_WORKER_CONNECTIONS + %d = %d: raise `ulimit -n` "
                           "(LimitNOFILE= under systemd, ulimits: in compose)",
                           soft, _FILES_BESIDES_CONNECTIONS, wanted)


def post_fork(server, worker):
    # A request gunicorn cannot parse (bad request line or header, a URL or headers past
    # its limits) is answered by gunicorn itself, as an HTML page: give it the API's one
    # error format instead.
    from gunicorn import util

    from api.errors import write_unparsed_request_error

    util.write_error = write_unparsed_request_error


def post_worker_init(worker):
    # Sockets may fill nine tenths of the worker's connections; past that a new socket is
    # closed with 1013 (try again later) so that REST calls and long-polls still get in.
    from api.realtime.sockets import set_socket_capacity

    set_socket_capacity(worker.worker_connections - max(1, worker.worker_connections // 10))
    # The app is loaded and lives as long as the worker: keep its objects out of the
    # collector's full passes (as the Celery workers do, workers/celery_app.py).
    import gc

    gc.freeze()


def child_exit(server, worker):
    # Multiprocess metrics: a dead worker's live gauges (open sockets) stop counting.
    from domain.metrics import process_exited

    process_exited(worker.pid)
