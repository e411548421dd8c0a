"""The seccomp program's disk cache (sandbox/_cache.py): it saves a one-shot run from
compiling the filter, and an attacker who can write where it lives must not get a weaker
filter into a box (or their helper binary run as root)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from sandbox import _cache, seccomp
from sandbox._native import helper_path
from sandbox.errors import HostUnsupportedError

POLICY = seccomp.Policy()
NOBODY = 65534


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("SANDBOX_CACHE_DIR", str(directory))
    return directory


def _entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("seccomp-*.bpf"))


def test_a_second_process_reads_the_program_without_pyseccomp(
        cache: Path, host_python: Callable[..., subprocess.CompletedProcess[str]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    program = seccomp._cached_compile(POLICY)
    [entry] = _entries(cache)
    assert entry.stat().st_mode & 0o777 == 0o600
    assert program == seccomp._compile(POLICY)
    proc = host_python(
        "import sys\n"
        "from sandbox import seccomp\n"
        f"assert seccomp.compile_policy(seccomp.Policy()).hex() == {program.hex()!r}\n"
        "assert 'pyseccomp' not in sys.modules, 'compiled again'\n")
    assert proc.returncode == 0, proc.stderr


def test_relaxations_get_their_own_entry(cache: Path) -> None:
    strict = seccomp._cached_compile(POLICY)
    relaxed = seccomp._cached_compile(seccomp.Policy("default", frozenset({"ptrace"})))
    assert strict != relaxed and len(_entries(cache)) == 2
    assert seccomp._cached_compile(POLICY) == strict


def _forge(entry: Path, program: bytes) -> None:
    """What an attacker with write access to the entry would put there: the header kept,
    the allow-everything program of relaxed rules in place of ours."""
    data = entry.read_bytes()
    head = data[: len(data) - len(seccomp._compile(POLICY))]
    entry.write_bytes(head + program)


def test_a_changed_program_is_not_used(cache: Path) -> None:
    good = seccomp._cached_compile(POLICY)
    [entry] = _entries(cache)
    weak = seccomp._compile(seccomp.Policy("default", frozenset(seccomp.KILL_RULES)))
    _forge(entry, weak[: len(good)].ljust(len(good), b"\0"))
    assert seccomp._cached_compile(POLICY) == good  # digest mismatch: compiled afresh
    assert _cache.read(str(cache), entry.name) is not None  # and the entry rewritten


def test_another_keys_entry_under_this_name_is_not_used(cache: Path) -> None:
    good = seccomp._cached_compile(POLICY)
    relaxed_policy = seccomp.Policy("default", frozenset({"ptrace", "bpf"}))
    seccomp._cached_compile(relaxed_policy)
    ours, = (e for e in _entries(cache)
             if e.name == f"seccomp-{seccomp._cache_key(POLICY)[:32]}.bpf")  # type: ignore[index]
    other, = (e for e in _entries(cache) if e != ours)
    os.replace(other, ours)  # a whole, self-consistent entry made for a weaker policy
    assert seccomp._cached_compile(POLICY) == good


@pytest.mark.parametrize("kind", ["symlink", "foreign owner", "group-writable", "hard link",
                                  "fifo"])
def test_entries_only_we_could_have_written_are_read(cache: Path, tmp_path: Path,
                                                     kind: str) -> None:
    good = seccomp._cached_compile(POLICY)
    [entry] = _entries(cache)
    elsewhere = tmp_path / "planted"
    elsewhere.write_bytes(entry.read_bytes())
    if kind == "symlink":
        entry.unlink()
        entry.symlink_to(elsewhere)
    elif kind == "foreign owner":
        os.chown(entry, NOBODY, NOBODY)
    elif kind == "group-writable":
        entry.chmod(0o620)
    elif kind == "hard link":
        entry.unlink()
        os.link(elsewhere, entry)
    else:
        entry.unlink()
        os.mkfifo(entry, 0o600)
    assert _cache.read(str(cache), entry.name) is None
    if kind != "fifo":
        assert seccomp._cached_compile(POLICY) == good


@pytest.mark.parametrize("where", ["the cache", "a parent"])
def test_a_cache_others_can_write_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                             where: str) -> None:
    parent = tmp_path / "shared"
    directory = parent / "cache"
    directory.mkdir(parents=True, mode=0o700)
    (directory if where == "the cache" else parent).chmod(0o777)
    monkeypatch.setenv("SANDBOX_CACHE_DIR", str(directory))
    with pytest.raises(HostUnsupportedError, match="sandbox cache"):
        _cache.cache_dir()
    # The filter is still enforced: compiled in memory, nothing written there.
    assert seccomp._cached_compile(POLICY) == seccomp._compile(POLICY)
    assert _entries(directory) == []


def test_a_sticky_world_writable_parent_is_fine(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    parent = tmp_path / "tmp-like"
    parent.mkdir()
    parent.chmod(0o1777)  # like /tmp: others cannot rename or remove our entries
    monkeypatch.setenv("SANDBOX_CACHE_DIR", str(parent / "cache"))
    assert _cache.cache_dir() == str(parent / "cache")


def test_a_cache_owned_by_someone_else_is_refused(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    directory = tmp_path / "theirs"
    directory.mkdir(mode=0o700)
    os.chown(directory, NOBODY, NOBODY)
    monkeypatch.setenv("SANDBOX_CACHE_DIR", str(directory))
    with pytest.raises(HostUnsupportedError, match="must be ours"):
        _cache.cache_dir()


def test_a_helper_someone_else_can_write_is_refused(
        cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sandbox import _native

    # Run first in a process, helper_path() builds the helper into this test's cache and
    # remembers it for the process; the file is then replaced by a script, which every later
    # box of the process ran as its helper ("ended without a report"). Forget it afterwards.
    monkeypatch.setattr(_native, "_path", _native._path)
    real = helper_path()
    cache.mkdir(mode=0o700, exist_ok=True)
    target = cache / os.path.basename(real)
    target.write_bytes(b"#!/bin/sh\nexit 0\n")
    target.chmod(0o777)
    with pytest.raises(HostUnsupportedError, match="not a file only we can write"):
        _native._build()
