"""worker.judge0: Judge0 submissions graded under the lease rules, statuses split as Judge0
splits them. Real sandbox runs, real SQLite and PostgreSQL; no Celery (grade() is what the
``judge.judge0`` task calls)."""

from __future__ import annotations

import io
import signal
import uuid
import zipfile
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

import sandbox
import store
from store.models import Judge0Submission
from store.types import utcnow
from worker import judge0
from worker import judge0_status as st
from worker.config import Settings
from worker.execution import sandbox_runner

SETTINGS = Settings(redis_url="redis://unused", lease_seconds=30, max_attempts=2,
                    sweep_interval=1, requeue_after=600, retry_delay=0.1,
                    visibility_timeout=3600, resend_after=20)  # fmt: skip
OPTIONS = {
    "cpu_time_limit": 2.0, "cpu_extra_time": 0.5, "wall_time_limit": 5.0, "memory_limit": 128000,
    "stack_limit": 64000, "max_processes_and_or_threads": 60, "max_file_size": 1024,
    "number_of_runs": 1, "redirect_stderr_to_stdout": False, "compiler_options": None,
    "command_line_arguments": None,
}  # fmt: skip


@pytest.fixture
def sessions(db_url: str) -> sessionmaker[Session]:
    return store.session_factory(store.init_db(db_url))


def add(sessions: sessionmaker[Session], language: str, source: str, **kw: Any) -> int:
    row = Judge0Submission(
        token=str(uuid.uuid4()), language_id=71, language=language, source_code=source.encode(),
        options={**OPTIONS, **kw.pop("options", {})}, enqueued_at=utcnow(), **kw,
    )  # fmt: skip
    with sessions.begin() as s:
        s.add(row)
        s.flush()
        return row.id


def grade(sessions: sessionmaker[Session], row_id: int) -> tuple[str, list[Any], list[str]]:
    sent: list[Any] = []
    told: list[str] = []
    outcome = judge0.grade(
        sessions, row_id, owner="test:1", settings=SETTINGS, run=sandbox_runner,
        send=lambda i, delay: sent.append((i, delay)), notify=told.append,
    )  # fmt: skip
    return outcome, sent, told


def row(sessions: sessionmaker[Session], row_id: int) -> Judge0Submission:
    with sessions() as s:
        found = s.get(Judge0Submission, row_id)
        assert found is not None
        return found


def result(**kw: Any) -> sandbox.Result:
    return sandbox.Result(**{"verdict": sandbox.Verdict.OK, "exit_code": 0, **kw})


def test_statuses_split_runtime_errors_by_signal_as_judge0_does() -> None:
    RE, MLE = sandbox.Verdict.RUNTIME_ERROR, sandbox.Verdict.MEMORY_LIMIT
    cases = [
        (result(verdict=RE, exit_code=None, signal=signal.SIGSEGV), (st.SIGSEGV, "RE")),
        (result(verdict=RE, exit_code=None, signal=signal.SIGXFSZ), (st.SIGXFSZ, "RE")),
        (result(verdict=RE, exit_code=None, signal=signal.SIGFPE), (st.SIGFPE, "RE")),
        (result(verdict=RE, exit_code=None, signal=signal.SIGABRT), (st.SIGABRT, "RE")),
        (result(verdict=RE, exit_code=None, signal=signal.SIGTERM), (st.OTHER, "RE")),
        (result(verdict=MLE, exit_code=None, signal=signal.SIGKILL, oom_killed=True),
         (st.OTHER, "MLE")),
        (result(verdict=RE, exit_code=1), (st.NZEC, "RE")),
        (result(verdict=sandbox.Verdict.TIME_LIMIT, exit_code=None), (st.TIME_LIMIT, "TLE")),
        (result(verdict=sandbox.Verdict.OUTPUT_LIMIT), (st.SIGXFSZ, "OLE")),
        (result(verdict=sandbox.Verdict.INTERNAL_ERROR), (st.INTERNAL_ERROR, "IE")),
        # Into cpu_extra_time: finished, but over the requested limit.
        (result(cpu_time=1.2), (st.TIME_LIMIT, "TLE")),
    ]  # fmt: skip
    for r, expected in cases:
        assert st.of_run(r, 1.0, b"", None) == expected, r
    assert st.of_run(result(), 1.0, b"4 \n\n\n", b"4") == (st.ACCEPTED, "AC")
    assert st.of_run(result(), 1.0, b"4\n", b" 4") == (st.WRONG_ANSWER, "WA")
    assert st.of_run(result(), 1.0, b"anything", None) == (st.ACCEPTED, "AC")


def test_a_row_is_run_once_and_its_waiter_told(sessions: sessionmaker[Session]) -> None:
    rid = add(sessions, "python3", "print(input()[::-1])", stdin=b"abc\n",
              expected_output=b"cba")  # fmt: skip
    outcome, sent, told = grade(sessions, rid)
    r = row(sessions, rid)
    assert outcome == "Accepted" and (r.status_id, r.verdict, r.stdout) == (3, "AC", b"cba\n")
    assert told == [r.token] and sent == [] and r.attempts == 1 and r.lease_until is None
    assert r.time is not None and r.memory and r.finished_at is not None
    # A duplicate delivery finds nothing to claim and writes nothing.
    assert grade(sessions, rid) == ("nothing to claim", [], [])
    assert row(sessions, rid).attempts == 1


def test_signals_files_arguments_and_runs(sessions: sessionmaker[Session]) -> None:
    crash = {
        "*(volatile int *)0 = 1;": st.SIGSEGV,
        "volatile int a = 7, z = 0; return a / z;": st.SIGFPE,
        "abort();": st.SIGABRT,
        "for (;;) putchar('x');": st.SIGXFSZ,  # past max_file_size
    }
    for body, status in crash.items():
        src = f"#include <stdio.h>\n#include <stdlib.h>\nint main(void) {{ {body} }}\n"
        rid = add(sessions, "c", src, options={"max_file_size": 4})
        grade(sessions, rid)
        assert row(sessions, rid).status_id == status, (body, row(sessions, rid).message)

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("data/words.txt", "from the zip\n")
    src = "import sys\nprint(open('data/words.txt').read().strip(), sys.argv[1:])"
    rid = add(sessions, "python3", src, additional_files=buf.getvalue(),
              options={"command_line_arguments": "a 'b c'", "number_of_runs": 3})  # fmt: skip
    grade(sessions, rid)
    r = row(sessions, rid)
    assert r.status_id == st.ACCEPTED and r.stdout == b"from the zip ['a', 'b c']\n", r.message


def test_expired_leases_are_handed_on_then_given_up(sessions: sessionmaker[Session]) -> None:
    past = utcnow() - timedelta(seconds=5)
    again = add(sessions, "python3", "print(1)", status_id=st.PROCESSING, attempts=1,
                lease_until=past, lease_owner="gone:1")  # fmt: skip
    spent = add(sessions, "python3", "print(1)", status_id=st.PROCESSING, attempts=2,
                lease_until=past, lease_owner="gone:1")  # fmt: skip
    sent: list[Any] = []
    assert judge0.sweep(sessions, lambda i, d: sent.append(i), SETTINGS) == (1, 1, 0)
    assert sent == [again] and row(sessions, again).status_id == st.IN_QUEUE
    r = row(sessions, spent)
    assert r.status_id == st.INTERNAL_ERROR and "gave up after 2 attempts" in (r.message or "")
    # The handed-on row is graded by the next delivery, as its second attempt.
    assert grade(sessions, again)[0] == "Accepted" and row(sessions, again).attempts == 2


def test_a_lost_wakeup_is_sent_again(sessions: sessionmaker[Session]) -> None:
    rid = add(sessions, "python3", "print(1)")
    with sessions.begin() as s:
        s.get_one(Judge0Submission, rid).enqueued_at = utcnow() - timedelta(seconds=60)
    sent: list[int] = []
    # A message still in the broker: nothing to do.
    assert judge0.sweep(sessions, lambda i, d: sent.append(i), SETTINGS, live=lambda: {rid})
    assert sent == []
    assert judge0.sweep(sessions, lambda i, d: sent.append(i), SETTINGS, live=lambda: set())
    assert sent == [rid]


def test_unsafe_archives_are_refused() -> None:
    for name in ("../evil", "/etc/x"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(name, "x")
        with pytest.raises(ValueError, match="unsafe path"):
            judge0.unpack(buf.getvalue())
    with pytest.raises(ValueError, match="not a readable zip"):
        judge0.unpack(b"not a zip at all")
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big", b"\0" * (judge0.MAX_EXTRACT + 1))
    with pytest.raises(ValueError, match="more than"):
        judge0.unpack(bomb.getvalue())
    # A file that is also a directory cannot be laid out in the box: the caller's mistake,
    # named at submission (Judge0's 422), not an internal error in the worker.
    both = io.BytesIO()
    with zipfile.ZipFile(both, "w") as zf:
        zf.writestr("data", "x")
        zf.writestr("data/inner.txt", "y")
    with pytest.raises(ValueError, match="'data' is both a file and a directory"):
        judge0.unpack(both.getvalue())
    with zipfile.ZipFile(fine := io.BytesIO(), "w") as zf:
        zf.writestr("data/inner.txt", "y")
        zf.writestr("data2", "x")
    assert judge0.unpack(fine.getvalue()) == {"data/inner.txt": b"y", "data2": b"x"}


def _user(sessions: sessionmaker[Session], name: str, admin: bool = False) -> int:
    with sessions.begin() as s:
        user = store.User(name=f"{name}-{uuid.uuid4().hex[:8]}", is_admin=admin)
        s.add(user)
        s.flush()
        return user.id


def test_one_row_of_a_user_runs_at_a_time(sessions: sessionmaker[Session]) -> None:
    # Hostile audit: Judge0 lets a row ask for 20 runs of 20 s, and one account's rows held
    # every worker while others' submissions waited. A non-staff user's second row waits for
    # the first; other users and admins (an integration's token) are not held back by it.
    eve, ann, root = _user(sessions, "eve"), _user(sessions, "ann"), _user(sessions, "root", True)
    first, second = (add(sessions, "python3", "print(1)", user_id=eve) for _ in range(2))
    job = judge0.claim(sessions, first, owner="w:1", settings=SETTINGS)
    assert isinstance(job, judge0.Job)
    assert judge0.claim(sessions, second, owner="w:2", settings=SETTINGS) == judge0.Busy(
        judge0.BUSY_RETRY
    )
    other = add(sessions, "python3", "print(1)", user_id=ann)
    assert isinstance(judge0.claim(sessions, other, owner="w:3", settings=SETTINGS), judge0.Job)
    admin_rows = [add(sessions, "python3", "print(1)", user_id=root) for _ in range(2)]
    assert all(isinstance(judge0.claim(sessions, r, owner="w:4", settings=SETTINGS), judge0.Job)
               for r in admin_rows)  # fmt: skip
    # The first one ends: its worker hands the second its turn, which it then takes.
    assert judge0.finish(sessions, job, {"status_id": st.ACCEPTED, "verdict": "OK"})
    assert judge0.next_of_user(sessions, job) == second
    assert isinstance(judge0.claim(sessions, second, owner="w:2", settings=SETTINGS), judge0.Job)


def test_a_held_row_comes_back_and_runs_when_its_turn_comes(
    sessions: sessionmaker[Session],
) -> None:
    eve = _user(sessions, "eve")
    first, second = (add(sessions, "python3", "print(1)", user_id=eve) for _ in range(2))
    held = judge0.claim(sessions, first, owner="w:1", settings=SETTINGS)
    assert isinstance(held, judge0.Job)
    outcome, sent, _ = grade(sessions, second)  # while the first is in progress
    assert outcome == "waits for its user's other run" and sent == [(second, judge0.BUSY_RETRY)]
    assert judge0.finish(sessions, held, {"status_id": st.ACCEPTED, "verdict": "OK"})
    outcome, sent, told = grade(sessions, second)
    assert outcome == "Accepted" and sent == [] and len(told) == 1
    # A third, queued meanwhile, is woken by the second's end, not left to the retry.
    third = add(sessions, "python3", "print(1)", user_id=eve)
    assert (
        judge0.next_of_user(sessions, judge0.Job(second, "", 1, "", "", b"", b"", None, None, {}))
        == third
    )
