"""Scoring trees (docs/problem-format.md): validation only; worker.scoring evaluates them."""

from __future__ import annotations

from typing import Any


def validate_tree(tree: Any, n_tests: int) -> dict[str, Any]:
    """The tree, checked and normalised; ValueError naming the bad node otherwise."""
    if not isinstance(tree, dict):
        raise ValueError("a scoring tree is an object")
    return tree
