"""Grade one submission: claim, compile once, run every test, check, record, aggregate.

Celery-free on purpose: the task in worker.tasks only wires the sandbox, the database and the
queue into :func:`grade`, so the whole pipeline can be driven (and tested) without a broker.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Integer, Table, bindparam, select
from sqlalchemy.orm import Session, sessionmaker

import sandbox
from store.models import Problem, Submission, TestCase
from store.problems import program_files
from store.vocab import Status, Verdict
from worker import checkers, claims, interaction, languages, protocols, scoring, shares
from worker.config import Settings
from worker.errors import InternalError, ProblemFault
from worker.execution import (
    CompileFailure,
    Program,
    RunLimits,
    Runner,
    compile_source,
    run_program,
    run_verdict,
)
from worker.scoring import TestInfo, TestOutcome, earned, summarize

log = logging.getLogger(__name__)
RESULT_FLUSH_SECONDS = 0.2  # per-test rows reach the database at least this often
RETRY_COUNTDOWN_CAP = 30.0  # the longest a re-queued submission's wake-up is delayed
#: Beyond JUDGE_LEASE_SECONDS, what a claim's lease covers: loading the job (a second to
#: spare) and a compile of any language that keeps the default compile wall time (Python's
#: syntax check, C, C++), so the usual grading starts compiling without renewing it first (a
#: write per submission). A longer compile (Java, a package's compile_time) or a slower load
#: still renews. The cost: a worker that dies in the milliseconds between its claim and its
#: compile is taken over this much later; one dying during the compile, at most a second later.
CLAIM_COVERS = languages.COMPILE_WALL + 1.0

#: enqueue(submission_id, queue, countdown_seconds): send the wake-up message again.
Enqueue = Callable[[int, str, float], None]

# What a compile may write, whatever the language's own defaults: a large static binary
# (DOMjudge's examples have one) must not be CE for its size alone.
COMPILE_FLOOR = {"file_size": 256 << 20, "disk": 512 << 20}
CHECKER_MEMORY = 512 << 20


@dataclass(frozen=True)
class Job:
    """What grading needs, read once so no database session stays open while programs run."""

    submission_id: int
    queue: str
    language: str
    source: str
    time_limit: float
    memory_limit: int
    output_limit: int
    checker: dict[str, Any]
    interactor: dict[str, Any] | None
    stop_on_failure: bool
    tests: tuple[tuple[TestInfo, bytes, bytes], ...]  # (info, input, answer)
    files: dict[str, str] | None = None  # the other files of a multi-file submission
    limits: dict[str, Any] | None = None  # the problem's package limits (store.models)
    scoring: dict[str, Any] | None = None  # a scoring tree (store.scoring)


def _load(sessions: sessionmaker[Session], submission_id: int) -> Job:
    with sessions() as s:
        sub = s.execute(_JOB, {"b_id": submission_id}).first()
        if sub is None:
            raise InternalError(f"submission {submission_id} vanished while claimed")
        tests = s.execute(_JOB_TESTS, {"b_problem": sub.problem_id}).all()
    return Job(
        submission_id=submission_id,
        queue=sub.queue,
        language=sub.language,
        source=sub.source,
        time_limit=sub.time_limit,
        memory_limit=sub.memory_limit,
        output_limit=sub.output_limit,
        checker=dict(sub.checker),
        interactor=dict(sub.interactor) if sub.interactor else None,
        stop_on_failure=sub.stop_on_failure,
        # Unpacked: a row's ``.index`` is the tuple method.
        tests=tuple((TestInfo(i, g, p), inp, out) for i, g, p, inp, out in tests),
        files=dict(sub.files) if sub.files else None,
        limits=dict(sub.limits) if sub.limits else None,
        scoring=dict(sub.scoring) if sub.scoring else None,
    )


# The job's two reads, built once on the tables: loading it as ORM objects (the submission,
# its problem, the problem's tests) cost a grading about a millisecond (bench/worker_overhead.py).
_S, _P, _T = (cast(Table, m.__table__).c for m in (Submission, Problem, TestCase))
_JOB = (
    select(
        _S.queue, _S.language, _S.source, _S.files, _S.problem_id,
        _P.time_limit, _P.memory_limit, _P.output_limit, _P.checker, _P.interactor,
        _P.stop_on_failure, _P.limits, _P.scoring,
    )
    .join_from(cast(Table, Submission.__table__), cast(Table, Problem.__table__),
               _P.id == _S.problem_id)
    .where(_S.id == bindparam("b_id", type_=Integer()))
)  # fmt: skip
_JOB_TESTS = (
    select(_T.index, _T.group, _T.points, _T.input, _T.output)
    .where(_T.problem_id == bindparam("b_problem", type_=Integer()))
    .order_by(_T.index)
)


class Unreleased(Exception):
    """The grading stopped but its claim could not be released or closed (the database or the
    broker failed too). The task must be tried again with ``held`` so the new try can take the
    claim back (:func:`claims.resume`) instead of waiting out the lease."""

    def __init__(self, held: claims.Claim, cause: BaseException) -> None:
        super().__init__(f"submission {held.submission_id} attempt {held.attempt}: {cause!r}")
        self.held = held


def grade(
    sessions: sessionmaker[Session],
    submission_id: int,
    *,
    settings: Settings,
    owner: str,
    enqueue: Enqueue,
    run: Runner,
    interact: interaction.Interact = interaction.sandbox_interact,
    held: claims.Claim | None = None,
) -> str:
    """Grade the submission if it can be claimed; returns a word for logs and tests.

    "skipped": nothing to claim (duplicate delivery, already done); "done": graded;
    "lost": the lease was taken over mid-way; "retry": internal error, re-queued;
    "failed": ended as IE (attempt cap reached, or the problem cannot be graded).

    An error of the database or broker while claiming propagates (nothing is held, the task
    retries); one while releasing or closing becomes :class:`Unreleased`. ``held``: the claim
    an earlier try of this task could not release, taken back first.
    """
    c = None
    if held is not None:
        c = claims.resume(sessions, held, owner=owner, lease_seconds=settings.lease_seconds)
    if c is None:
        c = claims.claim(
            sessions,
            submission_id,
            owner=owner,
            lease_seconds=settings.lease_seconds + CLAIM_COVERS,
            max_attempts=settings.max_attempts,
        )
    if c is None:
        log.info("submission %s: nothing to claim", submission_id)
        return "skipped"
    try:
        outcome, ended = _grade_claimed(sessions, c, settings, enqueue, run, interact)
    except Unreleased:
        raise
    except Exception as e:
        raise Unreleased(c, e) from e
    if outcome in ("done", "failed"):
        _release_next(sessions, submission_id, enqueue, ended)
    return outcome


def _release_next(
    sessions: sessionmaker[Session],
    submission_id: int,
    enqueue: Enqueue,
    ended: claims.Ended | None = None,
) -> None:
    """The submitter's next held submission (worker.shares) is due now that this one ended.
    ``ended``: its queue and user as the finishing write returned them, else they are read."""
    try:
        if ended is None:
            with sessions() as s:
                row = s.execute(
                    select(Submission.queue, Submission.user_id).where(
                        Submission.id == submission_id
                    )
                ).one()
            ended = claims.Ended(row.queue, row.user_id)
        if ended.user_id is None or not shares.holds(ended.queue, ended.user_id):
            return  # batch work and library callers hold nothing back: no write for them
        with sessions.begin() as s:
            released = shares.release_user(s, ended.user_id)
        for sid in released:
            enqueue(sid, shares.QUEUE, 0.0)
    except Exception:
        # Not this grading's failure: its verdict is written. The sweeper releases it.
        log.exception("submission %s: the submitter's next one was not released", submission_id)


def _grade_claimed(
    sessions: sessionmaker[Session],
    c: claims.Claim,
    settings: Settings,
    enqueue: Enqueue,
    run: Runner,
    interact: interaction.Interact,
) -> tuple[str, claims.Ended | None]:
    """Everything after the claim, and the finished submission's queue and user when the
    grading wrote its verdict; exceptions escape only from releasing or closing it."""
    submission_id = c.submission_id
    queue = "interactive"
    try:
        job = _load(sessions, submission_id)
        queue = job.queue
        return "done", _Grading(sessions, c, job, settings, run, interact).run()
    except claims.LeaseLost:
        # A stale attempt (stopped past its lease, or handed on): its writes were refused,
        # so it leaves no trace; whoever holds the submission now grades it.
        log.warning(
            "submission %s: lease lost by attempt %s; this attempt writes nothing",
            submission_id,
            c.attempt,
        )
        return "lost", None
    except ProblemFault as e:
        log.error("submission %s cannot be graded: %s", submission_id, e)
        claims.fail(sessions, c, str(e))
        return "failed", None
    except Exception as e:
        # Sandbox failures, a database hiccup, a bug: never the submitter's fault, so never
        # their verdict. Try again elsewhere, up to the cap.
        log.exception("submission %s attempt %s: internal error", submission_id, c.attempt)
        message = f"{type(e).__name__}: {e}" if not isinstance(e, InternalError) else str(e)
        if c.attempt >= settings.max_attempts:
            claims.fail(
                sessions, c, f"internal error, gave up after {c.attempt} attempts: {message}"
            )
            return "failed", None
        if claims.release(sessions, c, message):
            # Released: the row is queued again. Should this send fail (broker down), the
            # sweeper re-sends it (JUDGE_RESEND_AFTER), so it is not an Unreleased claim.
            try:
                enqueue(submission_id, queue, _retry_countdown(settings, c.attempt))
            except Exception:
                log.exception(
                    "submission %s: re-queued, but the wake-up was not sent", submission_id
                )
        return "retry", None


def _retry_countdown(settings: Settings, attempt: int) -> float:
    return float(min(settings.retry_delay * 2 ** (attempt - 1), RETRY_COUNTDOWN_CAP))


class _ProgramCache:
    """Compiled checkers and interactors by (language, source hash), so a problem's checker or
    interactor compiles once per worker process rather than once per submission. Small and
    bounded: they are few."""

    def __init__(self, size: int = 32) -> None:
        self._size = size
        self._items: OrderedDict[tuple[str, str], Program] = OrderedDict()

    def get(self, key: tuple[str, str]) -> Program | None:
        program = self._items.get(key)
        if program is not None:
            self._items.move_to_end(key)
        return program

    def put(self, key: tuple[str, str], program: Program) -> Program:
        self._items[key] = program
        while len(self._items) > self._size:
            self._items.popitem(last=False)
        return program


_checker_cache = _ProgramCache()


@dataclass(frozen=True)
class _Passes:
    """A test's runs and checks: the last pass's run, the verdict, and over every pass the
    slowest CPU time and the largest memory."""

    result: sandbox.Result
    verdict: Verdict
    message: str
    points: float | None
    cpu_time: float
    memory: int


class _Grading:
    """One claimed grading; every write goes through the claim's guard."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        claim: claims.Claim,
        job: Job,
        settings: Settings,
        run: Runner,
        interact: interaction.Interact,
    ) -> None:
        self.sessions = sessions
        self.claim = claim
        self.job = job
        self.settings = settings
        self.run_ = run
        self.interact = interact
        self.package_limits: dict[str, Any] = job.limits or {}
        self.limits = RunLimits(
            job.time_limit,
            job.memory_limit,
            job.output_limit,
            wall=self.package_limits.get("wall_time"),
            overflow=self.package_limits.get("output_overflow", "kill"),
        )
        # A test step holds the lease for its own wall-time limit plus the configured slack;
        # an interactive one may last the grace period longer (the interactor's last word).
        grace = interaction.GRACE if job.interactor is not None else 0.0
        self.test_lease = self.limits.wall_time() + grace + settings.lease_seconds
        self.interactor: Program | None = None
        self.checker_program: Program | None = None  # a custom checker, compiled

    def run(self) -> claims.Ended:
        job = self.job
        try:
            lang = languages.get(job.language)
        except languages.UnknownLanguage as e:
            # Another worker may have the toolchain: an internal error, so it is retried.
            raise InternalError(str(e)) from e

        compile_lease = self._compile_lease(lang)
        if not self.claim.covers(compile_lease):  # a taken-back claim (resume) always renews
            claims.renew(self.sessions, self.claim, compile_lease, status=Status.COMPILING)
        sources = {name: text.encode() for name, text in (job.files or {}).items()}
        built, compiler_output = compile_source(
            self.run_, lang, job.source, sources, limits=self._compile_limits()
        )
        if isinstance(built, CompileFailure):
            return claims.finish(
                self.sessions,
                self.claim,
                {
                    "verdict": Verdict.CE,
                    "score": 0.0,
                    "max_score": sum(info.points for info, _, _ in job.tests),
                    "compile_output": built.output,
                },
            )
        check = self._checker()
        if job.interactor is not None:
            # The interactor judges instead of the checker (DESIGN 3.4).
            self.interactor = self._tool(job.interactor, "interactor")
        claims.renew(self.sessions, self.claim, self.test_lease, status=Status.RUNNING)

        outcomes: list[TestOutcome] = []
        failed = False
        tree = job.scoring
        # Results go to the database at most every RESULT_FLUSH_SECONDS (a commit per test
        # cost a ten-test grading 29 ms on a busy 2-core machine), the last ones with the
        # verdict: the page still shows rows as they come, a fifth of a second apart.
        pending: list[dict[str, Any]] = []
        flushed_at = time.monotonic()
        for info, test_input, answer in job.tests:
            if tree is not None:
                # The tree decides: on_reject break skips the rest of a rejected group.
                if info.index in scoring.tree_skips(tree, outcomes):
                    outcomes.append(self._skip(info))
                    continue
            elif failed and job.stop_on_failure:
                outcomes.append(self._skip(info))
                continue
            try:
                outcome, row = self._run_test(built, check, info, test_input, answer)
            except Exception:
                # The progress so far stays visible (and is kept by the retry's upserts).
                if pending:
                    with contextlib.suppress(Exception):
                        claims.record_results(self.sessions, self.claim, pending, self.test_lease)
                raise
            pending.append(row)
            if time.monotonic() - flushed_at >= RESULT_FLUSH_SECONDS:
                claims.record_results(self.sessions, self.claim, pending, self.test_lease)
                pending, flushed_at = [], time.monotonic()
            outcomes.append(outcome)
            failed = failed or outcome.verdict is not Verdict.AC
        pending += [
            self._row(o, "skipped after a failed test") for o in outcomes if o.verdict is Verdict.SK
        ]

        infos = [info for info, _, _ in job.tests]
        s = summarize(infos, outcomes) if tree is None else scoring.summarize_tree(
            tree, infos, outcomes
        )
        return claims.finish(
            self.sessions,
            self.claim,
            {
                "verdict": s.verdict,
                "score": s.score,
                "max_score": s.max_score,
                "time": s.time,
                "memory": s.memory,
                "compile_output": compiler_output or None,
            },
            rows=pending,
        )

    def _compile_limits(self) -> dict[str, Any]:
        """The package's compile time and memory, over a floor that fits large binaries."""
        out: dict[str, Any] = dict(COMPILE_FLOOR)
        if "compile_time" in self.package_limits:
            out["cpu_time"] = float(self.package_limits["compile_time"])
            out["wall_time"] = out["cpu_time"] * 2 + 5
        if "compile_memory" in self.package_limits:
            out["memory"] = int(self.package_limits["compile_memory"])
        if "compile_file_size" in self.package_limits:
            size = int(self.package_limits["compile_file_size"])
            # The compile box's tmpfs holds the object file and the binary at once; its pages
            # count against compile_memory, which still bounds the whole compile.
            out["file_size"] = max(COMPILE_FLOOR["file_size"], size)
            out["disk"] = max(COMPILE_FLOOR["disk"], 2 * size)
        return out

    def _compile_lease(self, lang: languages.Language) -> float:
        wall = self._compile_limits().get("wall_time", lang.compile_limits.get("wall_time", 60))
        return float(wall) + self.settings.lease_seconds

    def _tool_limits(self, default_cpu: float, default_memory: int) -> RunLimits:
        """A checker's or interactor's limits: the package's validation limits, else the
        defaults (generous: the problem's own program is trusted to be fast)."""
        cpu = float(self.package_limits.get("validation_time", default_cpu))
        memory = int(self.package_limits.get("validation_memory", default_memory))
        return RunLimits(cpu, memory, 1 << 20, wall=cpu * 3 + 1)

    def _checker(self) -> checkers.Check:
        spec = self.job.checker
        if spec.get("type", "tokens") == "custom":
            # With an interactor too, it checks the interactor's output file (testlib).
            self.checker_program = self._tool(spec, "custom checker")
            return self._custom_checker(self.checker_program, spec)
        if self.job.interactor is not None:
            return checkers.check_tokens  # never called: the interactor judges
        return checkers.builtin(spec)

    def _tool(self, spec: dict[str, Any], what: str) -> Program:
        """The problem's own program (custom checker, interactor), compiled once per process.

        It is the problem's, not the submitter's: when it cannot be built, the problem is at
        fault (ProblemFault, not retried)."""
        try:
            lang = languages.for_tool(str(spec.get("language")))
        except languages.UnknownLanguage as e:
            raise ProblemFault(f"{what}: {e}") from e
        source = str(spec.get("source", ""))
        try:
            files = program_files(spec)
        except ValueError as e:
            raise ProblemFault(f"{what}: {e}") from e
        digest = hashlib.sha256(source.encode())
        for name in sorted(files):
            digest.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
        key = (lang.id, digest.hexdigest())
        built = _checker_cache.get(key)
        if built is None:
            claims.renew(self.sessions, self.claim, self._compile_lease(lang))
            compiled, _ = compile_source(
                self.run_, lang, source, files, limits=self._compile_limits()
            )
            if isinstance(compiled, CompileFailure):
                raise ProblemFault(f"{what} does not compile:\n{compiled.output}")
            built = _checker_cache.put(key, compiled)
        return built

    def _custom_checker(self, program: Program, spec: dict[str, Any]) -> checkers.Check:
        limits = self._checker_limits()
        protocol = protocols.get(spec.get("protocol"))
        flags = tuple(spec.get("flags") or ())

        def check(test_input: bytes, output: bytes, answer: bytes) -> checkers.CheckResult:
            call = protocol.checker_call(test_input, output, answer, flags)
            r = run_program(
                self.run_,
                program,
                limits,
                stdin=call.stdin,
                extra_args=call.args,
                extra_files=call.files,
                copy_out=call.copy_out,
            )
            return protocols.judged(protocol, "checker", r)

        return check

    def _run_test(
        self,
        program: Program,
        check: checkers.Check,
        info: TestInfo,
        test_input: bytes,
        answer: bytes,
    ) -> tuple[TestOutcome, dict[str, Any]]:
        if self.interactor is not None:
            ran = self._interact_passes(program, check, test_input, answer)
        else:
            ran = self._run_passes(program, check, test_input, answer)
        r, verdict, message, checker_points = ran.result, ran.verdict, ran.message, ran.points
        if verdict is Verdict.AC and checker_points is not None:
            # An ICPC validator's score.txt is the test's score; a test worth nothing (a
            # scoring problem's sample) stays worth nothing.
            points = checker_points if info.points > 0 else 0.0
        else:
            if checker_points is not None and checker_points >= info.points:
                verdict = Verdict.AC  # partial credit worth the whole test
            points = earned(info.points, verdict, checker_points)
        outcome = TestOutcome(
            index=info.index,
            verdict=verdict,
            points=points,
            # Several passes of a multi-pass test: the slowest and the largest.
            cpu_time=ran.cpu_time,
            memory=ran.memory,
        )
        row = self._row(outcome, message)
        row.update(
            wall_time=r.wall_time,
            oom_killed=r.oom_killed,
            exit_code=r.exit_code,
            signal=r.signal,
        )
        return outcome, row

    def _interact_passes(
        self, program: Program, check: checkers.Check, test_input: bytes, answer: bytes
    ) -> _Passes:
        """One interactive test: one conversation, or for an ICPC multi-pass interactor
        (``passes``) another on each nextpass.in it writes, until one is not accepted or it
        asks no more; the feedback directory carries over, as between a checker's passes."""
        assert self.interactor is not None
        spec = self.job.interactor or {}
        protocol = str(spec.get("protocol") or "testlib")
        passes = int(spec.get("passes", 1))
        current, cpu, memory = test_input, 0.0, 0
        kept: dict[str, bytes] = {}
        for _ in range(passes):
            r, inter = interaction.run(
                self.interact, program, self.limits, self.interactor, current, answer,
                self.job.time_limit, protocol=protocol, flags=tuple(spec.get("flags") or ()),
                tool_limits=self._interactor_limits(),
                pass_feedback=kept if passes > 1 else None,
            )  # fmt: skip
            cpu, memory = max(cpu, r.cpu_time), max(memory, r.memory_peak)
            judged = interaction.judge(program, r, inter, protocol)
            verdict, message, points = judged.verdict, judged.message, judged.points
            if verdict is Verdict.RE and not message:
                message = _exit_message(r)
            if verdict is Verdict.AC and protocol == "testlib" and self.checker_program:
                # testlib: the interactor's output file goes to the problem's checker.
                checked = check(current, inter.files.get(protocols.testlib.OUTPUT, b""), answer)
                verdict, message, points = checked.verdict, checked.message, checked.points
            following = None
            if passes > 1 and verdict is Verdict.AC:
                following = protocols.icpc.next_pass(inter)
            if following is None:
                return _Passes(r, verdict, message, points, cpu, memory)
            current = following
            kept = protocols.icpc.carried(inter)
        why = f"interactor asked for another pass after the last of {passes}"
        return _Passes(r, Verdict.IE, why, None, cpu, memory)

    def _run_passes(
        self, program: Program, check: checkers.Check, test_input: bytes, answer: bytes
    ) -> _Passes:
        """Run and check one test: once, or for an ICPC multi-pass validator (``passes``)
        again on each nextpass.in it writes, until a pass is not accepted or asks no more."""
        passes = int(self.job.checker.get("passes", 1))
        current, cpu, memory = test_input, 0.0, 0
        kept: dict[str, bytes] = {}
        for _ in range(passes):
            r = run_program(self.run_, program, self.limits, stdin=current)
            cpu, memory = max(cpu, r.cpu_time), max(memory, r.memory_peak)
            failed = run_verdict(program.language, r)
            if failed is not None:
                return _Passes(r, failed, r.message or _exit_message(r), None, cpu, memory)
            if passes == 1:
                c = check(current, r.stdout, answer)
                return _Passes(r, c.verdict, c.message, c.points, cpu, memory)
            c, following, kept = self._validator_pass(current, r.stdout, answer, kept)
            if c.verdict is not Verdict.AC or following is None:
                return _Passes(r, c.verdict, c.message, c.points, cpu, memory)
            current = following
        why = f"checker asked for another pass after the last of {passes}"
        return _Passes(r, Verdict.IE, why, None, cpu, memory)

    def _validator_pass(
        self, test_input: bytes, output: bytes, answer: bytes, kept: dict[str, bytes]
    ) -> tuple[checkers.CheckResult, bytes | None, dict[str, bytes]]:
        """One pass of a multi-pass validator: its verdict, the next pass's input (None: no
        more) and the feedback directory so far (judgemessage.txt, which the next pass
        appends to, and whatever state the validator keeps there)."""
        assert self.checker_program is not None
        icpc = protocols.icpc
        flags = tuple(self.job.checker.get("flags") or ())
        call = icpc.checker_call(test_input, output, answer, flags, feedback=kept)
        r = run_program(
            self.run_,
            self.checker_program,
            self._checker_limits(),
            stdin=call.stdin,
            extra_args=call.args,
            extra_files=call.files,
            copy_out=call.copy_out,
        )
        result = protocols.judged(icpc, "checker", r)
        following = icpc.next_pass(r) if result.verdict is Verdict.AC else None
        return result, following, icpc.carried(r)

    def _checker_limits(self) -> RunLimits:
        return self._tool_limits(max(5.0, self.job.time_limit * 2), CHECKER_MEMORY)

    def _interactor_limits(self) -> RunLimits | None:
        if not {"validation_time", "validation_memory"} & self.package_limits.keys():
            return None  # interaction.interactor_limits' defaults
        return interaction.interactor_limits(
            self.job.time_limit,
            self.limits.wall_time(),
            self.package_limits.get("validation_time"),
            self.package_limits.get("validation_memory"),
        )

    @staticmethod
    def _skip(info: TestInfo) -> TestOutcome:
        return TestOutcome(index=info.index, verdict=Verdict.SK, points=0.0)

    @staticmethod
    def _row(o: TestOutcome, message: str) -> dict[str, Any]:
        return {
            "test_index": o.index,
            "verdict": o.verdict,
            "points": o.points,
            "cpu_time": o.cpu_time,
            "memory": o.memory,
            "message": message,
            "wall_time": None,
            "oom_killed": False,
            "exit_code": None,
            "signal": None,
        }


def _exit_message(r: sandbox.Result) -> str:
    if r.signal:
        return f"killed by signal {r.signal}"
    return f"exit code {r.exit_code}"
