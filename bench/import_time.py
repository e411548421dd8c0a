"""How long `judge problem import` takes for an ICPC package of N tests (issue 13).

    python3 bench/import_time.py                   # 100 tests of 10 KiB, 5 rounds
    python3 bench/import_time.py --tests 500 --kib 100 --rounds 3

Writes one package in a temporary directory: N tests under data/secret, a Python input
validator (which the import runs on every test, as problemtools does), a Python output validator
and two submissions. Each round imports it into a fresh SQLite database by the real CLI
(`python -m web.cli problem import`, one process per import, as an admin runs it), and, as the
baseline in the same round, the same package without its input validator. Prints the medians,
the ratio and the validator's cost per test. Everything is under one temporary directory,
removed at the end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

INPUT_VALIDATOR = """import sys
data = sys.stdin.read().split()
n = int(data[0])
sys.exit(42 if len(data) == n + 1 and all(x.isdigit() for x in data[1:]) else 43)
"""
OUTPUT_VALIDATOR = """import sys
sys.exit(42 if sys.stdin.read().split() == open(sys.argv[2]).read().split() else 43)
"""


def write_package(root: Path, tests: int, kib: int, validated: bool) -> Path:
    numbers_per_test = max(1, kib * 1024 // 8)
    files: dict[str, str] = {
        "problem.yaml": "name: Import Bench\nvalidation: custom\n",
        "output_validators/check/check.py": OUTPUT_VALIDATOR,
        "submissions/accepted/sum.py": "import sys\nd = sys.stdin.read().split()\n"
        "print(sum(map(int, d[1:])))\n",
        "submissions/wrong_answer/zero.py": "print(0)\n",
    }
    if validated:
        files["input_validators/v/v.py"] = INPUT_VALIDATOR
    for i in range(1, tests + 1):
        values = [(i * 7919 + j * 104729) % 10_000_000 for j in range(numbers_per_test)]
        files[f"data/secret/{i:03d}.in"] = f"{len(values)}\n" + " ".join(map(str, values)) + "\n"
        files[f"data/secret/{i:03d}.ans"] = f"{sum(values)}\n"
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def import_once(package: Path, workdir: Path) -> float:
    db = workdir / f"j-{time.monotonic_ns()}.db"
    env = {**os.environ, "JUDGE_DATABASE_URL": f"sqlite:///{db}",
           "JUDGE_REDIS_URL": "redis://127.0.0.1:1/0", "PYTHONPATH": str(REPO)}  # fmt: skip
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "web.cli", "problem", "import", str(package)],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    took = time.perf_counter() - start
    db.unlink()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=100)
    parser.add_argument("--kib", type=int, default=10, help="size of each test's input")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="judge-import-bench-") as tmp:
        work = Path(tmp)
        validated = write_package(work / "validated" / "bench", args.tests, args.kib, True)
        plain = write_package(work / "plain" / "bench", args.tests, args.kib, False)
        with_v: list[float] = []
        without: list[float] = []
        for r in range(args.rounds):
            # Interleaved, so a noisy neighbour hits both alike.
            with_v.append(import_once(validated, work))
            without.append(import_once(plain, work))
            print(f"round {r + 1}: {with_v[-1]:.2f} s with the input validator, "
                  f"{without[-1]:.2f} s without", flush=True)  # fmt: skip
        a, b = statistics.median(with_v), statistics.median(without)
        print(f"\n{args.tests} tests of {args.kib} KiB, median of {args.rounds} rounds:")
        print(f"  import with its input validator run on every test: {a:.2f} s")
        print(f"  import without an input validator (baseline):      {b:.2f} s")
        print(f"  ratio {a / b:.2f}; the validator costs {(a - b) / args.tests * 1000:.1f} ms/test")


if __name__ == "__main__":
    main()
