"""Persistence for the judge: SQLAlchemy 2 models, sessions and Alembic migrations.

Public API (what ``web/`` and ``worker/`` use)::

    import store
    engine = store.init_db(url=None)       # migrate to head, return an Engine; url None:
                                           # $JUDGE_DATABASE_URL, else $JUDGE_DATA_DIR/judge.db
    engine = store.make_engine(url=None)   # an Engine without migrating (workers use this)
    Session = store.session_factory(engine)  # sessionmaker; expire_on_commit=False
    store.upgrade(url) / store.downgrade(url, rev)   # `judge migrate`

    with Session() as s:
        p = store.import_problem(s, {"slug": "aplusb", "tests": [...]})   # dict, or:
        store.import_problem(s, store.load_archive(zip_bytes))             # zip bytes
        store.import_problem(s, store.load_directory(path))                # a directory
        s.commit()                          # import_problem only flushes; ProblemError on bad input
        store.problem_to_dict(p)            # back to the JSON form of DESIGN 3.4
        token = store.create_token(s, "alice", admin=True); s.commit()
        user = store.user_for_token(s, token)

Models: User, ApiToken, Problem, TestCase (``index`` is 1-based), Submission, TestResult
(unique on submission_id + test_index), Batch, BatchItem, SubmissionHistory (a grading that a
rejudge replaced). Vocabulary: ``Status`` (queued, compiling, running, done, error) and
``Verdict`` (AC WA PE TLE MLE OLE RE SV CE IE SK), both ``StrEnum``. Sizes are bytes, times
seconds, datetimes aware UTC on every backend.

Submissions are created and graded through ``worker`` (``worker.submit``), which owns the
status/lease/attempt protocol; do not update those columns from elsewhere.
"""

from store.db import default_url, make_engine, session_factory
from store.migrate import downgrade, init_db, upgrade
from store.models import (
    ApiToken,
    Base,
    Batch,
    BatchItem,
    Judge0Submission,
    PackageSubmission,
    Problem,
    ProblemFile,
    Submission,
    SubmissionCallback,
    SubmissionHistory,
    TestCase,
    TestResult,
    User,
    WebhookDelivery,
)
from store.problems import (
    ArchiveTooLarge,
    ProblemError,
    import_problem,
    load_archive,
    load_directory,
    parse_size,
    problem_to_dict,
    validate,
)
from store.tokens import create_token, user_for_token
from store.types import utcnow
from store.vocab import Status, Verdict

__all__ = [
    "ApiToken",
    "ArchiveTooLarge",
    "Base",
    "Batch",
    "BatchItem",
    "Judge0Submission",
    "PackageSubmission",
    "Problem",
    "ProblemError",
    "ProblemFile",
    "Status",
    "Submission",
    "SubmissionCallback",
    "SubmissionHistory",
    "TestCase",
    "TestResult",
    "User",
    "Verdict",
    "WebhookDelivery",
    "create_token",
    "default_url",
    "downgrade",
    "import_problem",
    "init_db",
    "load_archive",
    "load_directory",
    "make_engine",
    "parse_size",
    "problem_to_dict",
    "session_factory",
    "upgrade",
    "user_for_token",
    "utcnow",
    "validate",
]
