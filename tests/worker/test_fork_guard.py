"""worker.db.guard_forks: a process forked while another thread of its parent holds an SQLite
write transaction must still be able to write (a Celery pool process is forked from the main
process, whose sweeper and webhook threads write, whenever one dies).

Each case runs in a subprocess of its own: fork hooks cannot be removed once registered."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIO = r"""
import os, sys, threading, time
from sqlalchemy import text
from worker import db

guarded = sys.argv[1] == "guarded"
if guarded:
    db.guard_forks()
engine = db.sessions().kw["bind"]
with engine.begin() as c:
    c.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))

held, go = threading.Event(), threading.Event()
def writer():
    with engine.begin() as c:              # the sweeper, mid-write
        c.execute(text("INSERT INTO t VALUES (1)"))
        held.set()
        time.sleep(0.6)
thread = threading.Thread(target=writer)
thread.start()
held.wait()
asked = time.monotonic()
pid = os.fork()                             # the pool replacing a dead process
if pid == 0:
    from sqlalchemy import create_engine
    child = create_engine(str(engine.url), connect_args={"timeout": 2})
    time.sleep(0.8)                         # the parent's write has ended by now
    try:
        with child.begin() as c:
            c.execute(text("INSERT INTO t VALUES (2)"))
    except Exception as exc:
        sys.stderr.write(f"child: {type(exc).__name__}: {exc}\n")
        os._exit(1)
    os._exit(0)
waited = time.monotonic() - asked
thread.join()
_, status = os.waitpid(pid, 0)
with engine.connect() as c:
    rows = sorted(x for (x,) in c.execute(text("SELECT x FROM t")))
print(os.waitstatus_to_exitcode(status), round(waited, 2), rows)
"""


def _scenario(tmp_path: Path, mode: str) -> tuple[int, float, str]:
    env = {**os.environ, "JUDGE_DATABASE_URL": f"sqlite:///{tmp_path / mode}.db"}
    proc = subprocess.run([sys.executable, "-c", SCENARIO, mode], capture_output=True,
                          text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    code, waited, rows = proc.stdout.split(maxsplit=2)
    return int(code), float(waited), rows.strip() + proc.stderr


@pytest.mark.parametrize("mode", ["unguarded", "guarded"])
def test_a_child_forked_mid_write_can_write(tmp_path: Path, mode: str) -> None:
    code, waited, rest = _scenario(tmp_path, mode)
    if mode == "unguarded":
        # What the guard is for: SQLite's in-process lock records cross the fork, and the
        # child is refused every write although no one holds the lock any more.
        assert code == 1 and "database is locked" in rest, rest
        assert waited < 0.3
    else:
        # The fork waited for the write to end, and the child then wrote.
        assert code == 0, rest
        assert waited >= 0.4, waited
        assert rest.startswith("[1, 2]"), rest
