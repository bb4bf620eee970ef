"""Before and after in one run: a bench script of this tree and the same script of an older commit, alternately.

    .venv/bin/python bench/against.py --rev f737cc9 [--rounds 2] -- checkout_http.py --db postgres --clients 1,4,16

Checks the older commit out in a temporary git worktree (kept under var/against/<rev> for the next run), then runs
`bench/<script> <args>` round after round, older commit first, then this tree, each with its own code on the
PYTHONPATH and the same Python environment, and prints each run's table under its label. Alternating in one run
means both sides meet the same machine: a load that comes and goes spreads over both instead of favouring one.
The older tree gets this tree's built static files (vendor/) when it has none, which pages need and APIs do not.
"""
import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def older_tree(rev: str) -> Path:
    sha = subprocess.run(["git", "rev-parse", "--verify", f"{rev}^{{commit}}"], cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.strip()
    tree = ROOT / "var" / "against" / sha[:12]
    if not (tree / "bench").is_dir():
        tree.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "worktree", "add", "--detach", "--force", str(tree), sha], cwd=ROOT, check=True,
                       capture_output=True)
    vendor = ROOT / "yundian" / "core" / "static" / "vendor"
    if vendor.is_dir() and not (tree / "yundian" / "core" / "static" / "vendor").exists():
        shutil.copytree(vendor, tree / "yundian" / "core" / "static" / "vendor")
    return tree


def run(tree: Path, script: str, args: list[str]) -> str:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, str(tree / "bench" / script), *args], cwd=tree, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        return f"(failed with exit code {done.returncode})\n{done.stderr[-2000:]}"
    return done.stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", required=True, help="the older commit, e.g. the main of the last release")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("script", help="a script in bench/, e.g. checkout_http.py")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments, after --")
    ns = parser.parse_args()
    args = ns.args[1:] if ns.args[:1] == ["--"] else ns.args
    old = older_tree(ns.rev)
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.strip()
    for round_no in range(1, ns.rounds + 1):
        for label, tree in ((f"older {ns.rev}", old), (f"this tree ({head})", ROOT)):
            print(f"\n===== round {round_no}/{ns.rounds}: {label}: bench/{ns.script} {' '.join(args)}", flush=True)
            print(run(tree, ns.script, args), flush=True)


if __name__ == "__main__":
    main()
