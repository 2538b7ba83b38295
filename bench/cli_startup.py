"""Benchmark: cold starts of the `journeybot` console script, each run a new process.
Targets (issue #12): `--help` <= 0.5 s, `ask` <= 1.5 s, `account`/`velocity`/`churn`
against the sandbox <= 3 s with a fresh CRM snapshot.

    .venv/bin/python -m bench.cli_startup [--runs 7] [--no-bytecode] [--json] [--against REV]

Each command runs once unmeasured first (it indexes the map, syncs the CRM snapshot and,
unless --no-bytecode, writes Python's bytecode cache into a scratch folder as any first
run of an installed command does), then `--runs` times measured: wall time of the whole
process, p50 and max. --no-bytecode measures with PYTHONDONTWRITEBYTECODE=1 and no
cache, i.e. every module compiled from source on every start (how a
PYTHONDONTWRITEBYTECODE environment, or the very first run, behaves). The sandbox runs in
its own process, without rate limiting, on 127.0.0.1.

--against REV times the same commands of git revision REV too (checked out in a scratch
worktree, run with this venv, its own data dir), alternating run by run with this tree's:
on a machine whose speed drifts from minute to minute (a shared VM), a change is measured
by the ratio of the two, not by comparing figures taken at different times.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
JOURNEYBOT = Path(sys.executable).parent / "journeybot"
TOKEN = "bench-token"
FROM_TREE = "import sys; sys.argv[0] = 'journeybot'; from cli.app import main; main()"
TARGETS = {"--help": 0.5, "ask": 1.5, "account": 3.0, "velocity": 3.0, "churn": 3.0}


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", "0", "--rate", "none", "--token", TOKEN],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError(f"sandbox did not start: {line!r}")
    return proc, line.split(" ", 1)[1]


def environment(scratch: Path, base_url: str, bytecode: bool) -> dict[str, str]:
    from config import load_settings

    env = {k: v for k, v in os.environ.items() if not (k.startswith("JOURNEYBOT_") or k == "DATABASE_URL")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(JOURNEYBOT_DATA_DIR=str(scratch / "state"), JOURNEYBOT_HUBSPOT_BASE_URL=base_url,
               JOURNEYBOT_HUBSPOT_ACCESS_TOKEN=TOKEN,
               JOURNEYBOT_EMBEDDING_MODEL_DIR=str(load_settings().embedding_model_dir))
    if bytecode:
        env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def timed(args: list[str], env: dict[str, str], cwd: Path, tree: Path | None = None) -> float:
    """Wall time of one `journeybot` process (of the installed tree, or of `tree`'s code)."""
    command = [str(JOURNEYBOT), *args] if tree is None else [sys.executable, "-c", FROM_TREE, *args]
    if tree is not None:
        env = {**env, "PYTHONPATH": str(tree), "JOURNEYBOT_DATA_DIR": env["JOURNEYBOT_DATA_DIR"] + "-against"}
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"journeybot {' '.join(args)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return elapsed


def run(runs: int, bytecode: bool, against: str | None = None) -> dict[str, Any]:
    from sandbox.generator import WORD_A, WORD_B

    commands = {
        "--help": ["--help"],
        "ask": ["ask", "CFO keeps asking about ROI, what do I send?"],
        "account": ["account", f"{WORD_A[0]} {WORD_B[0]} 1"],  # company #1 of every generated portal
        "velocity": ["velocity"],
        "churn": ["churn"],
    }
    proc, base_url = start_sandbox()
    try:
        with tempfile.TemporaryDirectory(prefix="jb-cli-bench-") as folder, _tree(against, Path(folder)) as other:
            scratch = Path(folder)
            env = environment(scratch, base_url, bytecode)
            first = {name: round(timed(args, env, scratch), 3) for name, args in commands.items()}
            if other is not None:
                for args in commands.values():
                    timed(args, env, scratch, other)
            results: dict[str, Any] = {}
            for name, args in commands.items():
                pairs = [(timed(args, env, scratch), timed(args, env, scratch, other) if other else 0.0)
                         for _ in range(runs)]
                times = sorted(p[0] for p in pairs)
                p50 = times[len(times) // 2]
                results[name] = {"p50_s": round(p50, 3), "max_s": round(times[-1], 3), "runs": runs,
                                 "target_s": TARGETS[name], "met": p50 <= TARGETS[name],
                                 "first_run_s": first[name]}
                if other is not None:
                    theirs = sorted(p[1] for p in pairs)
                    results[name]["against_p50_s"] = round(theirs[len(theirs) // 2], 3)
                    results[name]["ratio"] = round(sum(p[0] for p in pairs) / sum(p[1] for p in pairs), 3)
            return {"bytecode_cache": bytecode, "cpus": os.cpu_count(), "against": against, "commands": results}
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextlib.contextmanager
def _tree(revision: str | None, scratch: Path) -> Iterator[Path | None]:
    """REV's files in a scratch worktree (removed afterwards), or None."""
    if revision is None:
        yield None
        return
    path = scratch / "against-tree"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(path), revision], cwd=ROOT, check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-bytecode", action="store_true", help="no bytecode cache: compile on every start")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--against", metavar="REV", help="also time git revision REV, alternating run by run")
    options = parser.parse_args()
    report = run(options.runs, bytecode=not options.no_bytecode, against=options.against)
    if options.json:
        print(json.dumps(report, indent=2))
        return
    print(f"cold starts, {options.runs} runs each, bytecode cache {'on' if report['bytecode_cache'] else 'off'}, "
          f"{report['cpus']} CPUs")
    against = report["against"]
    extra = f" {against} p50 s | this / {against} |" if against else ""
    print(f"| command | p50 s | max s | target s | met | first run s |{extra}")
    print("| --- | --- | --- | --- | --- | --- |" + (" --- | --- |" if against else ""))
    for name, r in report["commands"].items():
        tail = f" {r['against_p50_s']:.2f} | {r['ratio']:.2f} |" if against else ""
        print(f"| `{name}` | {r['p50_s']:.2f} | {r['max_s']:.2f} | {r['target_s']:.1f} | "
              f"{'yes' if r['met'] else 'no'} | {r['first_run_s']:.2f} |{tail}")


if __name__ == "__main__":
    main()
