"""The loop of a long-running worker command (`yundian webhooks worker`, `yundian journeys run`): one round after
another until stopped, a line per round that did something, a pause when nothing was due, and a retry when SQLite
stays busy beyond its timeout (the round's transaction rolled back: nothing was lost, the next round takes it up)."""
import time
from collections.abc import Callable

from django.db import OperationalError


def run_rounds(round_once: Callable[[], tuple[bool, str]], *, out, err, once: bool = False,
               idle: float = 1.0, echo_idle: bool = False) -> None:
    """Call `round_once()` → (did something?, its line) until stopped; with `once`, return after the first round that
    found nothing to do. The line is written to `out` (a command's stdout) when the round did something, or always
    with `echo_idle`."""
    while True:
        try:
            busy, line = round_once()
        except OperationalError as e:  # SQLite busy beyond its timeout
            err.write(f"database busy ({e}); retrying")
            time.sleep(idle)
            continue
        if busy or echo_idle:
            out.write(line, ending="\n")
            out.flush()
        if not busy:
            if once:
                return
            time.sleep(idle)
