"""End-to-end fixtures: the web tests' judge stack, shared by loading its module by path."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_path = Path(__file__).resolve().parents[1] / "web" / "stack.py"
_spec = importlib.util.spec_from_file_location("web_test_stack", _path)
assert _spec and _spec.loader
stack_module = sys.modules.get("web_test_stack") or importlib.util.module_from_spec(_spec)
if "web_test_stack" not in sys.modules:
    sys.modules["web_test_stack"] = stack_module
    _spec.loader.exec_module(stack_module)


@pytest.fixture(scope="session")
def e2e_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    s = stack_module.make_stack(tmp_path_factory.mktemp("judge-e2e"))
    try:
        yield s
    finally:
        s.stop()
