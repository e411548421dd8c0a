"""Math in statements as MathML (web.statement_math), and what may not get through it."""

from __future__ import annotations

import re

import pytest

from web.pages.render import markdown


def test_inline_and_display_math_become_mathml() -> None:
    out = str(markdown("Given $x^2 \\le 10^9$:\n\n$$\\sum_{i=1}^{n} a_i$$\n"))
    assert out.count("<math ") == 2 and 'display="block"' in out
    assert "<msup><mi>x</mi><mn>2</mn></msup>" in out and "≤" in out and "∑" in out
    assert "$" not in out


def test_prices_stay_text() -> None:
    out = str(markdown("It costs $5 and $10.\n"))
    assert "<math" not in out and "$5 and $10" in out


@pytest.mark.parametrize(
    "latex",
    [
        r"\text{<script>alert(1)</script>}",
        r"\text{<img src=x onerror=alert(1)>}",
        r"\text{</math><script>alert(1)</script>}",
        r"\href{javascript:alert(1)}{x}",
        r"a & b",
        r"\frac{",
        "x" * 5000,
    ],
)
def test_nothing_unsafe_gets_through(latex: str) -> None:
    out = str(markdown(f"${latex}$\n"))
    # Every tag in the page is one of these, with only these attributes: the payloads above
    # come out as MathML text or as escaped LaTeX source, never as elements or handlers.
    tags = re.findall(r"<([a-zA-Z]+)([^>]*)>", out)
    allowed = {"p", "span", "code", "math", "mrow", "mi", "mn", "mo", "mtext", "msup", "msub",
               "mfrac", "mstyle", "mspace", "munderover", "mover", "munder"}  # fmt: skip
    assert {name for name, _ in tags} <= allowed, tags
    attributes = {a for _, attrs in tags for a in re.findall(r"([a-zA-Z-]+)=", attrs)}
    assert attributes <= {"class", "xmlns", "display", "width"}, attributes
    assert "<math" in out or 'class="math-source"' in out
