"""web.highlight: a submitted source on its page, highlighted unless that would cost the web
process more than a view is worth (hostile audit, issue-less: a crafted 40 KB JavaScript source
took 6-30 s per view, and 45 views at once stalled every other request)."""

from __future__ import annotations

import pytest

from web import highlight

# Each `'\` makes the JavaScript lexer try a string to the end of the text: many tokens,
# each scanning far ahead, time growing with the square of the length.
CRAFTED = "'\\" * 20000


def test_an_ordinary_source_is_highlighted_and_escaped() -> None:
    html = str(highlight.source_html('int main() { puts("<b>"); }\n', "c"))
    assert 'class="kt"' in html and "&lt;b&gt;" in html and "<b>" not in html


def test_a_source_that_takes_the_lexer_too_long_is_shown_plain() -> None:
    html = str(highlight.source_html(CRAFTED, "javascript"))
    # Plain: one text run, no token classes of the JavaScript lexer, the source intact.
    assert 'class="s' not in html and 'class="err"' not in html
    assert html.count("'\\") == 20000


def test_the_budget_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(highlight, "HIGHLIGHT_BUDGET", 60.0)
    small = "'\\" * 500  # highlighted when the lexer may take its time
    html = str(highlight.source_html(small, "javascript"))
    assert 'class="s' in html or 'class="err"' in html
    monkeypatch.setattr(highlight, "HIGHLIGHT_BUDGET", -1.0)
    assert 'class="kt"' not in str(highlight.source_html("int main() {}\n", "c"))


def test_a_large_source_is_shown_plain() -> None:
    big = "int x;\n" * (highlight.MAX_HIGHLIGHTED // 7 + 1)
    assert 'class="kt"' not in str(highlight.source_html(big, "c"))
