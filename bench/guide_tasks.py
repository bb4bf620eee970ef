"""Guide workbench reads and the progress task on the demo chain (scale 1 with 120 days of history): how long the
guide's phone pages' reads take (today, customers, my month, my ranking's boards), HQ's share funnels and one
progress refresh, against reading the guide's bound members (the baseline).

    python bench/guide_tasks.py              # seeds a throwaway demo chain first (about a minute)
    python bench/guide_tasks.py --data DIR   # an existing YUNDIAN_DATA folder with the demo chain

Prints a table: median milliseconds of 5 runs each and the ratio to the baseline (same process, same data).
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import setup_django  # noqa: E402


def timed(fn, runs: int = 5) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", help="YUNDIAN_DATA folder holding a seeded demo chain")
    args = parser.parse_args()
    data = args.data or tempfile.mkdtemp(prefix="bench-guide-tasks-")
    setup_django(data)
    from django.core.management import call_command

    if not args.data:
        call_command("migrate", verbosity=0)
        call_command("seed", "--scale", "1", "--history", "120", verbosity=0)
    from yundian.guides import accounting, competitions, customers, funnels, task_progress
    from yundian.guides.models import GuideTask, TaskPlan
    from yundian.guides.services import month_of
    from yundian.members.models import Member
    from yundian.org.models import Staff
    from django.utils import timezone

    guide = Staff.objects.get(user__username="demo-guide")
    admin = Staff.objects.get(user__username="demo-admin")
    plan = TaskPlan.objects.filter(kind="sell").first()
    month = month_of(timezone.now())
    rows = [
        ("baseline: the guide's bound members (list)", lambda: list(Member.objects.filter(guide=guide))),
        ("today's tasks (my_tasks)", lambda: task_progress.my_tasks(actor=guide)),
        ("my customers (customers.my_customers)", lambda: customers.my_customers(actor=guide)),
        ("my month (accounting.guide_month, one guide)",
         lambda: accounting.guide_month(actor=guide, month=month, guide_ids=[guide.pk])),
        ("my ranking: running competitions (my_competitions)", lambda: competitions.my_competitions(actor=guide)),
        ("my ranking: my store's sales board (month_board)",
         lambda: competitions.month_board(actor=guide, metric="sales")),
        ("my ranking: my region's shares board (month_board)",
         lambda: competitions.month_board(actor=guide, metric="shares", node=guide.home.parent)),
        ("share funnel per material at HQ (share_funnel)", lambda: funnels.share_funnel(actor=admin, by="material")),
        ("share funnel per guide at HQ (share_funnel)", lambda: funnels.share_funnel(actor=admin, by="guide")),
        ("a plan's progress tree at HQ (plan_progress)",
         lambda: task_progress.plan_progress(actor=admin, plan_id=plan.pk)),
        ("guides' month at HQ (all guides)", lambda: accounting.guide_month(actor=admin, month=month)),
        ("progress refresh, whole chain (refresh_open)", lambda: task_progress.refresh_open()),
    ]
    base = None
    print(f"demo chain: {Member.objects.count()} members, {GuideTask.objects.count()} guide tasks, "
          f"{len(customers.my_customers(actor=guide))} customers of demo-guide")
    print(f"{'read':50} {'ms (median of 5)':>18} {'x baseline':>11}")
    for label, fn in rows:
        ms = timed(fn)
        base = base or ms
        print(f"{label:50} {ms:18.1f} {ms / base:11.1f}")


if __name__ == "__main__":
    main()
