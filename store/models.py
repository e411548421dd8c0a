"""SQLAlchemy 2 models: the database is the source of truth for every submission.

Enumerations are stored as short strings (not native database enums) so that adding a verdict
later is a code change, not a type migration, and so SQLite and PostgreSQL share one schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    literal_column,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.elements import ColumnElement

from store.types import UTCDateTime, utcnow
from store.vocab import IN_PROGRESS, Status, Verdict


def _str_enum(cls: type[Status] | type[Verdict], name: str) -> Enum:
    # Store the enum's value ("AC", "queued"), not its Python name, in a plain VARCHAR.
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=False,
        length=16,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


STATUS = _str_enum(Status, "status")

#: Not finished: waiting in the queue (or held back by worker.shares) or being graded.
UNFINISHED = (Status.QUEUED, *IN_PROGRESS)
# As SQL literals, never bound parameters: neither SQLite nor a generic PostgreSQL plan can
# prove a partial index's predicate from parameters, and would scan a user's whole history.
_UNFINISHED_SQL = ", ".join(f"'{s.value}'" for s in UNFINISHED)
_UNFINISHED_WHERE = text(f"status IN ({_UNFINISHED_SQL})")


def unfinished(status: Any) -> ColumnElement[bool]:
    """``status IN (the unfinished statuses)`` in the form that the partial index
    ``ix_submissions_unfinished_user`` serves."""
    return status.in_([literal_column(f"'{s.value}'") for s in UNFINISHED])  # type: ignore[no-any-return]


VERDICT = _str_enum(Verdict, "verdict")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A web login's scrypt hash (web.security); None for a user with API tokens only.
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Carried in every session cookie: a cookie with an older value is no session. Logging
    # out, changing the password or an admin's "log out" raise it, ending every session.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Course staff: every submission and its details visible, nothing to administer.
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # No login, no token, no session (web.deps): an account kept for its history.
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    display_name: Mapped[str] = mapped_column(String(200), default="", server_default="")

    tokens: Mapped[list[ApiToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class ApiToken(Base):
    """An API bearer token. Only a hash is kept: a leaked database leaks no usable token."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Signs the webhooks of what this token submits (HMAC-SHA256); made on first use and
    # shown to the token's holder (GET /api/webhooks/secret). Kept as is: signing needs it.
    webhook_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)

    user: Mapped[User] = relationship(back_populates="tokens")


class TestCase(Base):
    __test__ = False  # not a pytest test class, despite the name
    __tablename__ = "test_cases"
    __table_args__ = (UniqueConstraint("problem_id", "index", name="uq_test_cases_problem_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problems.id", ondelete="CASCADE"))
    index: Mapped[int] = mapped_column(Integer)  # 1-based, the order tests run in
    # Deferred: a listing that touches tests must never pull their data (issue 14: two
    # 250 MiB tests made every anonymous problem list cost gigabytes). Grading and export
    # ask for them explicitly.
    input: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    output: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # Tests sharing a group earn their points only together; None: the test stands alone.
    group: Mapped[str | None] = mapped_column(String(64), nullable=True)
    points: Mapped[float] = mapped_column(Float, default=1.0)
    # A sample: shown in full to everyone (input, expected, the program's output, the checker's
    # message). Any other test is hidden from non-admins (DESIGN 5.10).
    sample: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    # Where the test came from in its package ("secret/group1/03"), for admins and verify.
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)

    problem: Mapped[Problem] = relationship(back_populates="tests")


class Problem(Base):
    __tablename__ = "problems"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    statement: Mapped[str] = mapped_column(Text, default="")
    time_limit: Mapped[float] = mapped_column(Float, default=1.0)  # CPU seconds per test
    memory_limit: Mapped[int] = mapped_column(BigInteger)  # bytes
    output_limit: Mapped[int] = mapped_column(BigInteger)  # bytes of stdout per test
    # {"type": "tokens"} | {"type": "float", "abs": 1e-6, "rel": 1e-6}
    # | {"type": "custom", "language": "cpp", "source": "..."}
    checker: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Interactive problems (issue 8): {"language": id, "source": "..."}; None for batch problems.
    interactor: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # True: stop at the first failing test and mark the rest SK. False: run all (partial scoring).
    stop_on_failure: Mapped[bool] = mapped_column(Boolean, default=True)
    # A scoring tree (store.scoring): groups with sum/min/all aggregation, on_reject break or
    # continue, points and dependencies. None: the flat rules of worker.scoring.
    scoring: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Limits of the problem's own steps, from its package: compile_time, compile_memory,
    # wall_time (per test, overrides the default policy), validation_time, validation_memory.
    limits: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Where the problem came from: {"format": "icpc"|"polygon"|"native", ...} (the time
    # multipliers of an ICPC package, whether its time limit still has to be set by verify).
    package: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Input validators of the package, kept so they can be run again: [{language, source, ...}].
    input_validators: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    # What a non-admin sees of each test's result (web.visibility): "samples", "all", "verdicts".
    test_details: Mapped[str] = mapped_column(
        String(16), default="samples", server_default="samples"
    )
    # "public" (listed), "hidden" (by its link only), "draft" (admins and staff only).
    visibility: Mapped[str] = mapped_column(String(16), default="public", server_default="public")
    # Deleted by an admin: gone for everyone, the row kept for its submissions' history.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    tests: Mapped[list[TestCase]] = relationship(
        back_populates="problem",
        cascade="all, delete-orphan",
        order_by="TestCase.index",
    )
    submissions_shipped: Mapped[list[PackageSubmission]] = relationship(
        back_populates="problem",
        cascade="all, delete-orphan",
        order_by="PackageSubmission.id",
    )
    files: Mapped[list[ProblemFile]] = relationship(
        back_populates="problem",
        cascade="all, delete-orphan",
        order_by="ProblemFile.name",
    )

    # Kept with the problem's row by store.import_problem (the one place tests change):
    # listings and submission pages need the number of tests and the points, never the tests
    # themselves (DESIGN 5.10), and counting 200,000 rows per listed problem is not free either.
    test_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    max_score: Mapped[float] = mapped_column(Float, default=0.0, server_default="0")


class PackageSubmission(Base):
    """A submission a problem package ships with the verdicts it must get (``judge problem
    verify``): ICPC ``submissions/<verdict>/``, Polygon solutions with tags, DOMjudge
    ``@EXPECTED_RESULTS@``."""

    __tablename__ = "package_submissions"
    __table_args__ = (UniqueConstraint("problem_id", "name", name="uq_package_submissions_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))  # path in the package, "accepted/sol.cpp"
    language: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(Text)  # the entry point's text
    files: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)  # other files
    # Judge verdict codes any of which is right (["AC"], ["WA", "RE"]); score when it has one.
    expected: Mapped[list[str]] = mapped_column(JSON)
    expected_score: Mapped[float | None] = mapped_column(Float, nullable=True)

    problem: Mapped[Problem] = relationship(back_populates="submissions_shipped")


class ProblemFile(Base):
    """A file offered with the problem: a statement PDF, an attachment. Public with the problem."""

    __tablename__ = "problem_files"
    __table_args__ = (UniqueConstraint("problem_id", "name", name="uq_problem_files_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(255))
    data: Mapped[bytes] = mapped_column(LargeBinary)

    problem: Mapped[Problem] = relationship(back_populates="files")


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        # The sweeper scans in-progress rows by lease expiry; keep that scan off the full table.
        Index("ix_submissions_status_lease", "status", "lease_until"),
        # worker.shares ranks a user's unfinished submissions by id at every finish; without
        # this, the ranking read the user's whole history (17 ms at 100,000 earlier rows).
        Index(
            "ix_submissions_unfinished_user",
            "user_id",
            "id",
            sqlite_where=_UNFINISHED_WHERE,
            postgresql_where=_UNFINISHED_WHERE,
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    language: Mapped[str] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(Text)
    # The other files of a multi-file submission, {name: text}; ``source`` is the entry point.
    files: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    queue: Mapped[str] = mapped_column(String(32), default="interactive")
    #: The problem set it was submitted through (its late mark follows from the set's end).
    #: No foreign key on purpose: SQLite cannot drop a referencing column, and a deleted
    #: set's id simply matches nothing.
    problem_set_id: Mapped[int | None] = mapped_column(Integer, nullable=True)

    status: Mapped[Status] = mapped_column(STATUS, default=Status.QUEUED)
    verdict: Mapped[Verdict | None] = mapped_column(VERDICT, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    time: Mapped[float | None] = mapped_column(Float, nullable=True)  # max CPU seconds of a test
    memory: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # max peak bytes
    compile_output: Mapped[str | None] = mapped_column(Text, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)  # why IE, for humans

    # Reliability bookkeeping (DESIGN 6): each claim bumps attempts and sets a lease; a worker may
    # write only while its attempt is the current one.
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)

    # When the last wake-up message was sent; a queued row much older than this lost its message
    # (Redis restarted, or the broker was down at submit time) and the sweeper sends another.
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    problem: Mapped[Problem] = relationship()
    user: Mapped[User | None] = relationship()
    results: Mapped[list[TestResult]] = relationship(
        back_populates="submission",
        cascade="all, delete-orphan",
        order_by="TestResult.test_index",
    )
    #: Earlier gradings that rejudges replaced, oldest first (written by worker.rejudge).
    history: Mapped[list[SubmissionHistory]] = relationship(
        order_by="SubmissionHistory.id", viewonly=True
    )


class TestResult(Base):
    __test__ = False  # not a pytest test class, despite the name
    __tablename__ = "test_results"
    # One row per (submission, test): a redelivered or retried grading overwrites, never duplicates.
    __table_args__ = (
        UniqueConstraint("submission_id", "test_index", name="uq_test_results_submission_test"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"))
    test_index: Mapped[int] = mapped_column(Integer)
    verdict: Mapped[Verdict] = mapped_column(VERDICT)
    points: Mapped[float] = mapped_column(Float, default=0.0)
    cpu_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    wall_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    memory: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    oom_killed: Mapped[bool] = mapped_column(Boolean, default=False)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    signal: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str] = mapped_column(Text, default="")

    submission: Mapped[Submission] = relationship(back_populates="results")


class Batch(Base):
    """A set of submissions graded together (a class's homework, a contest rejudge)."""

    __tablename__ = "batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str | None] = mapped_column(String(32), nullable=True)
    owner_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True
    )
    #: "upload" (new submissions: a JSON list or a zip), "rejudge" (existing submissions) or
    #: "verify" (a package's own submissions, judge problem verify).
    kind: Mapped[str] = mapped_column(String(16), default="upload", server_default="upload")
    #: Set by a cancel: queued items no longer get graded (see worker.batches.cancel_batch).
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A webhook once every item has ended (store.webhooks.queue_finished_batches), signed with
    # the token's secret; queued_at is set by the one UPDATE that queues it.
    callback_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    callback_token_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    callback_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    problem: Mapped[Problem] = relationship()
    owner: Mapped[User | None] = relationship()
    items: Mapped[list[BatchItem]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="BatchItem.id"
    )


class BatchItem(Base):
    """One named entry of a batch: a submission, or the reason none could be made (``error``).

    A submission may belong to several batches (its upload, then each rejudge), once per batch.
    """

    __tablename__ = "batch_items"
    __table_args__ = (
        UniqueConstraint("batch_id", "name", name="uq_batch_items_batch_name"),
        UniqueConstraint("batch_id", "submission_id", name="uq_batch_items_batch_submission"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    submission_id: Mapped[int | None] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), nullable=True, index=True
    )
    #: Why this entry has no submission (unknown extension, not UTF-8, too large ...).
    error: Mapped[str | None] = mapped_column(Text, nullable=True)

    batch: Mapped[Batch] = relationship(back_populates="items")
    submission: Mapped[Submission | None] = relationship()


class SubmissionHistory(Base):
    """A grading that a rejudge replaced: the verdict and per-test results as they were.

    Written in the same transaction as the rejudge's reset, so a submission's earlier verdicts
    are never lost; a cancelled rejudge restores the newest one.
    """

    __tablename__ = "submission_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), index=True
    )
    #: The rejudge batch that replaced this grading; None for a single rejudge.
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("batches.id", ondelete="SET NULL"), nullable=True, index=True
    )
    status: Mapped[Status] = mapped_column(STATUS)
    verdict: Mapped[Verdict | None] = mapped_column(VERDICT, nullable=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    max_score: Mapped[float | None] = mapped_column(Float, nullable=True)
    time: Mapped[float | None] = mapped_column(Float, nullable=True)
    memory: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    compile_output: Mapped[str | None] = mapped_column(Text, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: The per-test rows as they were: [{"test_index", "verdict", "points", "cpu_time", ...}].
    tests: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    graded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    replaced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship()


class ProblemSet(Base):
    """An assignment or a contest: problems in order, an optional window, members, standings.

    A member's submission to one of its problems inside the window counts, however it was made
    (store.problem_sets), so a problem may serve several sets, or practice, at once;
    ``Submission.problem_set_id`` only records a submission made through the set.
    """

    __tablename__ = "problem_sets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    #: After the end, a submission through the set is "late" (graded, marked, not counted)
    #: or "refuse"d.
    late_policy: Mapped[str] = mapped_column(String(16), default="late", server_default="late")
    #: "ioi" (sum of best scores) or "icpc" (solved, then penalty minutes).
    style: Mapped[str] = mapped_column(String(16), default="ioi", server_default="ioi")
    #: Members see the standings as they were this many minutes before the end.
    freeze_minutes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: True: every signed-in user is a member; False: the users in problem_set_members.
    everyone: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    problems: Mapped[list[ProblemSetProblem]] = relationship(
        cascade="all, delete-orphan", order_by="ProblemSetProblem.position"
    )
    members: Mapped[list[ProblemSetMember]] = relationship(cascade="all, delete-orphan")


class ProblemSetProblem(Base):
    __tablename__ = "problem_set_problems"
    __table_args__ = (
        UniqueConstraint("set_id", "problem_id", name="uq_problem_set_problems_problem"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("problem_sets.id", ondelete="CASCADE"))
    problem_id: Mapped[int] = mapped_column(
        ForeignKey("problems.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)  # 0-based column order in the standings

    problem: Mapped[Problem] = relationship()


class ProblemSetMember(Base):
    __tablename__ = "problem_set_members"
    __table_args__ = (UniqueConstraint("set_id", "user_id", name="uq_problem_set_members_user"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("problem_sets.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)

    user: Mapped[User] = relationship()


class Judge0Submission(Base):
    """A run made through the Judge0-compatible API (``/judge0``), kept so its token can be
    read later. Graded by worker.judge0 under the same lease rules as submissions (DESIGN 6):
    claimed with one UPDATE, written only by the attempt that holds the lease."""

    __tablename__ = "judge0_submissions"
    __table_args__ = (Index("ix_judge0_submissions_status_lease", "status_id", "lease_until"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(36), unique=True)  # a UUID4, Judge0's token
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    # The token it was made with: its webhook secret signs the callback.
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="SET NULL"), nullable=True
    )
    language_id: Mapped[int] = mapped_column(Integer)  # Judge0's id, as the client sent it
    language: Mapped[str] = mapped_column(String(32))  # ours (worker.languages)
    source_code: Mapped[bytes] = mapped_column(LargeBinary)
    stdin: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    expected_output: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    additional_files: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # a zip
    # The request's limits and options with Judge0's defaults filled in (cpu_time_limit,
    # memory_limit in KB, compiler_options, number_of_runs ...): one JSON, echoed by fields=*.
    options: Mapped[dict[str, Any]] = mapped_column(JSON)

    # Judge0's status id (1 In Queue, 2 Processing, 3 Accepted ... 13 Internal Error).
    status_id: Mapped[int] = mapped_column(Integer, default=1)
    stdout: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    stderr: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    compile_output: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    time: Mapped[float | None] = mapped_column(Float, nullable=True)  # CPU seconds
    wall_time: Mapped[float | None] = mapped_column(Float, nullable=True)
    memory: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # KB, as Judge0
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    exit_signal: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # Ours beside Judge0's: the judge verdict (MLE where Judge0 can only say "signal 9").
    verdict: Mapped[str | None] = mapped_column(String(16), nullable=True)
    oom_killed: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    lease_owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class SubmissionCallback(Base):
    """A submission's webhook (``callback_url`` of ``POST /api/submissions``): written with the
    submission, read when its verdict is written (worker.claims), which queues the delivery."""

    __tablename__ = "submission_callbacks"

    submission_id: Mapped[int] = mapped_column(
        ForeignKey("submissions.id", ondelete="CASCADE"), primary_key=True
    )
    url: Mapped[str] = mapped_column(Text)
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="SET NULL"), nullable=True
    )


class WebhookDelivery(Base):
    """The outbox: one webhook to send, written in the same transaction as the verdict it
    reports, so a verdict is never without its delivery (worker.webhooks sends it)."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_state_next", "state", "next_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: What the receiver deduplicates by: the same on every retry of this delivery.
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    method: Mapped[str] = mapped_column(String(8))  # PUT (Judge0's callbacks) or POST (ours)
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[bytes] = mapped_column(LargeBinary)  # JSON
    token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="SET NULL"), nullable=True
    )
    #: pending, delivered, failed (out of time), refused (an address we never send to).
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
