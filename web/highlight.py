"""Submitted sources highlighted on the server: Pygments emits class names only (the colours
are in style.css), escapes the source itself, and needs no script in the page."""

from __future__ import annotations

from markupsafe import Markup
from pygments import highlight as _highlight
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
MAX_HIGHLIGHTED = 256 << 10  # larger sources are shown plain: highlighting is not free


def source_html(source: str, language: str) -> Markup:
    """The source as a table of numbered, highlighted lines, or plain escaped text."""
    name = _LEXERS.get(language, "text")
    try:
        lexer = get_lexer_by_name(name if len(source) <= MAX_HIGHLIGHTED else "text")
    except ClassNotFound:
        lexer = get_lexer_by_name("text")
    formatter = HtmlFormatter(linenos="table", cssclass="highlight", nowrap=False)
    return Markup(_highlight(source, lexer, formatter))  # safe: Pygments escapes the source
