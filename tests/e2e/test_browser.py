"""The submit form driven in real headless Chromium: log in, submit A+B, watch rows turn green.

The screenshot lands in artifacts/ (gitignored) for a human to look at.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import pytest

# Loaded by this directory's conftest (by file path: test directories are not packages).
stack_module = sys.modules["web_test_stack"]

CHROMIUM = os.environ.get("JUDGE_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
# Slow enough per test that the rows visibly fill in one after another.
SLOW_AB = "import time\ntime.sleep(0.4)\na, b = map(int, input().split())\nprint(a + b)\n"

playwright = pytest.importorskip("playwright.sync_api")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}", allow_module_level=True)


def test_submit_a_plus_b_and_watch_it_pass(e2e_stack: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(f"{e2e_stack.url}/login?next=/problems/aplusb")
            page.fill("input[name=name]", "carol")
            page.fill("input[name=password]", stack_module.PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url("**/problems/aplusb")
            page.screenshot(path=str(ARTIFACTS / "problem.png"), full_page=True)

            page.select_option("#language", "python3")
            page.fill("#source", SLOW_AB)
            page.click("#submit-form button[type=submit]")
            page.wait_for_url("**/submissions/*")
            # Mark the document: a reload would lose the mark, so the check below proves that
            # the rows changed in place.
            page.evaluate("window.__noReload = true")
            first = page.locator("#test-1")
            assert "row-AC" not in (first.get_attribute("class") or "")
            page.wait_for_function(
                "document.querySelectorAll('#tests tbody tr.row-AC').length >= 2", timeout=60_000
            )
            page.screenshot(path=str(ARTIFACTS / "grading.png"), full_page=True)
            page.wait_for_function(
                "document.querySelectorAll('#tests tbody tr.row-AC').length === 5", timeout=60_000
            )
            assert page.evaluate("window.__noReload") is True
            assert page.inner_text("#verdict") == "AC"
            assert page.inner_text("#verdict-name") == "Accepted"
            assert page.inner_text("#score").startswith("5")
            # Green: the AC badge colour from the stylesheet.
            colour = page.eval_on_selector(
                "#test-1 .verdict", "e => getComputedStyle(e).backgroundColor"
            )
            assert colour == "rgb(47, 158, 68)"
            time.sleep(0.5)  # let the row transition settle for the screenshot
            page.screenshot(path=str(ARTIFACTS / "submission.png"), full_page=True)
        finally:
            browser.close()
