"""Judge0 submissions (``/judge0``) graded by a worker: claim, compile, run, store, notify.

The row in ``judge0_submissions`` is the job; the ``judge.judge0`` message carries only its id
and wakes a worker on the interactive queue, beside ``/api/runs``. The lease rules are the
submissions' (DESIGN 6): one conditional UPDATE claims the row, the result is written only by
the attempt that still holds the lease, and :func:`sweep` hands on rows whose worker vanished or
whose message was lost. After the result is committed, :func:`notify` pushes the token on a
Redis list that a ``wait=true`` request is blocked on (a list, not pub/sub: a push made before
the reader arrives waits for it, and expires on its own).
"""

from __future__ import annotations

import base64
import io
import logging
import shlex
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import and_, exists, func, or_, select, update
from sqlalchemy.orm import Session, aliased, sessionmaker

from store import webhooks
from store.models import Judge0Submission, User
from store.types import utcnow
from worker import judge0_status as st
from worker import languages, wakeups
from worker.config import Settings
from worker.errors import InternalError
from worker.execution import CompileFailure, Runner, compile_source, run_safely

log = logging.getLogger(__name__)

QUEUE = "interactive"
#: Seconds a "done" notice waits in Redis for a reader.
NOTICE_TTL = 120
_NOTICE = "judge:judge0:"
#: Languages whose compile line takes ``$COMPILER_OPTIONS`` (worker.languages), by our id.
COMPILER_OPTIONS_LANGUAGES = ("c", "cpp")
#: Bytes an additional_files zip may unpack to (Judge0's max_extract_size, 10240 KB).
MAX_EXTRACT = 10240 * 1024
MAX_EXTRA_FILES = 100

Send = Callable[[int, float], None]


def notice_key(token: str) -> str:
    return _NOTICE + token


@dataclass(frozen=True)
class Job:
    id: int
    token: str
    attempt: int
    owner: str
    language: str
    source: bytes
    stdin: bytes
    expected: bytes | None
    zip: bytes | None
    options: Mapping[str, Any]


def lease_for(language: str, options: Mapping[str, Any], base: float) -> float:
    """Long enough for the whole job: compile, then every run to its wall limit."""
    lang = languages.known(language)
    compile_wall = float(lang.compile_limits.get("wall_time", 20.0)) if lang else 20.0
    runs = int(options.get("number_of_runs", 1))
    return base + compile_wall + runs * (float(options.get("wall_time_limit", 10.0)) + 1.0)


@dataclass(frozen=True)
class Busy:
    """The row's user has another row running: it waits (its message comes back after
    ``retry_in`` seconds, or sooner when that row ends, :func:`next_of_user`)."""

    retry_in: float


#: Seconds before a held row's message comes back, should the release at its user's last
#: finish be lost.
BUSY_RETRY = 5.0


def claim(
    sessions: sessionmaker[Session], row_id: int, *, owner: str, settings: Settings
) -> Job | Busy | None:
    """Take the row if queued, or in progress under an expired lease; None if not ours to run.

    One row of a user runs at a time, unless the user is staff or an admin (an integration's
    token): Judge0 lets each row ask for 20 runs of 20 s, and one account's rows held every
    worker while other users' submissions waited (hostile audit: 50 s for an A+B)."""
    with sessions() as s:
        row = s.get(Judge0Submission, row_id)
        if row is None or row.status_id not in st.UNFINISHED:
            return None
        lease = lease_for(row.language, row.options, settings.lease_seconds)
        user_id = (
            row.user_id if row.user_id is not None and not _privileged(s, row.user_id) else None
        )
    now = utcnow()
    conditions = [
        Judge0Submission.id == row_id,
        Judge0Submission.attempts < settings.max_attempts,
        or_(
            Judge0Submission.status_id == st.IN_QUEUE,
            and_(Judge0Submission.status_id == st.PROCESSING, Judge0Submission.lease_until < now),
        ),
    ]
    if user_id is not None:
        conditions.append(~_running_of(user_id, now, other_than=row_id))
    stmt = (
        update(Judge0Submission)
        .where(*conditions)
        .values(status_id=st.PROCESSING, attempts=Judge0Submission.attempts + 1,
                lease_until=now + timedelta(seconds=lease), lease_owner=owner)
        .returning(Judge0Submission.attempts)
        .execution_options(synchronize_session=False)
    )  # fmt: skip
    with sessions.begin() as s:
        if user_id is not None and s.get_bind().dialect.name == "postgresql":
            # Two workers claiming two rows of one user at once must not both see the other
            # still queued (READ COMMITTED): one at a time per user.
            s.execute(select(func.pg_advisory_xact_lock(_LOCK_BASE + user_id)))
        attempt = s.execute(stmt).scalar_one_or_none()
        if attempt is None:
            if user_id is not None and s.scalar(select(_running_of(user_id, now, row_id))):
                return Busy(BUSY_RETRY)
            return None
        row = s.get(Judge0Submission, row_id)
        assert row is not None
        return Job(row.id, row.token, attempt, owner, row.language, row.source_code,
                   row.stdin or b"", row.expected_output, row.additional_files,
                   dict(row.options))  # fmt: skip


_LOCK_BASE = 0x4A30_0000_0000  # pg advisory lock keys: this base plus a user id


def _privileged(s: Session, user_id: int) -> bool:
    user = s.get(User, user_id)
    return user is not None and (user.is_admin or user.is_staff)


def _running_of(user_id: int, now: datetime, other_than: int) -> Any:
    """EXISTS: another row of the user in progress under a live lease."""
    other = aliased(Judge0Submission)
    return exists().where(
        other.user_id == user_id,
        other.id != other_than,
        other.status_id == st.PROCESSING,
        other.lease_until >= now,
    )


def next_of_user(sessions: sessionmaker[Session], job: Job) -> int | None:
    """The oldest row of ``job``'s user still queued: its turn, now that ``job`` has ended."""
    with sessions() as s:
        user_id = s.scalar(select(Judge0Submission.user_id).where(Judge0Submission.id == job.id))
        if user_id is None:
            return None
        return s.scalar(
            select(func.min(Judge0Submission.id)).where(
                Judge0Submission.user_id == user_id, Judge0Submission.status_id == st.IN_QUEUE
            )
        )


def _mine(job: Job) -> Any:
    return and_(
        Judge0Submission.id == job.id,
        Judge0Submission.attempts == job.attempt,
        Judge0Submission.lease_owner == job.owner,
        Judge0Submission.status_id == st.PROCESSING,
        Judge0Submission.lease_until > utcnow(),
    )


def callback_body(row: Judge0Submission) -> dict[str, Any]:
    """What Judge0 PUTs to a callback_url: the default fields, Base64-encoded."""

    def b64(raw: bytes | None) -> str | None:
        return base64.b64encode(raw).decode() if raw else None

    return {
        "token": row.token,
        "time": None if row.time is None else f"{row.time:.3f}",
        "memory": row.memory,
        "stdout": b64(row.stdout),
        "stderr": b64(row.stderr),
        "compile_output": b64(row.compile_output),
        "message": b64(row.message.encode()) if row.message else None,
        "status": {"id": row.status_id, "description": st.DESCRIPTIONS.get(row.status_id, "")},
    }


def queue_callback(s: Session, row_id: int) -> None:
    """The callback of a finished row, if it has one, in the transaction that finished it."""
    row = s.get_one(Judge0Submission, row_id, populate_existing=True)
    url = row.options.get("callback_url")
    if url:
        webhooks.queue(s, url=url, method="PUT", payload=callback_body(row),
                       token_id=row.token_id, retry_for=webhooks.retry_for())  # fmt: skip


def finish(sessions: sessionmaker[Session], job: Job, values: Mapping[str, Any]) -> bool:
    """Write the result if this attempt still holds the lease; False when it lost it. The
    callback's delivery is written in the same transaction (the outbox)."""
    final = {**values, "lease_until": None, "finished_at": utcnow()}
    with sessions.begin() as s:
        done = s.execute(
            update(Judge0Submission).where(_mine(job)).values(**final)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        if getattr(done, "rowcount", 0) != 1:
            return False
        queue_callback(s, job.id)
        return True


def release(sessions: sessionmaker[Session], job: Job, message: str) -> bool:
    """Back to the queue after an internal error, for another attempt."""
    with sessions.begin() as s:
        done = s.execute(
            update(Judge0Submission).where(_mine(job))
            .values(status_id=st.IN_QUEUE, lease_until=None, lease_owner=None,
                    enqueued_at=utcnow(), message=message)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        return bool(getattr(done, "rowcount", 0) == 1)


def unpack(raw: bytes | None) -> dict[str, bytes]:
    """The plain files of an additional_files zip; ValueError (one line) when unusable.

    Sizes are checked against the declared sizes first and every read stops one byte past
    what is left, so a zip bomb with lying headers cannot unpack here.
    """
    if not raw:
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = [i for i in zf.infolist() if not i.is_dir()]
            if len(infos) > MAX_EXTRA_FILES:
                raise ValueError(f"additional_files: more than {MAX_EXTRA_FILES} files")
            if sum(i.file_size for i in infos) > MAX_EXTRACT:
                raise ValueError(f"additional_files: unpacks to more than {MAX_EXTRACT} bytes")
            out: dict[str, bytes] = {}
            left = MAX_EXTRACT
            for info in infos:
                path = PurePosixPath(info.filename)
                if path.is_absolute() or ".." in path.parts or info.filename.startswith("\\"):
                    raise ValueError(f"additional_files: unsafe path {info.filename!r}")
                if (info.external_attr >> 16) & 0o170000 == 0o120000:
                    raise ValueError(f"additional_files: {info.filename!r} is a symlink")
                with zf.open(info) as f:
                    data = f.read(left + 1)
                if len(data) > left:
                    raise ValueError(f"additional_files: unpacks to more than {MAX_EXTRACT} bytes")
                left -= len(data)
                out[str(path)] = data
            _no_file_is_a_directory(out)
            return out
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as e:
        raise ValueError(f"additional_files: not a readable zip: {e}") from None


def _no_file_is_a_directory(files: Mapping[str, bytes]) -> None:
    """A zip holding both ``a`` and ``a/b`` cannot be laid out in a box: refused here, with
    the name, not found out in the box as an internal error the caller caused."""
    for name in files:
        parts = PurePosixPath(name).parts
        for depth in range(1, len(parts)):
            parent = "/".join(parts[:depth])
            if parent in files:
                raise ValueError(f"additional_files: {parent!r} is both a file and a directory")


def _limits(lang: languages.Language, o: Mapping[str, Any]) -> dict[str, Any]:
    memory = int(o["memory_limit"]) * 1024 + lang.memory_overhead
    file_size = max(int(o["max_file_size"]), 1) * 1024
    return {
        # isolate's -t plus -x: the program may run into the extra time, which is still TLE.
        "cpu_time": float(o["cpu_time_limit"]) + float(o["cpu_extra_time"]),
        "wall_time": float(o["wall_time_limit"]),
        "memory": memory,
        "stack": min(max(int(o["stack_limit"]), 64) * 1024, memory),
        # A JVM needs its threads whatever the client asks: never fewer than the language's.
        "pids": max(int(o["max_processes_and_or_threads"]), lang.pids),
        # Judge0 sends stdout to a file under RLIMIT_FSIZE: the same cap on both.
        "output": file_size,
        "file_size": file_size,
    }


def execute(job: Job, run: Runner) -> dict[str, Any]:
    """Compile and run (``number_of_runs`` times, stopping at the first that is not Accepted);
    the row's result columns. InternalError when the sandbox fails."""
    o = job.options
    try:
        lang = languages.get(job.language)
        files = unpack(job.zip)
    except ValueError as e:
        return {"status_id": st.INTERNAL_ERROR, "message": str(e), "verdict": "IE"}
    options = str(o.get("compiler_options") or "").strip()
    if options and job.language in COMPILER_OPTIONS_LANGUAGES:
        lang = replace(lang, compile_env={**lang.compile_env, "COMPILER_OPTIONS": options})
    built, compile_output = compile_source(run, lang, job.source, files=files)
    if isinstance(built, CompileFailure):
        return {"status_id": st.COMPILATION_ERROR, "verdict": "CE",
                "compile_output": built.output.encode() or None}  # fmt: skip
    limits = _limits(lang, o)
    args = shlex.split(str(o.get("command_line_arguments") or ""))
    cmd = built.command(int(o["memory_limit"]) * 1024) + args
    times: list[float] = []
    memories: list[int] = []
    values: dict[str, Any] = {}
    for _ in range(max(1, int(o.get("number_of_runs", 1)))):
        r = run_safely(
            run, cmd, limits, stdin=job.stdin, files=built.files,
            executables=lang.executables_in(built.files), binds=lang.binds,
        )  # fmt: skip
        stdout, stderr = r.stdout, r.stderr
        if o.get("redirect_stderr_to_stdout"):
            # The sandbox keeps two pipes: stderr comes after stdout, not interleaved.
            stdout, stderr = stdout + stderr, b""
        status, verdict = st.of_run(r, float(o["cpu_time_limit"]), stdout, job.expected)
        if verdict == "RE" and any(m in r.stderr for m in lang.mle_markers):
            verdict = "MLE"
        times.append(r.cpu_time)
        memories.append(r.memory_peak // 1024)
        values = {
            "status_id": status, "verdict": verdict, "stdout": stdout or None,
            "stderr": stderr or None, "compile_output": compile_output.encode() or None,
            "message": st.message_of(r, status), "wall_time": r.wall_time,
            "exit_code": r.exit_code if r.exit_code is not None else 0,
            "exit_signal": r.signal, "oom_killed": r.oom_killed,
        }  # fmt: skip
        if status != st.ACCEPTED:
            break
    # Judge0 reports the mean time and memory of the runs made.
    values["time"] = sum(times) / len(times)
    values["memory"] = sum(memories) // len(memories)
    return values


def grade(
    sessions: sessionmaker[Session],
    row_id: int,
    *,
    owner: str,
    settings: Settings,
    run: Runner,
    send: Send,
    notify: Callable[[str], None],
) -> str:
    """One delivery of ``judge.judge0``: the outcome for the log."""
    job = claim(sessions, row_id, owner=owner, settings=settings)
    if job is None:
        return "nothing to claim"
    if isinstance(job, Busy):
        send(row_id, job.retry_in)
        return "waits for its user's other run"
    try:
        values = execute(job, run)
    except InternalError as e:
        log.warning("judge0 %s: the sandbox failed: %s", job.token, e)
        if job.attempt < settings.max_attempts and release(sessions, job, str(e)):
            send(job.id, min(settings.retry_delay * 2**job.attempt, 30.0))
            return "released"
        values = {"status_id": st.INTERNAL_ERROR, "verdict": "IE", "message": str(e)}
    if not finish(sessions, job, values):
        return "lease lost"
    try:
        notify(job.token)
    except Exception as e:  # the result is stored; a waiting request falls back to the row
        log.warning("judge0 %s: the done notice was not sent: %s", job.token, e)
    following = next_of_user(sessions, job)
    if following is not None:
        send(following, 0.0)  # (a held row's own message comes back anyway: BUSY_RETRY)
    return st.DESCRIPTIONS.get(int(values["status_id"]), "?")


def sweep(
    sessions: sessionmaker[Session],
    send: Send,
    settings: Settings,
    live: wakeups.Live | None = None,
    now: datetime | None = None,
) -> tuple[int, int, int]:
    """One pass: (requeued, failed, resent). Expired leases go back to the queue or, at the
    attempt cap, end as Internal Error; queued rows whose message is gone are sent again."""
    now = now or utcnow()
    expired = and_(Judge0Submission.status_id == st.PROCESSING, Judge0Submission.lease_until < now)
    waited = now - timedelta(seconds=settings.resend_after)
    orphans: list[int] = []
    if live is not None:
        with sessions() as s:
            waiting = s.scalars(
                select(Judge0Submission.id)
                .where(
                    Judge0Submission.status_id == st.IN_QUEUE, Judge0Submission.enqueued_at < waited
                )
                .limit(1000)
            ).all()
        orphans = wakeups.lost(list(waiting), live)
    with sessions.begin() as s:
        failed = s.execute(
            update(Judge0Submission)
            .where(expired, Judge0Submission.attempts >= settings.max_attempts)
            .values(status_id=st.INTERNAL_ERROR, verdict="IE", finished_at=now, lease_until=None,
                    message=f"gave up after {settings.max_attempts} attempts: the worker "
                            "running it stopped responding each time")
            .returning(Judge0Submission.id, Judge0Submission.token)
            .execution_options(synchronize_session=False)
        ).all()  # fmt: skip
        for row_id, _ in failed:
            queue_callback(s, row_id)
        requeued = s.execute(
            update(Judge0Submission)
            .where(expired, Judge0Submission.attempts < settings.max_attempts)
            .values(status_id=st.IN_QUEUE, lease_until=None, lease_owner=None, enqueued_at=now)
            .returning(Judge0Submission.id)
            .execution_options(synchronize_session=False)
        ).scalars().all()  # fmt: skip
        stale = now - timedelta(seconds=settings.requeue_after)
        resent = s.execute(
            update(Judge0Submission)
            .where(Judge0Submission.status_id == st.IN_QUEUE,
                   or_(Judge0Submission.enqueued_at < stale,
                       and_(Judge0Submission.id.in_(orphans),
                            Judge0Submission.enqueued_at < waited)))
            .values(enqueued_at=now)
            .returning(Judge0Submission.id)
            .execution_options(synchronize_session=False)
        ).scalars().all()  # fmt: skip
    for row_id in [*requeued, *resent]:
        send(row_id, 0.0)
    for _, token in failed:
        log.error("judge0 %s ended as Internal Error: out of attempts", token)
    return len(requeued), len(failed), len(resent)
