"""A Polygon statement as Markdown: the LaTeX sections of ``statement-sections/LANG/``
(legend, input, output, notes, scoring) with their math kept for the page's renderer, else
the HTML statement as plain text; then the samples as fenced blocks.

Only the LaTeX Polygon's editor produces is converted (bold, italics, typewriter, lists,
quotes, dashes); anything else is left as it is, which Markdown shows as text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from pathlib import Path

from store.formats.common import read_text

SECTIONS = (
    ("legend", None),
    ("input", "Input"),
    ("output", "Output"),
    ("interaction", "Interaction"),
    ("scoring", "Scoring"),
    ("notes", "Notes"),
)
# $$...$$ first, then $...$; a backslash-escaped dollar is not math.
_MATH = re.compile(r"(\$\$.+?\$\$|(?<!\\)\$(?:\\.|[^$\\])+?\$)", re.S)
_INLINE = (
    (re.compile(r"\\textbf\{([^{}]*)\}"), r"**\1**"),
    (re.compile(r"\\(?:emph|textit)\{([^{}]*)\}"), r"*\1*"),
    (re.compile(r"\\(?:t|texttt|tt|code)\{([^{}]*)\}"), r"`\1`"),
    (re.compile(r"\\underline\{([^{}]*)\}"), r"\1"),
    (re.compile(r"\{\\bf\s+([^{}]*)\}|\\bf\{([^{}]*)\}"), r"**\1\2**"),
    (re.compile(r"\{\\(?:it|em)\s+([^{}]*)\}"), r"*\1*"),
    (re.compile(r"\{\\tt\s+([^{}]*)\}"), r"`\1`"),
    (re.compile(r"\\(?:section|subsection)\*?\{([^{}]*)\}"), r"### \1"),
    (re.compile(r"\\url\{([^{}]*)\}"), r"<\1>"),
    (re.compile(r"\\href\{([^{}]*)\}\{([^{}]*)\}"), r"[\2](\1)"),
)
_LITERALS = (
    ("---", "\u2014"), ("--", "\u2013"), ("``", "\u201c"), ("''", "\u201d"),
    ("<<", "\u00ab"), (">>", "\u00bb"), ("\\%", "%"), ("\\&", "&"), ("\\#", "#"),
    ("\\{", "{"), ("\\}", "}"), ("~", "\u00a0"),
    ("\\ldots", "\u2026"), ("\\dots", "\u2026"), ("\\,", " "), ("\\ ", " "),
)  # fmt: skip
_RULE = "\x01"
_HEADING = "\x02"
_OLYMP_HEADINGS = (
    ("InputFile", "Input"),
    ("OutputFile", "Output"),
    ("Interaction", "Interaction"),
    ("Scoring", "Scoring"),
    ("Notes?", "Notes"),
)
_TABULAR = re.compile(
    r"\\begin\{tabular\}(?:\[[^\]]*\])?\{(?:[^{}]|\{[^{}]*\})*\}(.*?)\\end\{tabular\}", re.S
)
_DROP = re.compile(
    r"\\(?:begin|end)\{(?:center|flushleft|flushright|tabular|figure|small|footnotesize)\}"
    r"|\\(?:noindent|medskip|bigskip|smallskip|newpage|par|centering)\b"
)


def build(root: Path, samples: Iterable[tuple[bytes, bytes]]) -> str:
    """The statement Markdown with the samples appended."""
    body = _from_sections(root) or _from_problem_tex(root) or _from_html(root) or ""
    blocks = []
    for i, (given, answer) in enumerate(samples, 1):
        blocks.append(f"### Input {i}\n\n{_fence(given)}\n\n### Output {i}\n\n{_fence(answer)}")
    if blocks:
        body = (body + "\n\n" if body else "") + "## Examples\n\n" + "\n\n".join(blocks)
    return body.strip() + "\n" if body.strip() else ""


def section_title(root: Path) -> str | None:
    """The statement's own title (``name.tex``), when the package has sections."""
    folder = _language_dir(root / "statement-sections")
    if folder is None or not (folder / "name.tex").is_file():
        return None
    return tex_to_markdown(read_text(folder / "name.tex", "name.tex")).strip() or None


def pdf(root: Path) -> bytes | None:
    folder = _language_dir(root / "statements" / ".pdf")
    if folder is not None and (folder / "problem.pdf").is_file():
        return (folder / "problem.pdf").read_bytes()
    return None


def tex_to_markdown(text: str) -> str:
    """Polygon-flavoured LaTeX -> Markdown, leaving math (``$...$``, ``$$...$$``) untouched."""
    text = re.sub(r"(?<!\\)%.*", "", text)  # comments
    # Math out of the way behind placeholders (no braces, backslashes or dollars in them),
    # so lists and markup can span it.
    math: list[str] = []

    def hide(m: re.Match[str]) -> str:
        math.append(m.group(0))
        return f"\x00{len(math) - 1}\x00"

    text = _prose(_MATH.sub(hide, text))
    text = re.sub(r"\x00(\d+)\x00", lambda m: math[int(m.group(1))], text)
    text = "\n".join(
        line.rstrip() if not line.endswith("  ") else line for line in text.split("\n")
    )
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _prose(text: str) -> str:
    text = _TABULAR.sub(_table, text)
    text = _DROP.sub("", text)
    # Source indentation means nothing in LaTeX but a code block in Markdown.
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
    text = _lists(text)
    for _ in range(3):  # nested \textbf{\t{x}}: innermost first, a few levels deep
        for pattern, repl in _INLINE:
            text = pattern.sub(repl, text)
    text = re.sub(r"\\\\[ \t]*\n?", "  \n", text)  # a forced line break
    for old, new in _LITERALS:
        text = text.replace(old, new)
    return text.replace(_RULE, "---")


def _table(m: re.Match[str]) -> str:
    """A tabular as a Markdown table, its first row the header (subtask tables)."""
    body = re.sub(r"\\hline|\\cline\{[^{}]*\}", "", m.group(1))
    rows = [
        [" ".join(cell.split()).replace("|", "\\|") for cell in re.split(r"(?<!\\)&", row)]
        for row in re.split(r"\\\\", body)
        if row.strip()
    ]
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    lines = ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in rows]
    lines.insert(1, "|" + f" {_RULE} |" * width)  # "---" after the dashes become en/em dashes
    return "\n\n" + "\n".join(lines) + "\n\n"


def _lists(text: str) -> str:
    """itemize/enumerate -> Markdown lists (one level; nested ones flatten)."""
    out: list[str] = []
    stack: list[str] = []
    counters: list[int] = []
    for token in re.split(
        r"(\\begin\{(?:itemize|enumerate)\}|\\end\{(?:itemize|enumerate)\}"
        r"|\\item\b\s*)",
        text,
    ):
        if token.startswith("\\begin{"):
            stack.append("enumerate" if "enumerate" in token else "itemize")
            counters.append(0)
            out.append("\n")
        elif token.startswith("\\end{"):
            if stack:
                stack.pop()
                counters.pop()
            out.append("\n")
        elif token.startswith("\\item"):
            indent = "  " * max(len(stack) - 1, 0)
            if stack and stack[-1] == "enumerate":
                counters[-1] += 1
                out.append(f"\n{indent}{counters[-1]}. ")
            else:
                out.append(f"\n{indent}- ")
        elif stack:
            out.append(re.sub(r"\s+", " ", token))  # an item is one Markdown line
        else:
            out.append(token)
    return "".join(out)


def _from_sections(root: Path) -> str | None:
    folder = _language_dir(root / "statement-sections")
    if folder is None:
        return None
    chunks = []
    for name, heading in SECTIONS:
        path = folder / f"{name}.tex"
        if not path.is_file():
            continue
        text = tex_to_markdown(read_text(path, f"statement-sections/{folder.name}/{name}.tex"))
        if text:
            chunks.append(f"## {heading}\n\n{text}" if heading else text)
    return "\n\n".join(chunks) or None


def _from_problem_tex(root: Path) -> str | None:
    """``statements/LANG/problem.tex`` (olymp.sty): its headings as sections, its examples
    dropped (the samples are appended from the tests)."""
    folder = _language_dir(root / "statements")
    if folder is None or not (folder / "problem.tex").is_file():
        return None
    tex = read_text(folder / "problem.tex", f"statements/{folder.name}/problem.tex")
    tex = re.sub(r"\\begin\{problem\}(\{[^{}]*\}){0,5}|\\end\{problem\}", "", tex)
    tex = re.sub(r"\\begin\{example\}.*?\\end\{example\}|\\Examples?\b", "", tex, flags=re.S)
    for macro, heading in _OLYMP_HEADINGS:
        tex = re.sub(rf"\\{macro}\b", f"\n\n{_HEADING}{heading}\n\n", tex)
    text = tex_to_markdown(tex).replace(_HEADING, "## ")
    return text or None


def _from_html(root: Path) -> str | None:
    folder = _language_dir(root / "statements" / ".html")
    if folder is None or not (folder / "problem.html").is_file():
        return None
    raw = read_text(folder / "problem.html", f"statements/.html/{folder.name}/problem.html")
    raw = re.sub(r"(?is)<(script|style|head)\b.*?</\1>", "", raw)
    raw = re.sub(r"(?i)<br\s*/?>|</p>|</div>|</h\d>|</li>", "\n", raw)
    text = html.unescape(re.sub(r"<[^>]+>", "", raw))
    # Polygon's HTML writes math for MathJax as $$$x$$$ (inline) and $$$$$$x$$$$$$ (display).
    text = text.replace("$$$$$$", "$$").replace("$$$", "$")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() or None


def _language_dir(parent: Path) -> Path | None:
    """``parent/english`` when there is one, else the first language folder by name."""
    if not parent.is_dir():
        return None
    if (parent / "english").is_dir():
        return parent / "english"
    folders = sorted(p for p in parent.iterdir() if p.is_dir() and not p.name.startswith("."))
    return folders[0] if folders else None


def _fence(data: bytes) -> str:
    text = data.decode("utf-8", "replace").rstrip("\n")
    fence = "```"
    while fence in text:
        fence += "`"
    return f"{fence}\n{text}\n{fence}"
