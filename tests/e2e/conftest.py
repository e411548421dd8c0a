"""End-to-end fixtures: the web tests' judge stack, shared by loading its module by path."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Iterator
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


CHROMIUM = os.environ.get("JUDGE_TEST_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go for a human to look at (gitignored)."""
    path = Path(__file__).resolve().parents[2] / "artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
def signed_in(request: pytest.FixtureRequest) -> Iterator[Callable[[str, str], Any]]:
    """A real headless Chromium: `signed_in(name, path)` logs `name` in through the login form
    and returns the page, landed on `path`. The browser closes after the test."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    url = request.getfixturevalue("e2e_stack").url  # only once the browser is known to be here
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)

        def open_as(name: str, path: str) -> Any:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{url}/login?next={path}")
            page.fill("input[name=name]", name)
            page.fill("input[name=password]", stack_module.PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(f"**{path}")
            return page

        try:
            yield open_as
        finally:
            browser.close()


def refuse_outside(page: Any) -> list[str]:
    """Abort every request of `page` that is not to the judge itself, as on a network with no
    internet; returns the list the refused URLs are added to."""
    from urllib.parse import urlsplit

    here = urlsplit(page.url).netloc
    refused: list[str] = []

    def only_the_judge(route: Any) -> None:
        if urlsplit(route.request.url).netloc == here:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_judge)
    return refused


@pytest.fixture
def offline() -> Callable[[Any], list[str]]:
    return refuse_outside
