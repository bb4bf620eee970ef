"""The race harness of the concurrency tests: racers run at once, outcomes come back in call order, a Conflict
can be reduced to its code, and no exception escapes a racer."""
import threading

from yundian.core.errors import Conflict, NotFound
from yundian.core.testing import attempt, race, race_n


def test_racers_run_at_once_and_come_back_in_call_order():
    together = threading.Barrier(4)  # passes only if all four are running at the same time

    def racer(i):
        together.wait(timeout=5)
        return i * 10

    assert race_n(4, racer) == [("ok", 0), ("ok", 10), ("ok", 20), ("ok", 30)]


def test_outcomes_keep_the_exception_or_the_conflict_code():
    def sold_out():
        raise Conflict(code="sold_out")

    def missing():
        raise NotFound()

    results = race(lambda: "a", sold_out, missing)
    assert results[0] == ("ok", "a")
    assert results[1][0] == "error" and isinstance(results[1][1], Conflict) and results[1][1].code == "sold_out"
    assert results[2][0] == "error" and isinstance(results[2][1], NotFound)
    coded = race(lambda: "a", sold_out, missing, conflict_codes=True)
    assert coded[:2] == [("ok", "a"), ("conflict", "sold_out")]
    assert coded[2][0] == "error" and isinstance(coded[2][1], NotFound)
    assert attempt(sold_out, conflict_codes=True) == ("conflict", "sold_out")
