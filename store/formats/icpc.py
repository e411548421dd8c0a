"""Placeholder: being written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

NAME = "icpc"


def detect(root: Path) -> bool:
    return False


def load(root: Path) -> dict[str, Any]:
    raise NotImplementedError
