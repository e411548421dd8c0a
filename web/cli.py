"""The ``judge`` command (DESIGN 3.5): run the parts, manage tokens, users and problems.

Errors a user can fix (a bad path, an invalid problem) print one line on stderr and exit 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import store


def cmd_web(args: argparse.Namespace) -> int:
    import uvicorn

    from store import datalock, env, logs
    from web import config
    from web.http_deadline import DeadlineH11Protocol

    _check_env("web", "worker")  # it sends tasks through the worker's Celery app
    config.load()  # a bad JUDGE_* value stops here with one line, not in a worker traceback
    try:
        _hold_data_lock()
    except datalock.Busy as e:
        print(f"judge web: {e}", file=sys.stderr)
        return 2
    DeadlineH11Protocol.header_timeout = env.number("JUDGE_HEADER_TIMEOUT")
    DeadlineH11Protocol.body_timeout = env.number("JUDGE_BODY_TIMEOUT")

    uvicorn.run(
        "web.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        proxy_headers=True,
        http=DeadlineH11Protocol,
        log_config=logs.uvicorn_config("web", args.log_level),
        log_level=(args.log_level or logs.level()).lower(),
    )
    return 0


def _hold_data_lock() -> None:
    """Refuse (datalock.Busy) to share a SQLite data directory with a running ``judge up``
    (unless this process is one of its children); see store.datalock."""
    from store import datalock, db

    url = store.default_url()
    datalock.hold_for_part(db.data_dir().resolve(), url)


def _check_env(*parts: str) -> None:
    """Validate the JUDGE_* settings these parts read (ConfigError: one line, exit 2)."""
    from store import env

    for warning in env.check(parts):
        print(f"judge: warning: {warning}", file=sys.stderr)


def cmd_config(args: argparse.Namespace) -> int:
    """Print every setting in force (secrets masked); exit 2 naming the first bad one."""
    from store import env

    _check_env("web", "worker", "up")
    for var in env.SCHEMA:
        raw = os.environ.get(var.name, "").strip()
        if var.name == "JUDGE_SECRET_KEY" and raw:
            raw = "(set, hidden)"
        raw = re.sub(r"://([^:@/]*):[^@/]*@", r"://\1:***@", raw)  # passwords in URLs
        value = raw or f"{var.default_text} (default)"
        print(f"{var.name}={value}")
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from worker.__main__ import main as worker_main

    argv = ["--queues", args.queues]
    if args.concurrency:
        argv += ["--concurrency", str(args.concurrency)]
    worker_main(argv)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    url = store.default_url()
    store.upgrade(url)
    print(f"database is at the newest schema: {store.make_engine(url).url!r}")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    """A token for an existing user; making the user or an admin of it only when asked."""
    from web import accounts

    if args.promote and not args.admin:
        return _refuse("--promote goes with --admin (it makes an existing user an admin)")
    sessions = store.session_factory(store.init_db())
    with sessions() as s:
        user = _user_named(s, args.name)
        if user is None:
            if not args.create_user:
                return _refuse(
                    f"no user {args.name!r}: `judge user create {args.name}` makes one "
                    "(with a password), or add --create-user for one with API tokens only"
                )
            if not accounts.USER_NAME.fullmatch(args.name):
                return _refuse("a name is 1-64 letters, digits, '.', '-' or '_'")
            if _user_named(s, args.name, any_case=True) is not None:
                return _refuse(f"the name {args.name!r} is taken (in another case)")
        elif args.admin and not user.is_admin and not args.promote:
            return _refuse(
                f"{args.name} is not an admin; add --promote to make it one, "
                "or leave out --admin for a token with its own rights"
            )
        token = store.create_token(s, args.name, admin=args.admin)
        admin = bool(s.scalars(_users().where(store.User.name == args.name)).one().is_admin)
        s.commit()
    print(f"token for {args.name}{' (admin)' if admin else ''}:", flush=True)
    print(token)
    return 0


def _refuse(message: str) -> int:
    """Bad input: one line on stderr, exit status 2, nothing written (no commit was made)."""
    print(f"judge: {message}", file=sys.stderr)
    return 2


def _users() -> Any:
    from sqlalchemy import select

    return select(store.User)


def _user_named(session: Any, name: str, any_case: bool = False) -> store.User | None:
    from sqlalchemy import func

    if any_case:  # names are unique regardless of case (web.accounts)
        query = _users().where(func.lower(store.User.name) == name.lower())
    else:
        query = _users().where(store.User.name == name)
    user: store.User | None = session.scalars(query).first()
    return user


def cmd_user_create(args: argparse.Namespace) -> int:
    from web import accounts

    engine = store.init_db()
    password = args.password or secrets.token_urlsafe(12)
    with store.session_factory(engine)() as s:
        try:
            accounts.create_user(s, args.name, password, admin=args.admin)
        except accounts.AccountError as e:
            return _refuse(str(e))
        s.commit()
    print(f"user {args.name} created; password:", flush=True)
    print(password)
    return 0


def cmd_user_password(args: argparse.Namespace) -> int:
    """Set or reset a user's password (a random one, printed last, or one line of stdin)."""
    from web import accounts

    given = None
    if args.stdin:
        given = sys.stdin.readline().rstrip("\r\n")
        if not given:
            return _refuse("no password on stdin (one line)")
    password = given or secrets.token_urlsafe(12)
    with store.session_factory(store.init_db())() as s:
        user = _user_named(s, args.name)
        if user is None:
            return _refuse(f"no user {args.name!r}: `judge user create {args.name}` makes one")
        try:
            accounts.set_password(s, user, password)  # also ends every session of the user
        except accounts.AccountError as e:
            return _refuse(str(e))
        s.commit()
    if given is not None:
        print(f"password of {args.name} set; its sessions are ended")
    else:
        print(f"password of {args.name} set; its sessions are ended; password:", flush=True)
        print(password)
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    """One line per user: name, admin, created, password login, last API use."""
    from sqlalchemy import func, select

    with store.session_factory(store.init_db())() as s:
        last_use = (
            select(store.ApiToken.user_id, func.max(store.ApiToken.last_used_at).label("used"))
            .group_by(store.ApiToken.user_id)
            .subquery()
        )
        rows = s.execute(
            select(store.User, last_use.c.used)
            .outerjoin(last_use, last_use.c.user_id == store.User.id)
            .order_by(store.User.name)
        ).all()
        table = [("name", "admin", "created", "password", "last API use")]
        for user, used in rows:
            table.append((
                user.name,
                "yes" if user.is_admin else "no",
                _when(user.created_at),
                "yes" if user.password_hash else "no",
                _when(used) if used else "never",
            ))  # fmt: skip
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    for row in table:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
    return 0


def _when(moment: Any) -> str:
    from datetime import UTC

    if moment.tzinfo is None:  # stored in UTC (store.types.UTCDateTime)
        moment = moment.replace(tzinfo=UTC)
    return str(moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))


def cmd_problem_import(args: argparse.Namespace) -> int:
    import time

    from sqlalchemy import select

    from store.formats import load_path
    from web.problem_io import _check_languages
    from worker.package_check import check_inputs

    sessions = store.session_factory(store.init_db())
    for raw in args.paths:
        path = Path(raw)
        started = time.monotonic()
        try:
            data = load_path(path)
            spec = store.validate(data)
            _check_languages(spec)
            with sessions() as s:
                exists = s.scalars(
                    select(store.Problem.id).where(store.Problem.slug == spec.slug)
                ).first()
                if exists is not None and not args.replace:
                    print(
                        f"judge: {path}: problem {spec.slug!r} exists; --replace to overwrite",
                        file=sys.stderr,
                    )
                    return 2
            check_inputs(spec)  # sandboxed; before any write, so a bad package leaves nothing
            with sessions() as s:
                problem = store.import_problem(s, spec)
                s.commit()
                fmt = (spec.package or {}).get("format", "native")
                print(
                    f"imported {problem.slug}: {problem.title} ({problem.test_count} tests, "
                    f"{fmt}, {len(spec.submissions)} submissions, "
                    f"{time.monotonic() - started:.1f} s)"
                )
        except (OSError, ValueError) as e:
            print(f"judge: {path}: {e}", file=sys.stderr)
            return 2
    return 0


def cmd_problem_verify(args: argparse.Namespace) -> int:
    import json
    import logging

    from worker import config
    from worker.verify import Report, Row, VerifyError, verify

    _check_env("worker")
    sessions = store.session_factory(store.init_db())
    # A package's broken validator is IE in the table; its tracebacks belong in worker logs.
    logging.getLogger("worker").setLevel(logging.CRITICAL)

    def show(row: Row) -> None:
        if not args.json:
            print(_verify_line(row), flush=True)

    try:
        report: Report = verify(sessions, args.slug, config.load(), progress=show)
    except VerifyError as e:
        print(f"judge: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.as_json()))
    else:
        for row in report.rows:
            if not row.graded:
                print(_verify_line(row))
        graded = [r for r in report.rows if r.graded]
        wrong = [r for r in graded if not r.ok]
        how = " (set from the accepted submissions)" if report.time_limit_set else ""
        print(
            f"{args.slug}: {len(graded) - len(wrong)} of {len(graded)} submissions got their"
            f" expected verdict; {len(report.rows) - len(graded)} not run;"
            f" time limit {report.time_limit:g} s{how}"
        )
    return 0 if report.ok else 1


def _verify_line(row: Any) -> str:
    mark = "ok " if row.ok else ("-- " if not row.graded else "BAD")
    expected = "/".join(row.expected)
    if row.expected_score is not None:
        expected += f" {row.expected_score:g}"
    got = row.verdict or "not run"
    if row.score is not None and row.expected_score is not None:
        got += f" {row.score:g}"
    slowest = f"{row.time:.2f} s" if row.time is not None else "-"
    tail = f"  tests {', '.join(row.mismatches[:5])}" if row.mismatches else ""
    note = f"  ({row.note})" if row.note else ""
    return f"{mark} {row.name:40} expected {expected:10} got {got:10} slowest {slowest}{tail}{note}"


def cmd_up(args: argparse.Namespace) -> int:
    from web import up

    return up.main(host=args.host, port=args.port, workers=args.workers)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="judge", description="Run and manage the judge service.")
    sub = p.add_subparsers(dest="command", required=True)

    def add(
        name: str, fn: Callable[[argparse.Namespace], int], help: str
    ) -> argparse.ArgumentParser:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(fn=fn)
        return sp

    up = add("up", cmd_up, "everything on this machine: Redis, web and workers")
    up.add_argument("--host", default="127.0.0.1")
    up.add_argument("--port", type=int, default=8000)
    up.add_argument("--workers", type=int, default=0, help="worker processes (default: CPUs)")

    web = add("web", cmd_web, "the web server (pages and /api)")
    web.add_argument("--host", default="127.0.0.1")
    web.add_argument("--port", type=int, default=8000)
    web.add_argument("--log-level", default=None, help="default: $JUDGE_LOG_LEVEL (INFO)")

    wk = add("worker", cmd_worker, "a grading worker")
    wk.add_argument("--queues", default="interactive,batch", help="in priority order")
    wk.add_argument("--concurrency", type=int, default=0, help="processes (default: CPUs)")

    add("migrate", cmd_migrate, "bring the database to the newest schema")
    add("config", cmd_config, "check the JUDGE_* settings and print those in force")

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="action", required=True)
    tc = token.add_parser(
        "create", help="make a token for an existing user; it is the last line printed"
    )
    tc.add_argument("name")
    tc.add_argument("--admin", action="store_true", help="the user must be an admin")
    tc.add_argument(
        "--promote", action="store_true", help="with --admin: make an existing user an admin"
    )
    tc.add_argument(
        "--create-user", action="store_true", help="make the user (API tokens only) if new"
    )
    tc.set_defaults(fn=cmd_token_create)

    user = sub.add_parser("user", help="web accounts").add_subparsers(dest="action", required=True)
    uc = user.add_parser("create", help="make a web account; the password is the last line")
    uc.add_argument("name")
    uc.add_argument("--admin", action="store_true")
    uc.add_argument("--password", help="default: a random one")
    uc.set_defaults(fn=cmd_user_create)
    up_ = user.add_parser(
        "password", help="set or reset a password; a random one is the last line printed"
    )
    up_.add_argument("name")
    up_.add_argument("--stdin", action="store_true", help="read the password from stdin")
    up_.set_defaults(fn=cmd_user_password)
    ul = user.add_parser("list", help="every user: admin, created, password, last API use")
    ul.set_defaults(fn=cmd_user_list)

    problem = sub.add_parser("problem", help="problems").add_subparsers(
        dest="action", required=True
    )
    pi = problem.add_parser("import", help="import problem directories or zips")
    pi.add_argument("paths", nargs="+", metavar="DIR_OR_ZIP")
    pi.add_argument("--replace", action="store_true", help="overwrite an existing problem")
    pi.set_defaults(fn=cmd_problem_import)
    pv = problem.add_parser(
        "verify", help="grade the package's own submissions; exit 1 on a wrong verdict"
    )
    pv.add_argument("slug")
    pv.add_argument("--json", action="store_true", help="one JSON object")
    pv.set_defaults(fn=cmd_problem_verify)

    from web import batch_cli  # judge batch submit|status|cancel: a client of the HTTP API

    batch_cli.add_parser(sub)
    from web import languages_cli  # judge languages list|install

    languages_cli.add_parser(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    fn: Callable[[argparse.Namespace], int] = args.fn
    from web.config import ConfigError

    try:
        return fn(args)
    except ConfigError as e:
        print(f"judge: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
