"""Logging for every judge process: plain text, or JSON lines when ``JUDGE_LOG_FORMAT=json``.

A JSON line carries ``ts`` (UTC, ISO 8601), ``level``, ``logger``, ``msg``, ``component`` (web,
worker, up), ``host``, ``pid``, ``exc`` (a traceback, when there is one) and any ``extra=``
fields a call passed, e.g. ``log.info("graded", extra={"submission_id": 7})`` adds
``"submission_id": 7``. Uvicorn's access lines also get ``client``, ``method``, ``path`` and
``status``. One object per line, so ``jq`` and log shippers read it without a parser.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import socket
from datetime import UTC, datetime
from typing import Any

from store import env

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn's colored copy of msg
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d] %(message)s"


def json_enabled() -> bool:
    return env.choice("JUDGE_LOG_FORMAT") == "json"


def level() -> str:
    return env.choice("JUDGE_LOG_LEVEL")


class JsonFormatter(logging.Formatter):
    """One JSON object per record; values that JSON cannot hold become their ``str()``."""

    def __init__(self, component: str = "") -> None:
        super().__init__()
        self.component = component
        self.host = socket.gethostname()

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
            "component": self.component,
            "host": self.host,
            "pid": record.process,
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            client, method, path, _version, status = args
            out.update(client=client, method=method, path=path, status=status)
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in out:
                out[key] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            out["exc"] = record.exc_text
        return json.dumps(out, default=str, ensure_ascii=False)


def formatter(component: str) -> logging.Formatter:
    return JsonFormatter(component) if json_enabled() else logging.Formatter(TEXT_FORMAT)


def configure(component: str, log_level: str | None = None) -> None:
    """Send every logger's records to stderr in the chosen format (replaces root handlers)."""
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(component))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel((log_level or level()).upper())
    logging.captureWarnings(True)  # warnings.warn() output becomes records in the same format


class JsonLines(io.TextIOBase):
    """A text stream that writes each line it gets as a JSON log line on a file descriptor.

    For libraries that print straight to ``sys.__stdout__`` (Celery's shutdown notices, from
    a signal handler): no logging lock is taken, so it is safe there too.
    """

    def __init__(self, fd: int, component: str, logger: str) -> None:
        self.fd, self.component, self.logger = fd, component, logger
        self.host = socket.gethostname()
        self._pending = ""

    def writable(self) -> bool:
        return True

    def write(self, s: str) -> int:
        self._pending += s
        *lines, self._pending = self._pending.split("\n")
        for line in lines:
            if line.strip():
                self._emit(line)
        return len(s)

    def flush(self) -> None:
        if self._pending.strip():
            self._emit(self._pending)
        self._pending = ""

    def _emit(self, line: str) -> None:
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "level": "INFO",
            "logger": self.logger,
            "msg": line.rstrip(),
            "component": self.component,
            "host": self.host,
            "pid": os.getpid(),
        }
        data = (json.dumps(record, ensure_ascii=False) + "\n").encode()
        with contextlib.suppress(OSError):
            os.write(self.fd, data)


def uvicorn_config(component: str = "web", log_level: str | None = None) -> dict[str, Any]:
    """A ``logging.config`` dict for uvicorn: its loggers through our format, to stderr."""
    fmt: dict[str, Any] = (
        {"()": JsonFormatter, "component": component} if json_enabled() else {"format": TEXT_FORMAT}
    )
    lvl = (log_level or level()).upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"judge": fmt},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "judge",
                "stream": "ext://sys.stderr",
            },
        },
        "root": {"handlers": ["stderr"], "level": lvl},
        "loggers": {
            "uvicorn": {"handlers": [], "level": lvl, "propagate": True},
            "uvicorn.error": {"handlers": [], "level": lvl, "propagate": True},
            "uvicorn.access": {"handlers": [], "level": lvl, "propagate": True},
        },
    }
