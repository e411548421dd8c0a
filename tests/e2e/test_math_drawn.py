"""A statement's math drawn by a real headless Chromium from the MathML the judge serves, with
every request outside the judge refused (issue 18: `$x^2$` showed as raw text)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

STATEMENT = (
    "Given $n$ numbers with $|a_i| \\le 10^9$, print\n\n"
    "$$\\frac{1}{n}\\sum_{i=1}^{n} a_i$$\n\nIt costs $5 and $10.\n"
)


def test_statement_math_is_drawn(
    e2e_stack: Any, signed_in: Callable[[str, str], Any], artifacts: Path,
    offline: Callable[[Any], list[str]],
) -> None:
    problem = {"slug": "mathy", "title": "Mean", "statement": STATEMENT,
               "tests": [{"input": "1\n2\n", "output": "2\n"}]}  # fmt: skip
    with e2e_stack.client("admin") as admin:
        r = admin.post("/api/problems", json=problem)
        assert r.status_code in (200, 201), r.text
    page = signed_in("carol", "/problems/mathy")
    outside = offline(page)
    page.reload()
    formulas = page.locator("math")
    assert formulas.count() == 3  # $n$, $|a_i| \le 10^9$ and the display formula
    display = page.locator('math[display="block"]')
    box = display.bounding_box()
    # Drawn as a formula: a fraction stacks, so the display block is taller than a text line.
    line = page.locator("p").first.bounding_box()
    assert box is not None and line is not None and box["height"] > line["height"] / 2
    assert display.locator("mfrac").count() == 1
    assert "$5 and $10" in page.inner_text("body")
    page.screenshot(path=str(artifacts / "statement-math.png"), full_page=True)
    assert outside == []
