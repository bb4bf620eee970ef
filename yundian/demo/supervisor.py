"""Run a few `yundian` commands as child processes and stop them together.

Children run in their own process groups, so a Ctrl-C in the terminal reaches only the parent, which forwards
it once to each child (a second Ctrl-C kills them). On Linux each child also gets SIGTERM if the parent dies
without cleaning up (PR_SET_PDEATHSIG), so no orphan keeps a port or the SQLite file busy.
"""
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

PR_SET_PDEATHSIG = 1
STOP_GRACE_SECONDS = 10.0


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen | None = None


def _die_with_parent() -> None:  # runs in the child between fork and exec
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        except OSError:
            pass


def yundian_argv(*args: str) -> list[str]:
    """argv running `yundian <args>` with the current interpreter (works without the console script on PATH)."""
    return [sys.executable, "-m", "yundian.cli", *args]


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def port_answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Supervisor:
    """Start children, watch them, forward SIGINT/SIGTERM, stop them all when one stops or a signal arrives."""

    def __init__(self, children: list[Child], env: dict[str, str]):
        self.children = children
        self.env = env
        self.stop_signal: int | None = None
        self.signals_seen = 0

    def _on_signal(self, signum, frame) -> None:
        self.signals_seen += 1
        self.stop_signal = signum
        if self.signals_seen > 1:  # asked twice: do not wait any longer
            self._send(signal.SIGKILL)

    def _send(self, signum: int) -> None:
        for child in self.children:
            if child.process is not None and child.process.poll() is None:
                try:
                    child.process.send_signal(signum)
                except ProcessLookupError:
                    pass

    def start(self) -> None:
        signal.signal(signal.SIGINT, self._on_signal)
        signal.signal(signal.SIGTERM, self._on_signal)
        for child in self.children:
            child.process = subprocess.Popen(child.argv, env=self.env, process_group=0, preexec_fn=_die_with_parent)

    def first_exit(self) -> Child | None:
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                return child
        return None

    def wait_until(self, ready: Callable[[], bool], timeout: float) -> bool:
        """Poll `ready` until it holds; False on timeout, on a stop signal or when a child exits."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.stop_signal is not None or self.first_exit() is not None:
                return False
            if ready():
                return True
            time.sleep(0.1)
        return False

    def watch(self) -> Child | None:
        """Block until a stop signal (returns None) or until a child exits on its own (returns it)."""
        while self.stop_signal is None:
            exited = self.first_exit()
            if exited is not None:
                return exited
            time.sleep(0.2)
        return None

    def stop(self) -> None:
        """Forward the stop signal (SIGTERM if none came) to every live child, wait, then kill stragglers."""
        self._send(self.stop_signal or signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in self.children:
            if child.process is None:
                continue
            try:
                child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.process.kill()
                child.process.wait()


def child_env(extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env.setdefault("SECRET_KEY", "dev-only-demo-not-secret")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env
