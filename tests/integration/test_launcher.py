"""`make run`'s launcher (deploy/stack.py): one signal to it stops the whole stack, the
embedded PostgreSQL and Redis included — Ctrl-C in a terminal (the whole process group
gets SIGINT), `kill -INT` or `kill -TERM` to the launcher alone (a supervisor, a script)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys

import psutil
import pytest

from deploy.services import free_port, wait_for_port
from tests.support.stack import REPO

pytestmark = pytest.mark.skipif(any(os.environ.get(name) for name in ("TEST_DATABASE_URL", "TEST_REDIS_URL")),
                                reason="the launcher starts its own embedded servers")


@pytest.mark.parametrize("signum, to_group", [(signal.SIGINT, False), (signal.SIGTERM, False), (signal.SIGINT, True)],
                         ids=["SIGINT", "SIGTERM", "Ctrl-C"])
def test_one_signal_stops_every_process_of_the_stack(signum, to_group):
    data_dir = REPO / ".data" / f"launcher-{os.getpid()}-{signum.name}-{to_group}"
    shutil.rmtree(data_dir, ignore_errors=True)
    web_port = free_port()
    env = {**os.environ, "PARLONS_DATA_DIR": str(data_dir), "PORT": str(web_port),
           "EMBEDDED_POSTGRES_PORT": str(free_port()), "EMBEDDED_REDIS_PORT": str(free_port()),
           "FLOWER_PORT": str(free_port())}
    for name in ("DATABASE_URL", "REDIS_URL", "BROKER_URL"):
        env.pop(name, None)
    # A session of its own: the signal reaches the launcher only, as `kill` sends it, or
    # the whole group, as a terminal's Ctrl-C does.
    launcher = subprocess.Popen([sys.executable, "-m", "deploy.stack"], cwd=REPO, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port(web_port, timeout=180)
        members = psutil.Process(launcher.pid).children(recursive=True)
        postmaster = psutil.Process(int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0]))
        families = {" ".join(member.cmdline()) for member in members}
        assert any("gunicorn" in line for line in families) and any("redis-server" in line for line in families)

        if to_group:
            os.killpg(launcher.pid, signum)
        else:
            launcher.send_signal(signum)

        assert launcher.wait(timeout=90) is not None
        _, alive = psutil.wait_procs([*members, postmaster], timeout=30)
        assert alive == [], f"still running after the launcher stopped: {[p.pid for p in alive]}"
    finally:
        if launcher.poll() is None:
            os.killpg(launcher.pid, signal.SIGKILL)
        shutil.rmtree(data_dir, ignore_errors=True)
