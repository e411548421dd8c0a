"""Submitted sources highlighted on the server: Pygments emits class names only (the colours
are in style.css), escapes the source itself, and needs no script in the page."""

from __future__ import annotations

import time
from typing import Any

from markupsafe import Markup
from pygments import format as render_tokens
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

# Our language ids -> Pygments lexer names.
_LEXERS = {
    "c": "c", "cpp": "cpp", "python3": "python3", "pypy3": "python3", "java": "java",
    "javascript": "javascript", "rust": "rust", "ruby": "ruby", "perl": "perl", "bash": "bash",
    "go": "go", "kotlin": "kotlin", "csharp": "csharp", "haskell": "haskell", "pascal": "pascal",
    "php": "php", "ocaml": "ocaml", "scala": "scala", "lisp": "common-lisp", "lua": "lua",
    "prolog": "prolog", "r": "r",
}  # fmt: skip
MAX_HIGHLIGHTED = 64 << 10  # larger sources are shown plain: highlighting is not free
#: Seconds of lexing a view may spend before the source is shown plain instead. Some lexers
#: take time growing with the square of a crafted line (JavaScript's and Perl's on `'\\`
#: repeated: 40 KB took 6-30 s), in the web process, for every view of the page.
HIGHLIGHT_BUDGET = 0.3


def source_html(source: str, language: str) -> Markup:
    """The source as a table of numbered, highlighted lines, or plain escaped text (too
    large, an unknown language, or a source that takes the lexer too long)."""
    formatter = HtmlFormatter(linenos="table", cssclass="highlight", nowrap=False)
    tokens = _tokens(source, _LEXERS.get(language, "text") if len(source) <= MAX_HIGHLIGHTED
                     else "text")  # fmt: skip
    if tokens is None:
        tokens = list(get_lexer_by_name("text").get_tokens(source))
    return Markup(render_tokens(tokens, formatter))  # safe: Pygments escapes the source


def _tokens(source: str, lexer_name: str) -> list[tuple[Any, str]] | None:
    """The lexer's tokens, or None when it ran past HIGHLIGHT_BUDGET. The lexer yields token
    by token, and the quadratic cases are many tokens that each scan far ahead: checking the
    clock between tokens bounds a view to the budget and one token."""
    try:
        lexer = get_lexer_by_name(lexer_name)
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    deadline = time.monotonic() + HIGHLIGHT_BUDGET
    tokens = []
    for token in lexer.get_tokens(source):
        tokens.append(token)
        if time.monotonic() > deadline:
            return None
    return tokens
