"""``judge languages``: which toolchains this host has, and installing more from Debian.

::

    judge languages list                 # id, name, version, installed?
    judge languages install NAME... | all [--quiet]

``install`` runs ``apt-get install --no-install-recommends`` with the Debian packages each
language row names (worker.languages), as root; packages already installed cost nothing, so it
is safe to repeat. ``.ci/languages`` is this command for CI. A worker offers a language once its
toolchain is there; restart running workers and web servers to pick new ones up.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import Any

from worker import languages

APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "APT_LISTCHANGES_FRONTEND": "none"}


class CliError(Exception):
    """One line for stderr; the command exits 2."""


def add_parser(sub: Any) -> None:
    """Register ``judge languages ...`` on the ``judge`` command's subparsers."""
    p = sub.add_parser("languages", help="judged languages: list them, install toolchains")
    actions = p.add_subparsers(dest="action", required=True)
    ls = actions.add_parser("list", help="every language: id, name, version, installed?")
    ls.set_defaults(fn=_guarded(cmd_list))
    ins = actions.add_parser(
        "install", help="apt-get install the Debian packages of NAME... (or all); needs root"
    )
    ins.add_argument("names", nargs="+", metavar="NAME", help="language ids, or all")
    ins.add_argument("--quiet", action="store_true", help="print nothing unless it fails")
    ins.set_defaults(fn=_guarded(cmd_install))


def _guarded(fn: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return fn(args)
        except CliError as e:
            print(f"judge languages: {e}", file=sys.stderr)
            return 2

    return run


def table() -> list[tuple[str, str, str, str]]:
    """(id, name, version, "yes"/"no") for every language; versions only of installed ones."""
    rows = list(languages.LANGUAGES)
    installed = [lang for lang in rows if lang.available()]
    found = languages.versions(installed)
    return [
        (lang.id, lang.name, found.get(lang.id, ""), "yes" if lang.id in found else "no")
        for lang in rows
    ]


def cmd_list(args: argparse.Namespace) -> int:
    rows = [("ID", "NAME", "VERSION", "INSTALLED"), *table()]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[3]]))
    return 0


def packages_for(names: Sequence[str]) -> list[str]:
    """The Debian packages of these language ids ("all": every language), in order, once each."""
    wanted: list[languages.Language] = []
    for name in names:
        if name == "all":
            wanted.extend(languages.LANGUAGES)
            continue
        lang = languages.known(name)
        if lang is None:
            known = ", ".join(languages.ids())
            raise CliError(f"unknown language {name!r} (known: {known}, or all)")
        wanted.append(lang)
    return list(dict.fromkeys(pkg for lang in wanted for pkg in lang.packages))


def missing_packages(packages: Sequence[str]) -> list[str]:
    """Those of the packages dpkg does not list as installed."""
    if not packages:
        return []
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *packages],
        capture_output=True,
        text=True,
        check=False,
    )  # exits 1 when some package is unknown to dpkg: those are missing too
    installed = {
        line.split()[0] for line in done.stdout.splitlines() if line.split()[1:] == ["installed"]
    }
    return [pkg for pkg in packages if pkg not in installed]


def cmd_install(args: argparse.Namespace) -> int:
    packages = packages_for(args.names)
    if shutil.which("apt-get") is None or shutil.which("dpkg-query") is None:
        raise CliError("needs a Debian or Ubuntu host (apt-get and dpkg-query)")
    todo = missing_packages(packages)
    if not todo:
        if not args.quiet:
            print(f"already installed: {' '.join(packages)}")
        return 0
    if os.geteuid() != 0:
        raise CliError(
            "installing needs root: sudo apt-get install -y --no-install-recommends "
            + " ".join(todo)
        )
    if _apt_install(todo, quiet=args.quiet) != 0:
        # A fresh machine may have no package lists yet, or stale ones: refresh once.
        subprocess.run(["apt-get", "update", "-qq"], env={**os.environ, **APT_ENV}, check=False)
        if _apt_install(todo, quiet=args.quiet) != 0:
            raise CliError(f"apt-get install failed for: {' '.join(todo)}")
    if not args.quiet:
        print(f"installed: {' '.join(todo)}")
    return 0


def _apt_install(packages: Sequence[str], *, quiet: bool) -> int:
    argv = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages]
    out = subprocess.DEVNULL if quiet else None
    return subprocess.run(argv, env={**os.environ, **APT_ENV}, stdout=out, check=False).returncode


def main(argv: Sequence[str] | None = None) -> int:
    """``python3 -m web.languages_cli list | install ...`` (what ``.ci/languages`` runs)."""
    p = argparse.ArgumentParser(prog="judge languages")
    sub = p.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = p.parse_args(["languages", *(argv if argv is not None else sys.argv[1:])])
    fn: Callable[[argparse.Namespace], int] = args.fn
    return fn(args)


if __name__ == "__main__":
    sys.exit(main())
