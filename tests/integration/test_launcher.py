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
    members: list[psutil.Process] = []
    try:
        wait_for_port(web_port, timeout=180)
        members = _stack_processes(launcher, data_dir)
        families = {" ".join(member.cmdline()) for member in members}
        assert any("gunicorn" in line for line in families) and any("redis-server" in line for line in families)
        assert any("postgres" in member.name() for member in members)

        if to_group:
            os.killpg(launcher.pid, signum)
        else:
            launcher.send_signal(signum)

        launcher.wait(timeout=90)  # raises TimeoutExpired if the launcher does not stop
        _, alive = psutil.wait_procs(members, timeout=30)
        assert alive == [], f"still running after the launcher stopped: {[p.pid for p in alive]}"
    finally:  # whatever failed, nothing is left running (honcho gives each child a session of its own)
        for process in [*members, *_stack_processes(launcher, data_dir)]:
            try:
                process.kill()
            except psutil.NoSuchProcess:
                pass
        launcher.wait(timeout=30)
        shutil.rmtree(data_dir, ignore_errors=True)


def _stack_processes(launcher: subprocess.Popen, data_dir) -> list[psutil.Process]:
    """The launcher's descendants and the embedded PostgreSQL's postmaster (pg_ctl starts
    it outside the launcher's tree)."""
    found = []
    try:
        found += psutil.Process(launcher.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        pass
    try:
        found.append(psutil.Process(int((data_dir / "postgres" / "postmaster.pid").read_text().split()[0])))
    except (OSError, ValueError, psutil.NoSuchProcess):
        pass
    return found
