"""The `sandbox` command as `pip install` makes it (bin/sandbox, issue 20): a shell-and-Python
script that starts the environment's interpreter without `site`, finds the package itself,
and falls back to `site` when only it can find the package (an editable install's finder).

The project is installed for real, with pip, into a throw-away virtual environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
# Debian's interpreter: a venv of a pyenv shim would not be a plain venv.
BASE_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


class Installed:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.command = self.bin / "sandbox"
        out = subprocess.run([str(self.bin / "python"), "-c",
                              "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True)
        self.site_packages = Path(out.stdout.strip())

    def run(self, *args: str, command: Path | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items()
                if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
        return subprocess.run([str(command or self.command), *args], capture_output=True,
                              text=True, env={**base, **(env or {})}, timeout=120, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    work = tmp_path_factory.mktemp("launcher")
    # A copy of what the command needs, so the build leaves nothing in the checkout.
    source = work / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    for name in ("bin", "sandbox"):
        shutil.copytree(REPO_ROOT / name, source / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    venv = work / "venv"
    subprocess.run([BASE_PYTHON, "-m", "venv", "--without-pip", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
         "-q", "--no-deps", str(source)], capture_output=True, text=True, env=env,
        timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    yield Installed(venv)


def test_pip_installs_the_script_unchanged(installed: Installed) -> None:
    # pip rewrites only a `#!python` first line; ours must reach the venv as written.
    assert installed.command.read_bytes() == (REPO_ROOT / "bin" / "sandbox").read_bytes()
    assert os.access(installed.command, os.X_OK)


def test_installed_command_runs_a_box(installed: Installed) -> None:
    ok = installed.run("run", "--json", "--memory", "64M", "--", "/bin/echo", "hi")
    assert ok.returncode == 0, ok.stderr
    result = json.loads(ok.stdout)
    assert (result["verdict"], result["stdout"]) == ("OK", "hi\n")
    failed = installed.run("run", "--", "/bin/false")
    assert failed.returncode == 1
    assert failed.stderr.startswith("sandbox: RE "), failed.stderr
    bad = installed.run("run", "--memory", "lots", "--", "/bin/true")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    helped = installed.run("run", "--help")  # argparse, with the collector back on
    assert helped.returncode == 0 and "--cpu-time" in helped.stdout


def test_command_starts_without_site(installed: Installed, tmp_path: Path) -> None:
    # A .pth import line runs at every start that has `site`: the command must not pay for
    # them (an editable finder alone costs more than a run) when it can find the package.
    marker = tmp_path / "site-ran"
    probe = installed.site_packages / "zz_probe.pth"
    probe.write_text(f"import os; open({str(marker)!r}, 'a').close()\n")
    try:
        control = subprocess.run([str(installed.bin / "python"), "-c", "pass"], check=False)
        assert control.returncode == 0 and marker.exists()  # (the probe does work)
        marker.unlink()
        proc = installed.run("run", "--", "/bin/true")
        assert proc.returncode == 0, proc.stderr
        assert not marker.exists()
    finally:
        probe.unlink()


def test_a_link_to_the_command_uses_the_venv_interpreter(installed: Installed,
                                                          tmp_path: Path) -> None:
    # /usr/local/bin/sandbox -> .venv/bin/sandbox (our setup makes this link): a python3
    # that happens to sit beside the link must not be the one started.
    decoy_marker = tmp_path / "decoy-ran"
    decoy = tmp_path / "python3"
    decoy.write_text(f"#!/bin/sh\ntouch {decoy_marker}\nexit 99\n")
    decoy.chmod(0o755)
    link = tmp_path / "sandbox"
    link.symlink_to(installed.command)
    proc = installed.run("run", "--", "/bin/true", command=link)
    assert proc.returncode == 0, proc.stderr
    assert not decoy_marker.exists()


def test_falls_back_to_site_when_only_it_finds_the_package(installed: Installed,
                                                            tmp_path: Path) -> None:
    # An editable install is found by a finder that a .pth import line installs: without
    # `site` the package is missing, and the command must then start `site` and go on.
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    shutil.move(str(installed.site_packages / "sandbox"), moved / "sandbox")
    hook = installed.site_packages / "zz_finder.pth"
    hook.write_text(f"import sys; sys.path.append({str(moved)!r})\n")
    try:
        proc = installed.run("run", "--json", "--", "/bin/echo", "found")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["stdout"] == "found\n"
    finally:
        hook.unlink()
        shutil.move(str(moved / "sandbox"), installed.site_packages / "sandbox")


def test_a_broken_package_is_not_hidden_by_the_fallback(installed: Installed,
                                                        tmp_path: Path) -> None:
    # Only "the package is not on the path" falls back to `site`: a module missing inside
    # the package is a real error, reported as such.
    victim = installed.site_packages / "sandbox" / "errors.py"
    saved = tmp_path / "errors.py"
    shutil.move(str(victim), saved)
    cached = installed.site_packages / "sandbox" / "__pycache__"
    hidden = tmp_path / "pycache"
    if cached.exists():
        shutil.move(str(cached), hidden)
    try:
        proc = installed.run("run", "--", "/bin/true")
        assert proc.returncode != 0
        assert "sandbox.errors" in proc.stderr, proc.stderr
    finally:
        shutil.move(str(saved), victim)
        if hidden.exists():
            shutil.move(str(hidden), cached)
