"""Per-run cost of sandbox.run(["/bin/true"]) with full isolation, next to plain subprocess and
bwrap measured in the same process, back to back and with pauses between runs; and the cost
of one `sandbox run -- /bin/true` command, the way a judge in another language calls it.

    python3 bench/sandbox_bench.py [--runs 200] [--pause-runs 60] [--alone-runs 300]
                                   [--cli-runs 100] [--cli-pause-runs 50] [--only cli|lib]

Contestants: "sandbox" (warm boxes, the default), "cold" (the same call with the pool off,
SANDBOX_POOL=0: every box built on the run's path), bwrap --unshare-all and subprocess.
Runs are interleaved round-robin so a noisy neighbour on this shared machine hits every
contestant alike. Interleaving gives the pool the other contestants' time to prepare the
next box, so a last series runs the sandbox alone, back to back, with nothing in between:
the honest number for a judge running test after test. Prints medians (ms) and ratios.

The CLI series (issue 20) times whole commands, interleaved the same way: "cli" is the
`sandbox` command as `pip install` makes it (bin/sandbox copied unchanged into a throw-away
venv that finds this checkout through a .pth line, so no editable-install finder runs), the
baseline "cli (console script)" is the wrapper pip writes for a console-script entry point,
which this project used before (the same venv: Python starts with `site`), "cli (this env)"
is the `sandbox` command of the running environment when there is one (here an editable
install, whose finder costs every Python start that needs it), next to bwrap and a plain
exec of /bin/true. Before it, the package's bytecode is compiled, as pip does when
it installs (PYTHONDONTWRITEBYTECODE would otherwise make every call compile every module),
and the seccomp program is put in the disk cache by one run in this process. "serve client"
is one request over a connection kept open to `sandbox serve` (warm boxes), what a caller
in any language can do instead of starting a command per run; it is timed alone, after the
commands (the server builds its next box between requests, which in an interleaved series
would slow down whichever command came next).
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sandbox
from sandbox import _pool

ROOT = Path(__file__).resolve().parent.parent


BWRAP_ARGS = ["--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr",
              "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib",
              "--symlink", "usr/lib64", "/lib64", "--proc", "/proc", "--dev", "/dev",
              "--tmpfs", "/tmp", "/bin/true"]
# What pip writes for a console_scripts entry (distlib's template), under our shebang.
PIP_WRAPPER = """# -*- coding: utf-8 -*-
import re
import sys
from sandbox.cli import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


def contestants() -> dict[str, Callable[[], None]]:
    out: dict[str, Callable[[], None]] = {
        "subprocess": lambda: _exec(["/bin/true"]),
        "sandbox": lambda: _sandbox_ok(),
        "cold": lambda: _sandbox_ok(pool=False),
    }
    bwrap = shutil.which("bwrap")
    if bwrap:
        argv = [bwrap, *BWRAP_ARGS]
        out["bwrap"] = lambda: _exec(argv)
    return out


def _exec(argv: list[str]) -> None:
    subprocess.run(argv, check=True)


def _command(argv: list[str], env: dict[str, str] | None = None) -> Callable[[], None]:
    def call() -> None:
        proc = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"{argv[0]} failed ({proc.returncode}): {proc.stderr.decode()}")

    return call


def _installed_like_pip(directory: Path) -> tuple[Path, Path]:
    """A throw-away venv finding this checkout through a plain .pth path line (a regular
    install's startup cost), with `sandbox` as pip installs it (a script file is copied
    unchanged unless its first line is `#!python`) and, beside it, pip's console-script
    wrapper of sandbox.cli:main."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", "--without-pip", str(directory)], check=True)
    python = directory / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "judge_sandbox.pth").write_text(f"{ROOT}\n")
    script = directory / "bin" / "sandbox"
    shutil.copy2(ROOT / "bin" / "sandbox", script)
    wrapper = directory / "bin" / "sandbox-console-script"
    wrapper.write_text(f"#!{python}\n{PIP_WRAPPER}")
    wrapper.chmod(0o755)
    return script, wrapper


class ServeClient:
    """`sandbox serve` in a subprocess and one connection to it, kept open as a judge in
    another language would: each call is one JSON line out and one back."""

    def __init__(self, directory: Path) -> None:
        self.path = str(directory / "serve.sock")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "serve", "--socket", self.path],
            env={**os.environ, "PYTHONPATH": str(ROOT)}, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.path):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("sandbox serve did not start")
            time.sleep(0.05)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)
        self.reader = self.sock.makefile("rb")

    def call(self) -> None:
        self.sock.sendall(b'{"cmd": ["/bin/true"]}\n')
        reply = self.reader.readline()
        if b'"verdict": "OK"' not in reply:
            raise SystemExit(f"sandbox serve: {reply!r}")

    def close(self) -> None:
        self.reader.close()
        self.sock.close()
        self.proc.terminate()
        self.proc.wait(30)


def cli_contestants(directory: Path) -> dict[str, Callable[[], None]]:
    compileall.compile_dir(str(ROOT / "sandbox"), quiet=1)  # what pip install does
    _sandbox_ok(pool=False)  # builds the helper and caches the seccomp program on disk
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    script, wrapper = _installed_like_pip(directory)
    out = {"cli": _command([str(script), "run", "--", "/bin/true"], env),
           "cli (console script)": _command([str(wrapper), "run", "--", "/bin/true"], env)}
    here = Path(sys.executable).parent / "sandbox"
    if here.exists():
        # (PYTHONPATH: this checkout, even when the environment's install is another one.)
        out["cli (this env)"] = _command([str(here), "run", "--", "/bin/true"],
                                         {**env, "PYTHONPATH": str(ROOT)})
    out["exec"] = _command(["/bin/true"])
    bwrap = shutil.which("bwrap")
    if bwrap:
        out["bwrap"] = _command([bwrap, *BWRAP_ARGS])
    return out


def _sandbox_ok(pool: bool = True) -> None:
    with contextlib.nullcontext() if pool else _cold():
        result = sandbox.run(["/bin/true"])
    if not result.ok:
        raise SystemExit(f"sandbox run failed: {result.verdict} {result.message}")


@contextlib.contextmanager
def _cold() -> Iterator[None]:
    """This run as with SANDBOX_POOL=0 (no prepared box, teardown on the run's path), while
    the pool keeps the warm contestant's boxes. (Setting the variable would also stop the
    pool thread from preparing those, if it ran meanwhile.)"""
    saved = _pool.take, _pool.after_run, _pool.release
    _pool.take = lambda plan: None  # type: ignore[assignment]
    _pool.after_run = lambda plan, new_box: None  # type: ignore[assignment]
    _pool.release = lambda box: box.close()  # type: ignore[assignment]
    try:
        yield
    finally:
        _pool.take, _pool.after_run, _pool.release = saved  # type: ignore[assignment]


def alone(runs: int) -> dict[str, list[float]]:
    """The warm sandbox with nothing between runs: the pool gets no spare time."""
    _sandbox_ok()
    times: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        _sandbox_ok()
        times.append((time.perf_counter() - start) * 1000)
    return {"sandbox": times}


def measure(runs: int, pause: float,
            funcs: dict[str, Callable[[], None]] | None = None) -> dict[str, list[float]]:
    funcs = funcs if funcs is not None else contestants()
    times: dict[str, list[float]] = {name: [] for name in funcs}
    for func in funcs.values():  # warm caches, build the helper
        func()
    for _ in range(runs):
        for name, func in funcs.items():
            if pause:
                time.sleep(pause)
            start = time.perf_counter()
            func()
            times[name].append((time.perf_counter() - start) * 1000)
    return times


def show(title: str, times: dict[str, list[float]], lead: str = "sandbox",
         others: tuple[str, ...] = ("cold", "bwrap", "subprocess")) -> None:
    print(f"\n{title}")
    medians = {name: statistics.median(values) for name, values in times.items()}
    for name, values in times.items():
        p90 = statistics.quantiles(values, n=10)[-1] if len(values) >= 10 else max(values)
        print(f"  {name:<28} median {medians[name]:7.3f} ms   p90 {p90:7.3f} ms   "
              f"n={len(values)}")
    for head in (lead, f"{lead} (this env)", "serve client"):
        for other in others:
            if head in medians and other in medians and other != head:
                print(f"  {head}/{other} ratio: {medians[head] / medians[other]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="back-to-back runs per contestant")
    parser.add_argument("--pause-runs", type=int, default=60, help="runs with 100 ms pauses")
    parser.add_argument("--alone-runs", type=int, default=300,
                        help="back-to-back runs of the warm sandbox alone")
    parser.add_argument("--cli-runs", type=int, default=100,
                        help="back-to-back `sandbox run` commands per contestant")
    parser.add_argument("--cli-pause-runs", type=int, default=50,
                        help="`sandbox run` commands with 100 ms pauses")
    parser.add_argument("--only", choices=("lib", "cli"), help="one part only")
    args = parser.parse_args()
    if args.only != "cli":
        show("back to back, interleaved", measure(args.runs, 0.0))
        show("with 100 ms pauses", measure(args.pause_runs, 0.1))
        show("back to back, sandbox alone (warm)", alone(args.alone_runs))
    if args.only != "lib":
        with tempfile.TemporaryDirectory(prefix="sandbox-bench-") as tmp:
            funcs = cli_contestants(Path(tmp) / "venv")
            cli_others = ("exec", "bwrap", "cli (console script)")
            show("CLI, one `sandbox run -- /bin/true` per call, back to back, interleaved",
                 measure(args.cli_runs, 0.0, funcs), "cli", cli_others)
            show("CLI, with 100 ms pauses", measure(args.cli_pause_runs, 0.1, funcs),
                 "cli", cli_others)
            # Alone: between its requests the server builds the next warm box, which would
            # land on whichever command ran next in an interleaved series.
            server = ServeClient(Path(tmp))
            try:
                show("sandbox serve, one request per call over one connection, alone",
                     {"serve client": measure(args.cli_runs, 0.0,
                                              {"serve client": server.call})["serve client"],
                      "serve client, 100 ms pauses": measure(
                          args.cli_pause_runs, 0.1,
                          {"serve client": server.call})["serve client"]})
            finally:
                server.close()


if __name__ == "__main__":
    main()
