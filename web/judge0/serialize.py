"""A stored Judge0 submission as Judge0 serializes it: ``fields`` (``*`` for all), Base64.

``*`` means every field Judge0 CE 1.13.1 has, and no more: the official SDK asks for ``*`` and
refuses attributes it does not know. Our extra fields, ``verdict`` (the judge's code: ``MLE``
where Judge0 can only report signal 9) and ``oom_killed``, come with the default set and when
named in ``fields``.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from store.models import Judge0Submission
from web.judge0 import languages, statuses

#: Judge0's serializer attributes, in its order.
ALL = (
    "source_code", "language_id", "stdin", "expected_output", "stdout", "status_id",
    "created_at", "finished_at", "time", "memory", "stderr", "token", "number_of_runs",
    "cpu_time_limit", "cpu_extra_time", "wall_time_limit", "memory_limit", "stack_limit",
    "max_processes_and_or_threads", "enable_per_process_and_thread_time_limit",
    "enable_per_process_and_thread_memory_limit", "max_file_size", "compile_output",
    "exit_code", "exit_signal", "message", "wall_time", "compiler_options",
    "command_line_arguments", "redirect_stderr_to_stdout", "callback_url", "additional_files",
    "enable_network", "status", "language",
)  # fmt: skip
EXTRA = ("verdict", "oom_killed")
DEFAULT = ("token", "time", "memory", "stdout", "stderr", "compile_output", "message",
           "status", *EXTRA)  # fmt: skip
_TEXT = {"source_code", "stdin", "expected_output", "stdout", "stderr", "compile_output"}
_DECIMALS = {"cpu_time_limit", "cpu_extra_time", "wall_time_limit"}
NOT_UTF8 = (
    "some attributes for this submission cannot be converted to UTF-8, use base64_encoded=true "
    "query parameter"
)


class NotUtf8(Exception):
    """A text field is not UTF-8 and the client did not ask for Base64."""


def requested(fields: str | None) -> tuple[list[str], list[str]]:
    """(the fields to send, the unknown names asked for)."""
    names = [f.strip() for f in (fields or "").split(",") if f.strip()]
    known = set(ALL) | set(EXTRA)
    invalid = [n for n in names if n != "*" and n not in known]
    if "*" in names:
        return list(ALL), invalid
    chosen = [n for n in names if n in known]
    return (chosen or list(DEFAULT)), invalid


def _time(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def _seconds(value: float | None) -> str | None:
    # Judge0's decimal columns travel as strings ("0.002").
    return None if value is None else f"{value:.3f}"


def one(row: Judge0Submission, fields: list[str], *, encoded: bool) -> dict[str, Any]:
    """NotUtf8 when a text field cannot be sent as text."""
    o = row.options
    out: dict[str, Any] = {}
    for name in fields:
        value: Any
        if name in _TEXT:
            raw: bytes | None = getattr(row, name)
            if raw is None or raw == b"":
                value = None
            elif encoded:
                value = base64.b64encode(raw).decode()
            else:
                try:
                    value = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise NotUtf8(name) from None
        elif name == "additional_files":
            zipped = row.additional_files
            value = base64.b64encode(zipped).decode() if zipped else None
        elif name == "message":
            value = row.message
            if encoded and value is not None:  # Judge0 encodes the message too
                value = base64.b64encode(value.encode()).decode()
        elif name == "status":
            value = statuses.of(row.status_id)
        elif name == "language":
            lang = languages.installed(row.language_id)
            value = {"id": row.language_id, "name": lang.name() if lang else row.language}
        elif name in ("created_at", "finished_at"):
            value = _time(getattr(row, name))
        elif name in ("time", "wall_time"):
            value = _seconds(getattr(row, name))
        elif name in _DECIMALS:
            value = str(float(o[name])) if o.get(name) is not None else None
        elif name in o:
            value = o[name]
        else:
            value = getattr(row, name)
        out[name] = value
    return out
