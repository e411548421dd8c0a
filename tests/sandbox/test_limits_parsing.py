"""Limits: sizes, durations, counts, defaults and coercion (pure Python, no box)."""

from __future__ import annotations

import dataclasses
import math

import pytest

import sandbox
from sandbox import Limits, SandboxError, parse_seconds, parse_size
from sandbox.limits import parse_count

MiB = 1 << 20


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (4096, 4096),
        ("4096", 4096),
        ("1k", 1 << 10),
        ("1K", 1 << 10),
        ("64M", 64 * MiB),
        ("64m", 64 * MiB),
        ("100MiB", 100 * MiB),
        ("100MB", 100 * MiB),  # binary units, documented
        ("1.5G", 3 << 29),
        ("2g", 2 << 30),
        ("1T", 1 << 40),
        (" 8M ", 8 * MiB),
        (1.5e6, 1_500_000),
    ],
)
def test_parse_size_accepts(text: object, expected: int) -> None:
    value = parse_size(text, "memory")
    assert value == expected
    assert type(value) is int


@pytest.mark.parametrize(
    "bad",
    ["10Q", "-5", -5, 0, "0", "", "M", "1.2.3M", "64 M B", "0.5", "1e3", "nan", "inf",
     math.inf, math.nan, True, None, [64], "1" * 30, 1 << 62],
)
def test_parse_size_rejects_with_named_one_line_error(bad: object) -> None:
    with pytest.raises(SandboxError) as info:
        parse_size(bad, "memory")
    message = str(info.value)
    assert message.startswith("memory:")
    assert "\n" not in message


@pytest.mark.parametrize(
    ("text", "expected"), [(1, 1.0), ("1.5", 1.5), (0.25, 0.25), (" 2 ", 2.0), ("1e-3", 0.001)]
)
def test_parse_seconds_accepts(text: object, expected: float) -> None:
    assert parse_seconds(text, "cpu_time") == pytest.approx(expected)


@pytest.mark.parametrize(
    "bad", ["abc", "", 0, "0", -1, "-0.5", "inf", "nan", math.inf, True, None, 86400 * 8, "1s"]
)
def test_parse_seconds_rejects(bad: object) -> None:
    with pytest.raises(SandboxError, match=r"^cpu_time:"):
        parse_seconds(bad, "cpu_time")


@pytest.mark.parametrize(("text", "expected"), [(1, 1), ("64", 64), (" 7 ", 7), (8.0, 8)])
def test_parse_count_accepts(text: object, expected: int) -> None:
    assert parse_count(text, "pids") == expected


@pytest.mark.parametrize("bad", [0, "0", -1, "-1", "+5", "3.5", 3.5, "abc", "", True, None,
                                 (1 << 30) + 1])
def test_parse_count_rejects(bad: object) -> None:
    with pytest.raises(SandboxError, match=r"^pids:"):
        parse_count(bad, "pids")


def test_limits_defaults_are_sane_and_typed() -> None:
    lim = Limits()
    assert lim.cpu_time > 0 and isinstance(lim.cpu_time, float)
    assert lim.wall_time is None and lim.effective_wall_time > lim.cpu_time
    for name in ("memory", "output", "file_size", "disk", "stack", "pids", "open_files"):
        value = getattr(lim, name)
        assert isinstance(value, int) and value > 0, name
    assert lim.memory >= 64 * MiB


def test_limits_parse_strings_and_keep_units() -> None:
    lim = Limits(cpu_time="1.5", wall_time=3, memory="64M", pids="16", output="1M",
                 file_size="2M", disk="8M", open_files="32", stack="8M")
    assert lim == Limits(cpu_time=1.5, wall_time=3.0, memory=64 * MiB, pids=16, output=MiB,
                         file_size=2 * MiB, disk=8 * MiB, open_files=32, stack=8 * MiB)
    assert lim.effective_wall_time == 3.0


def test_effective_wall_time_derives_from_cpu_time() -> None:
    assert Limits(cpu_time=2).effective_wall_time >= 2 * 2


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"memory": "512K"}, "memory"), ({"open_files": 3}, "open_files"),
     ({"memory": -5}, "memory"), ({"cpu_time": "abc"}, "cpu_time"), ({"pids": 0}, "pids"),
     ({"wall_time": 0}, "wall_time"), ({"disk": "10Q"}, "disk")],
)
def test_limits_reject_bad_fields_naming_them(changes: dict[str, object], field: str) -> None:
    with pytest.raises(SandboxError) as info:
        Limits(**changes)  # type: ignore[arg-type]
    assert field in str(info.value)
    assert isinstance(info.value, ValueError)


def test_limits_are_frozen_and_with_revalidates() -> None:
    lim = Limits()
    with pytest.raises(dataclasses.FrozenInstanceError):
        lim.memory = 1  # type: ignore[misc]
    assert lim.with_(memory="32M").memory == 32 * MiB
    assert lim.memory != 32 * MiB
    with pytest.raises(SandboxError):
        lim.with_(memory="lots")


def test_coerce_mapping_none_and_instance() -> None:
    lim = Limits(cpu_time=1)
    assert Limits.coerce(lim) is lim
    assert Limits.coerce(None) == Limits()
    assert Limits.coerce({"cpu_time": 1, "memory": "64M", "wall_time": None}) == Limits(
        cpu_time=1, memory="64M")


def test_coerce_unknown_key_names_it_and_the_known_ones() -> None:
    with pytest.raises(SandboxError) as info:
        Limits.coerce({"cpu_time": 1, "cpu": 2})
    message = str(info.value)
    assert "'cpu'" in message and "cpu_time" in message and "\n" not in message


@pytest.mark.parametrize("bad", [42, "cpu_time=1", ["cpu_time"]])
def test_coerce_rejects_non_mappings(bad: object) -> None:
    with pytest.raises(SandboxError, match="limits"):
        Limits.coerce(bad)  # type: ignore[arg-type]


def test_public_names_and_error_hierarchy() -> None:
    for name in sandbox.__all__:
        assert hasattr(sandbox, name), name
    assert {"run", "Limits", "Result", "Verdict", "SandboxError"} <= set(sandbox.__all__)
    assert issubclass(sandbox.SandboxError, ValueError)
    assert issubclass(sandbox.HostUnsupportedError, sandbox.SandboxError)
