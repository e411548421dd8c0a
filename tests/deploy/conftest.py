"""Fixtures for deployment tests: network namespaces standing in for other machines.

Each "machine" is a network namespace made by the test with a veth pair: the host end gets
10.200.N.1/30 and the namespace end 10.200.N.2/30, so a process in the namespace can reach the
host's services on 10.200.N.1 and nothing else (its loopback is its own; no route leads
anywhere but that /30). Namespaces and links are removed in finalizers, whatever happened.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import random
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _load(name: str, path: Path) -> Any:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


servers = _load("judge_test_servers", REPO / "tests" / "store" / "servers.py")


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True, timeout=10)


@dataclass
class Machine:
    """A network namespace joined to the host by one veth pair."""

    name: str  # the namespace, /run/netns/<name>
    host_if: str
    host_ip: str  # the host's address as this machine sees it
    ip: str  # this machine's address

    @property
    def net(self) -> str:
        return f"/run/netns/{self.name}"

    def command(self, argv: list[str]) -> list[str]:
        """``argv`` run inside this machine's network namespace (and nothing else changed)."""
        return ["nsenter", f"--net={self.net}", "--", *argv]

    def remove(self) -> None:
        # Deleting the namespace destroys its veth end, and with it the host end.
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("netns", "delete", self.name)
        with contextlib.suppress(subprocess.CalledProcessError):
            _ip("link", "delete", self.host_if)


def _used_subnets() -> set[int]:
    out = subprocess.run(["ip", "-4", "-o", "addr"], capture_output=True, text=True).stdout
    return {int(w.split(".")[2]) for w in out.split() if w.startswith("10.200.")}


def make_machine(tag: str, third: int) -> Machine:
    suffix = f"{os.getpid() % 100000}{tag}"
    m = Machine(
        name=f"judge-test-{suffix}",
        host_if=f"jt{suffix}",  # interface names are at most 15 bytes
        host_ip=f"10.200.{third}.1",
        ip=f"10.200.{third}.2",
    )
    inner = f"jtn{suffix}"
    try:
        _ip("netns", "add", m.name)
        _ip("link", "add", m.host_if, "type", "veth", "peer", "name", inner, "netns", m.name)
        _ip("addr", "add", f"{m.host_ip}/30", "dev", m.host_if)
        _ip("link", "set", m.host_if, "up")
        _ip("-n", m.name, "addr", "add", f"{m.ip}/30", "dev", inner)
        _ip("-n", m.name, "link", "set", inner, "up")
        _ip("-n", m.name, "link", "set", "lo", "up")
    except BaseException:
        m.remove()
        raise
    return m


@pytest.fixture
def machines() -> Iterator[list[Machine]]:
    """Two machines on their own /30 subnets of 10.200.0.0/16, removed afterwards."""
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    free = sorted(set(range(1, 255)) - _used_subnets())
    thirds = random.sample(free, 2)
    made: list[Machine] = []
    try:
        for tag, third in zip("ab", thirds, strict=True):
            made.append(make_machine(tag, third))
        yield made
    finally:
        for m in made:
            m.remove()
