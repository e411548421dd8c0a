"""Every ``JUDGE_*`` environment variable in one schema, validated once at start.

Each part of the judge reads its settings through the typed getters here (``number``,
``integer``, ``flag``, ``text``, ``choice``), so a variable's default, bounds and meaning are
written once. ``check()`` validates everything a command will use before it starts anything,
and a bad value is one line naming the variable (the ``judge`` CLI and ``python -m worker``
print it and exit 2). The README table of variables is this schema (a test compares them), and
so is the docker-compose file's environment.

This module sits in ``store`` because it is the lowest layer both ``web`` and ``worker`` import;
it imports nothing but the standard library and SQLAlchemy's URL parser.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

PREFIX = "JUDGE_"
# Test suites use their own JUDGE_TEST_* knobs; they are not settings of the judge.
_NOT_OURS = ("JUDGE_TEST_",)
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")


class ConfigError(ValueError):
    """A ``JUDGE_*`` variable has a value the judge cannot use; the message names it."""


@dataclass(frozen=True)
class Var:
    name: str
    kind: str  # number, integer, flag, text, choice, path, database_url, redis_url
    default: str  # "" means unset; ``shown`` then says what happens
    help: str
    parts: str  # which processes read it: "all", "web", "worker", "up", "cli"
    minimum: float | None = None
    choices: tuple[str, ...] = ()
    shown: str = ""  # the default as the README shows it, when not ``default``

    @property
    def default_text(self) -> str:
        return self.shown or self.default


SCHEMA: tuple[Var, ...] = (
    # Where things are.
    Var("JUDGE_LOG_DIR", "path", "", "where `judge up` writes its processes' logs; put it on "
        "another disk than the data so a full data disk keeps its evidence", "up",
        shown="`$JUDGE_DATA_DIR/logs`"),
    Var("JUDGE_DATA_DIR", "path", "./var", "state of `judge up`: SQLite file, Redis data, "
        "logs, secret key", "all"),
    Var("JUDGE_DATABASE_URL", "database_url", "", "`postgresql://user:pass@host/db` or "
        "`sqlite:///path`", "all", shown="SQLite at `$JUDGE_DATA_DIR/judge.db`"),
    Var("JUDGE_REDIS_URL", "redis_url", "", "the Celery broker (and metrics, worker "
        "heartbeats)", "all", shown="`judge up`: a Redis it starts; else "
        "`redis://127.0.0.1:6379/0`"),
    Var("JUDGE_LOG_FORMAT", "choice", "text", "`json`: one JSON object per log line",
        "all", choices=("text", "json")),
    Var("JUDGE_LOG_LEVEL", "choice", "INFO", "least severe level logged", "all",
        choices=("DEBUG", "INFO", "WARNING", "ERROR")),
    # Web.
    Var("JUDGE_SECRET_KEY", "text", "", "signs session cookies; every web replica needs the "
        "same one", "web", shown="random, kept in `$JUDGE_DATA_DIR/secret_key`"),
    Var("JUDGE_MAX_SOURCE_BYTES", "integer", "262144", "largest source accepted (413 above)",
        "web", minimum=1),
    Var("JUDGE_MAX_BODY_BYTES", "integer", "67108864", "largest request body (problem zips)",
        "web", minimum=1024),
    Var("JUDGE_MAX_QUEUED", "integer", "1000", "interactive submissions waiting beyond which "
        "new ones get 503", "web", minimum=1),
    Var("JUDGE_RATE_LIMIT", "integer", "30", "submissions and runs per user per window "
        "(429 above)", "web", minimum=1),
    Var("JUDGE_RATE_WINDOW", "number", "60", "seconds of the rate-limit window", "web",
        minimum=0.001),
    Var("JUDGE_LOGIN_FAILURES_PER_ADDRESS", "integer", "20", "failed logins from one client "
        "address per login window, beyond which logins from it get 429", "web", minimum=1),
    Var("JUDGE_LOGIN_FAILURES_PER_NAME", "integer", "10", "failed logins to one account name "
        "per login window, beyond which logins to it get 429", "web", minimum=1),
    Var("JUDGE_LOGIN_WINDOW", "number", "300", "seconds of the login-failure window", "web",
        minimum=1),
    Var("JUDGE_SIGNUPS_PER_ADDRESS", "integer", "5", "new accounts from one client address "
        "per hour (429 above)", "web", minimum=1),
    Var("JUDGE_MAX_UNFINISHED", "integer", "10", "a user's submissions waiting or grading, "
        "plus runs in progress, beyond which new ones get 429", "web", minimum=1),
    Var("JUDGE_USER_SHARE", "integer", "0", "a user's interactive submissions in the queue "
        "or grading at once; the rest wait their turn, so other users' go first", "all",
        minimum=0, shown="0 (one per CPU)"),
    Var("JUDGE_PYTHON_PARSER", "flag", "1", "Python's syntax check by one long-lived "
        "sandboxed parser per worker process (a source it fails, and anything unusual, is "
        "checked in a box of its own); 0: a box per submission", "worker"),
    Var("JUDGE_MAX_RUNS_IN_PROGRESS", "integer", "1", "a user's `/api/runs` running at once "
        "(429 above)", "web", minimum=1),
    Var("JUDGE_RUN_CPU_PER_WINDOW", "number", "30", "CPU seconds a user's runs may ask for "
        "per rate-limit window (a run is charged its cpu_time limit; 429 above)", "web",
        minimum=0.1),
    Var("JUDGE_WAIT_TIMEOUT", "number", "60", "longest a `?wait=true` request is held, "
        "seconds", "web", minimum=0),
    Var("JUDGE_OPEN_SIGNUP", "flag", "1", "anyone may create an account", "web"),
    Var("JUDGE_HEADER_TIMEOUT", "number", "10", "seconds a client has, from a request's first "
        "byte, to send its headers (then the connection is closed)", "web", minimum=0.1),
    Var("JUDGE_BODY_TIMEOUT", "number", "60", "seconds a client has, from a request's first "
        "byte, to send all of its body", "web", minimum=0.1),
    Var("JUDGE_METRICS", "choice", "admin", "who may read `/metrics`: `admin` (an admin's "
        "bearer token, as Prometheus' `authorization` sends it) or `public`", "web",
        choices=("admin", "public")),
    Var("JUDGE_SECURE_COOKIES", "flag", "0", "mark the session cookie Secure (behind HTTPS)",
        "web"),
    Var("JUDGE_JUDGE0_PREFIX", "text", "/judge0", "where the Judge0 CE 1.13.1 compatible API "
        "is served (a path starting with `/`)", "web"),
    Var("JUDGE_JUDGE0_ANONYMOUS", "flag", "0", "the Judge0 API serves requests without a "
        "token (as a default Judge0 does); off: `X-Auth-Token` or a bearer token is needed",
        "web"),
    Var("JUDGE_WEBHOOK_ALLOW_NETWORKS", "text", "", "networks (CIDR, comma-separated) that "
        "callback URLs may reach although internal (loopback, private, link-local)", "all",
        shown="none"),
    Var("JUDGE_WEBHOOK_RETRY_FOR", "number", "3600", "seconds a webhook delivery is retried "
        "(with backoff up to a minute) before it is given up", "worker", minimum=1),
    # Workers.
    Var("JUDGE_LEASE_SECONDS", "number", "60", "a claim's life without news from its worker",
        "worker", minimum=1),
    Var("JUDGE_MAX_ATTEMPTS", "integer", "3", "gradings of one submission before it ends as "
        "IE", "worker", minimum=1),
    Var("JUDGE_SWEEP_INTERVAL", "number", "15", "seconds between lease sweeps (every worker "
        "sweeps)", "worker", minimum=0.1),
    Var("JUDGE_REQUEUE_AFTER", "number", "600", "a queued row older than this gets its "
        "wake-up message again, seconds", "worker", minimum=1),
    Var("JUDGE_RESEND_AFTER", "number", "20", "a queued row with no message in the broker "
        "gets one again after this, seconds", "worker", minimum=1),
    Var("JUDGE_RETRY_DELAY", "number", "2", "first delay after an internal error, doubling, "
        "seconds", "worker", minimum=0),
    Var("JUDGE_VISIBILITY_TIMEOUT", "number", "3600", "Redis redelivers an unacknowledged "
        "message after this; above the longest job", "worker", minimum=1),
    Var("JUDGE_RUST_TOOLCHAIN", "text", "", "rustup toolchain for `rust` submissions",
        "worker", shown="the newest installed"),
    # Clients (`judge batch submit`).
    Var("JUDGE_URL", "text", "http://127.0.0.1:8000", "the judge a client command talks to",
        "cli"),
    Var("JUDGE_TOKEN", "text", "", "API token of a client command (else `--token`)", "cli",
        shown="none"),
)  # fmt: skip

BY_NAME: dict[str, Var] = {v.name: v for v in SCHEMA}


def _var(name: str) -> Var:
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"{name} is not in store.env.SCHEMA") from None


def _raw(var: Var, environ: Mapping[str, str] | None) -> str:
    value = (os.environ if environ is None else environ).get(var.name, "").strip()
    return value or var.default


def parse(var: Var, raw: str) -> float | bool | str:
    """The typed value of ``raw`` for ``var``; ConfigError (one line) when it is unusable."""
    bad = f"{var.name}={raw!r}:"
    if var.kind in ("number", "integer"):
        try:
            value: float = int(raw) if var.kind == "integer" else float(raw)
        except ValueError:
            what = "a whole number" if var.kind == "integer" else "a number"
            raise ConfigError(f"{bad} {what} is expected") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"{bad} a finite number is expected")
        if var.minimum is not None and value < var.minimum:
            raise ConfigError(f"{bad} must be at least {var.minimum:g}")
        return value
    if var.kind == "flag":
        if raw.lower() in TRUE:
            return True
        if raw.lower() in FALSE:
            return False
        raise ConfigError(f"{bad} use 1 or 0 (true/false, yes/no, on/off)")
    if var.kind == "choice":
        for choice in var.choices:
            if raw.lower() == choice.lower():
                return choice
        raise ConfigError(f"{bad} one of {', '.join(var.choices)} is expected")
    if var.kind == "database_url" and raw:
        return _database_url(bad, raw)
    if var.kind == "redis_url" and raw:
        scheme = raw.partition("://")[0].lower()
        if scheme not in ("redis", "rediss", "unix") or "://" not in raw:
            raise ConfigError(f"{bad} a redis://host:port/db URL is expected")
    return raw


def _database_url(bad: str, raw: str) -> str:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw)
    except ArgumentError:
        raise ConfigError(
            f"{bad} not a database URL (postgresql://user:pass@host/db or sqlite:///path)"
        ) from None
    backend = url.get_backend_name()
    if backend in ("postgres", "postgresql"):
        return raw
    if backend == "sqlite":
        return raw
    raise ConfigError(f"{bad} the judge supports postgresql:// and sqlite:/// URLs")


def number(name: str, environ: Mapping[str, str] | None = None) -> float:
    var = _var(name)
    return float(parse(var, _raw(var, environ)))


def integer(name: str, environ: Mapping[str, str] | None = None) -> int:
    var = _var(name)
    return int(parse(var, _raw(var, environ)))


def flag(name: str, environ: Mapping[str, str] | None = None) -> bool:
    var = _var(name)
    return bool(parse(var, _raw(var, environ)))


def text(name: str, environ: Mapping[str, str] | None = None) -> str:
    """The value (validated), or "" when unset and the schema has no default."""
    var = _var(name)
    return str(parse(var, _raw(var, environ)))


choice = text


def check(
    parts: Iterable[str] = ("all", "web", "worker", "up"),
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """Validate every variable the given parts read; returns warnings (unknown JUDGE_ names).

    Raises ConfigError for the first bad value, in schema order.
    """
    wanted = set(parts) | {"all"}
    for var in SCHEMA:
        if var.parts in wanted:
            parse(var, _raw(var, environ))
    return [f"{name} is not a judge setting{_hint(name)}; it is ignored"
            for name in unknown(environ)]  # fmt: skip


def unknown(environ: Mapping[str, str] | None = None) -> list[str]:
    """``JUDGE_*`` names in the environment that no part of the judge reads (typos, mostly)."""
    env = os.environ if environ is None else environ
    return sorted(
        k for k in env
        if k.startswith(PREFIX) and k not in BY_NAME and not k.startswith(_NOT_OURS)
    )  # fmt: skip


def _hint(name: str) -> str:
    close = difflib.get_close_matches(name, BY_NAME, n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def markdown_table() -> str:
    """The README's table of variables, generated from the schema."""
    rows = ["| variable | default | used by | meaning |", "|---|---|---|---|"]
    for v in SCHEMA:
        default = v.shown or (f"`{v.default}`" if v.default else "unset")
        rows.append(f"| `{v.name}` | {default} | {v.parts} | {v.help} |")
    return "\n".join(rows)
