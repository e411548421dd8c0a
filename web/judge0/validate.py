"""One Judge0 submission body, checked as Judge0 checks it, errors in Judge0's 422 shape:
``{"field": ["message", ...]}``."""

from __future__ import annotations

import base64
import binascii
import math
from dataclasses import dataclass
from typing import Any

from store import webhooks
from web.config import Settings
from web.judge0 import config
from web.judge0 import languages as j0lang
from worker import judge0 as worker_judge0

Errors = dict[str, list[str]]
TEXT_FIELDS = ("source_code", "stdin", "expected_output")
_FLAGS = ("redirect_stderr_to_stdout",)
# Integer columns in Judge0: a fraction is cut off there too.
_INTEGERS = ("memory_limit", "stack_limit", "max_processes_and_or_threads", "max_file_size",
             "number_of_runs")  # fmt: skip
_NEVER = (
    "enable_per_process_and_thread_time_limit",
    "enable_per_process_and_thread_memory_limit",
)


@dataclass(frozen=True)
class Parsed:
    language_id: int
    language: str  # ours
    source: bytes
    stdin: bytes | None
    expected: bytes | None
    zip: bytes | None
    options: dict[str, Any]


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _bytes(value: Any, encoded: bool) -> bytes | None:
    """None for absent; ValueError for what cannot be the field's bytes."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("must be a string")
    if not encoded:
        return value.encode()
    try:
        return base64.b64decode(value.replace("\n", "").replace("\r", ""), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not valid Base64") from None


def _show(bound: float) -> str:
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def _number(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError
    number = float(value)
    if not math.isfinite(number):
        raise ValueError
    return number


def parse(body: Any, *, encoded: bool, settings: Settings) -> Parsed | Errors:
    errors: Errors = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not isinstance(body, dict):
        return {"submission": ["must be a JSON object"]}
    texts: dict[str, bytes | None] = {}
    for name in TEXT_FIELDS:
        try:
            texts[name] = _bytes(body.get(name), encoded)
        except ValueError as e:
            add(name, str(e))
    source = texts.get("source_code")
    if "source_code" not in errors and not source:
        add("source_code", "can't be blank")
    elif source and len(source) > settings.max_source_bytes:
        add("source_code", f"is too long (maximum is {settings.max_source_bytes} bytes)")
    for name in ("stdin", "expected_output"):
        text = texts.get(name)
        if text and len(text) > settings.run_maxima.output:
            add(name, f"is too long (maximum is {settings.run_maxima.output} bytes)")

    raw_id = body.get("language_id")
    lang = None
    language_id = 0
    if raw_id is None or raw_id == "":
        add("language_id", "can't be blank")
    else:
        try:
            language_id = int(raw_id)
        except (TypeError, ValueError, OverflowError):
            language_id = -1
        lang = j0lang.installed(language_id)
        if lang is None:
            add("language_id", f"language with id {raw_id} doesn't exist")

    options: dict[str, Any] = {}
    for name, (default, low, high, exclusive) in config.bounds(settings).table.items():
        raw = body.get(name)
        if raw is None or raw == "":
            options[name] = int(default) if name in _INTEGERS else default
            continue
        try:
            value = _number(raw)
        except (TypeError, ValueError, OverflowError):
            add(name, "is not a number")
            continue
        if exclusive and value <= low:
            add(name, f"must be greater than {_show(low)}")
        elif value < low:
            add(name, f"must be greater than or equal to {_show(low)}")
        elif value > high:
            add(name, f"must be less than or equal to {_show(high)}")
        options[name] = int(value) if name in _INTEGERS else value
    for name in _NEVER:
        if _truthy(body.get(name)):
            add(name, "this option cannot be enabled")
        options[name] = False
    for name in _FLAGS:
        options[name] = _truthy(body.get(name))
    if _truthy(body.get("enable_network")):
        add("enable_network", "enabling network is not allowed")
    options["enable_network"] = False
    options["callback_url"] = None
    url = body.get("callback_url")
    if url:
        try:
            # Resolves the host: callers run this off the event loop.
            webhooks.check(str(url), webhooks.allowed_networks())
            options["callback_url"] = str(url)
        except webhooks.Refused as e:
            add("callback_url", str(e).removeprefix("callback URL: "))

    for name in ("compiler_options", "command_line_arguments"):
        given = body.get(name)
        if given is None or given == "":
            options[name] = None
            continue
        if not isinstance(given, str):
            add(name, "must be a string")
            continue
        if len(given) > config.MAX_OPTIONS:
            add(name, f"is too long (maximum is {config.MAX_OPTIONS} characters)")
        options[name] = given
    if options.get("compiler_options") and lang is not None:
        name = lang.name()
        if not any(name.startswith(p + " ") for p in config.COMPILER_OPTIONS_FOR):
            allowed = " and ".join(config.COMPILER_OPTIONS_FOR)
            add("compiler_options", f"setting compiler options is only allowed for {allowed}")

    archive = None
    if body.get("additional_files"):
        try:
            # Judge0 takes additional_files Base64 whatever base64_encoded says.
            archive = _bytes(body["additional_files"], True)
            worker_judge0.unpack(archive)
        except ValueError as e:
            add("additional_files", str(e).removeprefix("additional_files: "))

    if errors or lang is None or source is None:
        return errors
    return Parsed(language_id, lang.ours, source, texts.get("stdin"),
                  texts.get("expected_output"), archive, options)  # fmt: skip
