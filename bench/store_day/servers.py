"""A fresh database, seeding, and the two server processes of a deployment — gunicorn (web) and the task worker —
each started in its own process group so that one SIGKILL takes down the whole group mid-request, as a crash would."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "bench" / "store_day" / "seed.py"

from bench._server import drop_postgres, free_port, fresh_postgres  # noqa: E402,F401 - part of this module's API
from bench._server import gunicorn_argv  # noqa: E402
from bench._server import server_env as bench_server_env  # noqa: E402


def server_env(db: str, data_dir: str, pg_url: str | None) -> dict:
    """The environment of a production-like server on `db` ("sqlite" in data_dir, or "postgres" at pg_url); its
    settings (bench/store_day/settings.py) deliver members' sign-in codes to data_dir/member-codes.jsonl."""
    return {**bench_server_env(db, data_dir, pg_url), "PYTHONUNBUFFERED": "1",
            "DJANGO_SETTINGS_MODULE": "bench.store_day.settings"}


def codes_file(env: dict) -> Path:
    """Where the server's FileCodeSender writes members' sign-in codes."""
    return Path(env["YUNDIAN_DATA"]) / "member-codes.jsonl"


def run_django(env: dict, *args: str, timeout: float = 900) -> dict:
    """Run seed.py with Django in a child process; returns the JSON it prints last."""
    out = subprocess.run([sys.executable, str(SEED), *args], env=env, cwd=ROOT, capture_output=True, text=True,
                         timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-4000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def check_ledgers(env: dict) -> tuple[bool, str]:
    out = subprocess.run([sys.executable, "-m", "yundian.cli", "check-ledgers"], env=env, cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    return out.returncode == 0, (out.stdout + out.stderr).strip()


class Process:
    """A killable process group (gunicorn master + workers, or the task worker)."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path, ready=None):
        self.name, self.argv, self.env, self.log, self.ready = name, argv, env, log, ready
        self.proc: subprocess.Popen | None = None
        self.kills = 0

    def start(self, timeout: float = 60) -> None:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        deadline = time.time() + timeout
        while self.ready and not self.ready():
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.log.read_text()[-3000:]}")
            if time.time() > deadline:
                raise RuntimeError(f"{self.name} did not start")
            time.sleep(0.1)

    def kill(self) -> None:
        """SIGKILL the whole group: master and workers die mid-request, nothing is flushed or rolled back politely."""
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=30)
        self.kills += 1

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.3):
            return True
    except OSError:
        return False


def web(env: dict, port: int, log: Path, workers: int = 3, threads: int = 8) -> Process:
    argv = [*gunicorn_argv(port, workers=workers, threads=threads, backlog=512), "--graceful-timeout", "5"]
    return Process("web", argv, env, log, ready=lambda: port_open(port))


def worker(env: dict, log: Path) -> Process:
    return Process("worker", [sys.executable, "-m", "yundian.cli", "worker", "--queue-name", "*", "--no-reload", "--no-startup-delay"], env, log)
