"""``judge batch``: grade a directory of submissions through the HTTP API, with a progress bar.

::

    judge batch submit DIR --problem SLUG [--language L] [--output results.csv] [--no-wait]
    judge batch status ID [--wait] [--csv FILE]
    judge batch cancel ID

The commands talk to a running judge (``judge up`` or ``judge web``) at ``--url`` (default
``$JUDGE_URL``, else http://127.0.0.1:8000) with an admin token (``--token`` or ``$JUDGE_TOKEN``;
``judge token create NAME --admin`` makes one for an admin). ``submit`` zips DIR's files (``<name>.<ext>``,
one per student), uploads them as one batch, waits, and writes the results CSV. The progress bar
redraws in place on a terminal and prints plain lines otherwise (logs, CI, a pipe).
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import httpx

from store import env

DEFAULT_URL = "http://127.0.0.1:8000"
BAR_WIDTH = 30


class CliError(Exception):
    """One line for stderr; the command exits 2."""


def add_parser(sub: Any) -> None:
    """Register ``judge batch ...`` on the ``judge`` command's subparsers."""
    batch = sub.add_parser("batch", help="grade many submissions of one problem")
    actions = batch.add_subparsers(dest="action", required=True)

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--url", default=None, help=f"the judge (default $JUDGE_URL or {DEFAULT_URL})"
        )
        p.add_argument("--token", default=None, help="an admin API token (default $JUDGE_TOKEN)")

    sp = actions.add_parser(
        "submit", help="upload DIR's <name>.<ext> files as one batch, wait, write results.csv"
    )
    sp.add_argument("dir", metavar="DIR")
    sp.add_argument("--problem", required=True, metavar="SLUG")
    sp.add_argument("--language", default=None, help="for every file (default: by extension)")
    sp.add_argument("--output", default="results.csv", help="where the CSV goes (results.csv)")
    sp.add_argument("--as-accounts", action="store_true",
                    help="a file named after an account (alice.py) is that student's submission")  # fmt: skip
    sp.add_argument("--no-wait", action="store_true", help="print the batch id and return")
    sp.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    common(sp)
    sp.set_defaults(fn=_guarded(cmd_submit))

    st = actions.add_parser("status", help="progress and verdict counts of a batch")
    st.add_argument("id", type=int)
    st.add_argument("--wait", action="store_true", help="follow it until it is finished")
    st.add_argument("--csv", default=None, metavar="FILE", help="also write the results CSV")
    st.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)
    common(st)
    st.set_defaults(fn=_guarded(cmd_status))

    ca = actions.add_parser("cancel", help="stop a batch: queued items are not graded")
    ca.add_argument("id", type=int)
    common(ca)
    ca.set_defaults(fn=_guarded(cmd_cancel))


def _client(args: argparse.Namespace) -> httpx.Client:
    token = args.token or env.text("JUDGE_TOKEN")
    if not token:
        raise CliError(
            "an admin token is needed: --token or JUDGE_TOKEN "
            "(make one with `judge token create ADMIN --admin`)"
        )
    url = args.url or env.text("JUDGE_URL") or DEFAULT_URL
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120)


def _call(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    try:
        r = client.request(method, path, **kwargs)
    except httpx.HTTPError as e:
        raise CliError(
            f"cannot reach the judge at {client.base_url} ({e}); is it running?"
        ) from None
    if r.status_code >= 400:
        try:
            detail = r.json().get("detail", r.text)
        except ValueError:
            detail = r.text
        raise CliError(f"{method} {path}: {r.status_code} {detail}")
    return r


def _zip_dir(path: Path) -> tuple[bytes, int]:
    if not path.is_dir():
        raise CliError(f"{path}: not a directory")
    files = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise CliError(f"{path}: no files to submit (expected <name>.<ext> files)")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in files:
            zf.write(f, f.name)
    return buf.getvalue(), len(files)


class Progress:
    """``[#########.........] 30/90  AC 25 WA 5``: redrawn on a terminal, lines otherwise."""

    def __init__(self, out: TextIO, every: float = 2.0) -> None:
        self.out = out
        self.tty = out.isatty()
        self.every = every
        self.last_text = ""
        self.last_time = 0.0

    def show(self, batch: dict[str, Any], final: bool = False) -> None:
        total, done = int(batch["total"]), int(batch["done"])
        filled = BAR_WIDTH * done // total if total else BAR_WIDTH
        counts = "  ".join(f"{v} {n}" for v, n in batch["counts"].items())
        errors = f"  not graded {batch['errors']}" if batch.get("errors") else ""
        text = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}  {counts}{errors}"
        if self.tty:
            self.out.write("\r" + text.ljust(len(self.last_text)) + ("\n" if final else ""))
        elif text != self.last_text and (final or time.monotonic() - self.last_time >= self.every):
            self.out.write(text + "\n")
            self.last_time = time.monotonic()
        else:
            return
        self.last_text = text
        self.out.flush()


def _wait(client: httpx.Client, batch_id: int, interval: float) -> dict[str, Any]:
    progress = Progress(sys.stdout)
    try:
        while True:
            batch: dict[str, Any] = _call(client, "GET", f"/api/batches/{batch_id}").json()
            finished = batch["done"] >= batch["total"]
            progress.show(batch, final=finished)
            if finished:
                return batch
            time.sleep(interval)
    except KeyboardInterrupt:
        print(f"\nstopped waiting; batch {batch_id} goes on (`judge batch status {batch_id}`)")
        raise


def _write_csv(client: httpx.Client, batch_id: int, path: str) -> None:
    text = _call(client, "GET", f"/api/batches/{batch_id}/results.csv").text
    try:
        Path(path).write_text(text, encoding="utf-8")
    except OSError as e:
        raise CliError(f"cannot write {path}: {e.strerror}") from None


def _report_errors(batch: dict[str, Any]) -> None:
    for item in batch["items"]:
        if item["submission_id"] is None:
            print(f"  not graded: {item['name']}: {item['error']}")


def cmd_submit(args: argparse.Namespace) -> int:
    data, count = _zip_dir(Path(args.dir))
    with _client(args) as client:
        form = {"problem": args.problem}
        if args.language:
            form["language"] = args.language
        if args.as_accounts:
            form["as_accounts"] = "true"
        r = _call(client, "POST", "/api/batches", data=form,
                  files={"archive": ("batch.zip", data, "application/zip")})  # fmt: skip
        batch: dict[str, Any] = r.json()
        bid = batch["id"]
        graded = sum(1 for i in batch["items"] if i["submission_id"] is not None)
        print(f"batch {bid}: {graded} of {count} files queued for {args.problem}", flush=True)
        _report_errors(batch)
        if args.no_wait:
            print(f"follow it with `judge batch status {bid} --wait`")
            return 0
        batch = _wait(client, bid, args.interval)
        _write_csv(client, bid, args.output)
    print(f"batch {bid} {batch['status']}: results in {args.output}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    with _client(args) as client:
        batch: dict[str, Any] = _call(client, "GET", f"/api/batches/{args.id}").json()
        print(f"batch {batch['id']} ({batch['kind']} of {batch['problem']}): {batch['status']}, "
              f"{batch['done']}/{batch['total']} done")  # fmt: skip
        if args.wait:
            batch = _wait(client, args.id, args.interval)
        else:
            Progress(sys.stdout).show(batch, final=True)
        _report_errors(batch)
        if args.csv:
            _write_csv(client, args.id, args.csv)
            print(f"results in {args.csv}")
    return 0


def cmd_cancel(args: argparse.Namespace) -> int:
    with _client(args) as client:
        batch = _call(client, "POST", f"/api/batches/{args.id}/cancel").json()
    print(f"batch {batch['id']} {batch['status']}: {batch['done']}/{batch['total']} done; "
          "queued items will not be graded")  # fmt: skip
    return 0


def _guarded(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """User mistakes (a bad path, no token, a 4xx) are one line on stderr and exit 2."""

    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except CliError as e:
            print(f"judge: {e}", file=sys.stderr)
            return 2

    return run
