"""What one poll of a set's live standings costs: ``GET /api/sets/{slug}/standings``'s work.

    python3 bench/standings_cost.py [--users 300] [--problems 4] [--per-user 10] [--rounds 30]

A fresh SQLite file in a temporary directory: a set of ``--problems`` problems and ``--users``
members, each with ``--per-user`` graded submissions per problem inside the window. Times
``web.api.sets.standings_for`` computing (the queries, the ICPC rules and the JSON model) and
answering a poll from its cache (web.ttl_cache, what polls within 2 s get), and, as the
baseline in the same run, reading the same submission rows with one plain SELECT. Prints the
medians in milliseconds and their ratios to the baseline.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy import insert, select  # noqa: E402

import store  # noqa: E402
from store import problem_sets  # noqa: E402
from store.models import Submission, User  # noqa: E402
from web.api import sets as api_sets  # noqa: E402

VERDICTS = ["AC", "WA", "TLE", "CE", "RE"]


def median_ms(fn: object, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=300)
    ap.add_argument("--problems", type=int, default=4)
    ap.add_argument("--per-user", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=30)
    args = ap.parse_args()
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        engine = store.init_db(f"sqlite:///{Path(tmp) / 'bench.db'}")
        sessions = store.session_factory(engine)
        start = datetime(2026, 12, 1, 9, tzinfo=UTC)
        with sessions() as s:
            slugs = [f"p{i}" for i in range(args.problems)]
            for slug in slugs:
                store.import_problem(s, {"slug": slug, "title": slug,
                                         "tests": [{"input": "1\n", "output": "1\n"}]})  # fmt: skip
            names = [f"u{i:04}" for i in range(args.users)]
            s.execute(insert(User), [{"name": n, "is_admin": False} for n in names])
            s.flush()
            problem_sets.save(s, problem_sets.SetData(
                slug="bench", title="Bench", problems=tuple(slugs), starts_at=start,
                ends_at=start + timedelta(hours=5), style="icpc", members=tuple(names)))  # fmt: skip
            users = dict(s.execute(select(User.name, User.id)).all())
            problems = dict(s.execute(select(store.Problem.slug, store.Problem.id)).all())
            rows = []
            for name in names:
                for slug in slugs:
                    for _ in range(args.per_user):
                        verdict = rng.choice(VERDICTS)
                        rows.append({
                            "problem_id": problems[slug], "user_id": users[name],
                            "language": "python3", "source": "", "status": "done",
                            "verdict": verdict, "score": 1.0 if verdict == "AC" else 0.0,
                            "created_at": start + timedelta(seconds=rng.randrange(5 * 3600)),
                        })  # fmt: skip
            s.execute(insert(Submission), rows)
            s.commit()

        now = start + timedelta(hours=6)
        with sessions() as s:
            pset = problem_sets.load(s, "bench")
            assert pset is not None
            ids = list(users.values())

            def baseline() -> None:
                s.execute(select(Submission.user_id, Submission.problem_id, Submission.created_at,
                                 Submission.status, Submission.verdict, Submission.score)
                          .where(Submission.user_id.in_(ids))).all()  # fmt: skip

            def computed() -> None:
                api_sets._CACHE._items.clear()  # every round a miss
                api_sets.standings_for(s, pset, None, now)

            def cached() -> None:  # as the endpoint does: load the set, then ask
                again = problem_sets.load(s, "bench")
                assert again is not None
                api_sets.standings_for(s, again, None, now)

            computed()  # warm SQLite's and SQLAlchemy's caches once, uncounted
            base = median_ms(baseline, args.rounds)
            full = median_ms(computed, args.rounds)
            hit = median_ms(cached, args.rounds)
        engine.dispose()
    print(f"{len(rows)} submissions, {args.users} users, {args.problems} problems, "
          f"{args.rounds} rounds")  # fmt: skip
    print(f"read the rows (baseline): median {base:.1f} ms")
    print(f"standings_for (ICPC):     median {full:.1f} ms  ({full / base:.2f}x the baseline)")
    print(f"a poll from the cache:    median {hit:.2f} ms  ({hit / base:.3f}x the baseline)")


if __name__ == "__main__":
    main()
