"""The submit form driven in real headless Chromium: log in, submit A+B, watch rows turn green.

The screenshot lands in artifacts/ (gitignored) for a human to look at.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# Slow enough per test that the rows visibly fill in one after another.
SLOW_AB = "import time\ntime.sleep(0.4)\na, b = map(int, input().split())\nprint(a + b)\n"


def test_submit_a_plus_b_and_watch_it_pass(
    signed_in: Callable[[str, str], Any], artifacts: Path
) -> None:
    page = signed_in("carol", "/problems/aplusb")
    page.screenshot(path=str(artifacts / "problem.png"), full_page=True)

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
    page.screenshot(path=str(artifacts / "grading.png"), full_page=True)
    page.wait_for_function(
        "document.querySelectorAll('#tests tbody tr.row-AC').length === 5", timeout=60_000
    )
    assert page.evaluate("window.__noReload") is True
    assert page.inner_text("#verdict") == "AC"
    assert page.inner_text("#verdict-name") == "Accepted"
    assert page.inner_text("#score").startswith("5")
    # Green: the AC badge colour from the stylesheet.
    colour = page.eval_on_selector("#test-1 .verdict", "e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(47, 158, 68)"
    time.sleep(0.5)  # let the row transition settle for the screenshot
    page.screenshot(path=str(artifacts / "submission.png"), full_page=True)
