import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client

from yundian.demo.services import DEMO_PASSWORD
from yundian.org.models import Enterprise, OrgNode, Staff

User = get_user_model()


@pytest.mark.once  # the demo always runs on its embedded SQLite: proven once, in the SQLite run of the suite
def test_demo_without_server_loads_the_demo_chain_once(db):
    first, second = StringIO(), StringIO()

    call_command("demo", "--no-server", stdout=first)
    counts = (Enterprise.objects.count(), OrgNode.objects.count(), Staff.objects.count(), User.objects.count())
    call_command("demo", "--no-server", stdout=second)

    # staff: 24 from the org step, the guide who left (guide_tasks step), 12 part-timers (staffing step)
    assert counts == (1, 11, 37, 37)
    assert (Enterprise.objects.count(), OrgNode.objects.count(), Staff.objects.count(), User.objects.count()) == counts
    for username in ["demo-admin", "demo-region", "demo-dealer", "demo-manager", "demo-guide", "demo-auditor"]:
        assert username in first.getvalue() and username in second.getvalue()
        assert Client().login(username=username, password=DEMO_PASSWORD), username
    assert DEMO_PASSWORD in first.getvalue()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads child processes from /proc")
@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")),
                    reason="the demo always runs on its embedded SQLite; proven once, in the SQLite run of the suite")
def test_demo_serves_the_login_page_then_stops_its_children_on_sigterm(tmp_path):
    port = _free_port()
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "DEBUG", "SECRET_KEY", "DJANGO_SETTINGS_MODULE", "SECURE_COOKIES"}}
    env["YUNDIAN_DATA"] = str(tmp_path)  # a fresh clone's situation: empty data dir, no settings in the env
    log_path = tmp_path / "demo.log"
    with open(log_path, "wb") as log:
        demo = subprocess.Popen([sys.executable, "-m", "yundian.cli", "demo", "--port", str(port)],
                                cwd=settings.BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT)
    children: list[int] = []
    try:
        status, deadline = None, time.monotonic() + 420  # migrate, a year of history, the first warehouse fill: ~1 min on an idle box; far longer when the other test workers compete
        while time.monotonic() < deadline and demo.poll() is None:
            if status is None:
                try:
                    status = urllib.request.urlopen(f"http://127.0.0.1:{port}/login/", timeout=2).status
                except (urllib.error.URLError, ConnectionError):
                    pass
            if status is not None and "demo-admin" in log_path.read_text():
                break
            time.sleep(0.2)
        output = log_path.read_text()
        assert status == 200, output
        assert f"http://127.0.0.1:{port}/" in output and "demo-admin" in output and DEMO_PASSWORD in output
        children = _children(demo.pid)
        assert len(children) == 3, output  # web server, task worker, scheduler

        demo.send_signal(signal.SIGTERM)

        assert demo.wait(timeout=15) == 0, log_path.read_text()
        assert [pid for pid in children if _alive(pid)] == []
        assert (tmp_path / "yundian.sqlite3").exists()
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
        for pid in children:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
