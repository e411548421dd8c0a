"""Our own package: ``problem.json`` + ``tests/N.in`` / ``tests/N.out`` (store.problems)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from store import problems

NAME = "native"


def detect(root: Path) -> bool:
    return (root / "problem.json").is_file()


def load(root: Path) -> dict[str, Any]:
    data = problems.load_directory(root)
    data.setdefault("package", {"format": NAME})
    return data
