"""The grading worker: Celery tasks that compile once and run every test in the sandbox.

Public API (what ``web/`` uses; nothing here imports FastAPI)::

    import worker
    sid = worker.submit(session, "aplusb", "python3", source, user=None, queue="interactive")
        # validates (SubmitError / UnknownProblem, both ValueError), commits the row, then sends
        # the wake-up message by task name; returns the submission id
    sub = worker.create_submission(session, slug, language, source, user=None, queue="batch")
    session.commit(); worker.enqueue_many([(sub.id, "batch"), ...])   # many rows, one commit
    worker.rejudge(session, [ids], queue="batch") / worker.rejudge_problem(session, slug)
        # the grading each had is kept in store.SubmissionHistory
    worker.batches.create_batch(session, slug, [Entry...], language=None, owner=None) -> Batch
    worker.batches.rejudge_batch(session, slug) / worker.batches.cancel_batch(session, id)
        # many submissions on the batch queue; see worker.batches
    worker.languages.available() -> [Language]     # toolchain present on this host
    worker.languages.describe()  -> [{"id", "name", "source_file"}]   # GET /api/languages
    worker.languages.get(id)     -> Language       # UnknownLanguage (ValueError) if absent
    worker.run_once(language, source, stdin, limits) -> OneShot(compiled, compile_output, result)
                                                   # POST /api/runs: one sandboxed run, no DB;
                                                   # (this runs the sandbox; call it off the
                                                   # event loop, or send it to a worker)

Running a worker: ``python -m worker --queues interactive,batch --concurrency N``. Environment:
``JUDGE_REDIS_URL`` (broker), ``JUDGE_DATABASE_URL`` / ``JUDGE_DATA_DIR`` (database, see store),
``JUDGE_LEASE_SECONDS`` (60), ``JUDGE_MAX_ATTEMPTS`` (3), ``JUDGE_SWEEP_INTERVAL`` (15),
``JUDGE_REQUEUE_AFTER`` (600), ``JUDGE_RESEND_AFTER`` (20), ``JUDGE_RETRY_DELAY`` (2),
``JUDGE_VISIBILITY_TIMEOUT`` (3600).
Workers do not migrate the database: run ``store.init_db()`` (``judge migrate``) first.

Grading (worker.pipeline): claim with one UPDATE (a duplicate delivery finds nothing), compile
once, run each test with the problem's limits, check (worker.checkers), upsert each result as it
finishes, aggregate (worker.scoring). Internal errors are retried up to the attempt cap, then the
submission ends with status ``error``, verdict ``IE`` and a message; a sweeper in every worker
re-queues submissions whose lease expired (worker.sweeper).

Interactive problems (worker.interaction): a problem with an interactor runs each test as a
conversation between two boxes, the solution's and the interactor's (compiled once per process,
like a custom checker); the interactor's testlib exit code takes the checker's place.
"""

from worker import batches, languages
from worker.errors import InternalError, ProblemFault
from worker.oneshot import run_once
from worker.submit import (
    MAX_SOURCE_BYTES,
    SubmitError,
    UnknownProblem,
    create_submission,
    enqueue_many,
    rejudge,
    rejudge_problem,
    submit,
)

__all__ = [
    "MAX_SOURCE_BYTES",
    "InternalError",
    "ProblemFault",
    "SubmitError",
    "UnknownProblem",
    "batches",
    "create_submission",
    "enqueue_many",
    "languages",
    "rejudge",
    "rejudge_problem",
    "run_once",
    "submit",
]
