"""Time `yundian seed` at scales 1, 5 and 20 on a fresh embedded SQLite file and print rows/s as ratios vs scale 1.

    .venv/bin/python bench/seed_scale.py [--scales 1 5 20] [--repeat 3]

Absolute timings depend on the machine, so the table reports each scale against the scale-1 baseline measured in
the same process: "rows ratio" is how many more rows were written, "time ratio" how much longer it took and
"throughput ratio" (rows/s vs scale 1) whether the generator keeps its speed as the chain grows (>= 1 means the
bulk inserts amortise the fixed costs). Each figure is the best of --repeat runs. Not a test.
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 5, 20])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="yundian-bench-")
    os.environ["YUNDIAN_DATA"] = data_dir  # a throwaway SQLite file, never ./var
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

    import django

    django.setup()
    from django.core.management import call_command

    from yundian.demo.generators import run_seed, shape
    from yundian.demo.management.commands.seed import format_table

    call_command("migrate", verbosity=0)
    rows_at = {s: sum(v for k, v in shape(s).items() if k in ("org_nodes", "users", "staff", "role_assignments"))
               for s in args.scales}
    best: dict[int, float] = {}
    for scale in args.scales:
        for attempt in range(args.repeat):
            started = time.perf_counter()
            run_seed(scale=scale, seed=attempt, code=f"bench-{scale}-{attempt}")
            elapsed = time.perf_counter() - started
            best[scale] = min(best.get(scale, elapsed), elapsed)

    base = args.scales[0]
    base_rate = rows_at[base] / best[base]
    table = [
        [str(scale), f"{rows_at[scale]:,}", f"{rows_at[scale] / rows_at[base]:.1f}x", f"{best[scale] / best[base]:.2f}x",
         f"{(rows_at[scale] / best[scale]) / base_rate:.2f}x"]
        for scale in args.scales
    ]
    print(f"seed on SQLite ({data_dir}), best of {args.repeat}, baseline scale {base}")
    print(format_table(["scale", "rows", "rows ratio", "time ratio", "throughput ratio"], table))
    from django.db import connections

    connections.close_all()
    shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
