"""Problem statements in LaTeX (problemtools' ``problem.tex``) turned into Markdown, without TeX.

Good enough for the statements packages really hold: sections, emphasis, lists, verbatim and
math. Math is kept as ``$...$`` / ``$$...$$`` (the web renders it); verbatim and math are set
aside first so nothing below touches them. Macros we do not know lose their backslash and keep
their text, so nothing is silently dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_COMMENT = re.compile(r"(?<!\\)%.*")
_PROBLEMNAME = re.compile(r"\\problemname\s*\{")
_VERBATIM = re.compile(
    r"\\begin\{(verbatim\*?|lstlisting)\}(?:\[[^\]]*\])?\n?(.*?)\\end\{\1\}", re.S
)
_MATH = re.compile(
    r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|\\begin\{(equation\*?|align\*?|displaymath)\}(.+?)\\end\{\3\}"
    r"|(?<!\\)\$(.+?)(?<!\\)\$|\\\((.+?)\\\)",
    re.S,
)
_DROP = {  # spacing and layout macros with no text of their own
    "noindent", "medskip", "bigskip", "smallskip", "newpage", "clearpage", "centering",
    "small", "large", "Large", "normalsize", "footnotesize", "hfill", "vfill", "par",
    "maketitle", "indent", "raggedright", "protect", "displaystyle",
}  # fmt: skip
_SYMBOLS = {"%": "%", "&": "&", "_": "_", "#": "#", "$": "$", "{": "{", "}": "}", " ": " "}
_ONE_ARG: dict[str, Callable[[str], str]] = {
    "section": lambda s: f"\n\n## {s}\n\n",
    "section*": lambda s: f"\n\n## {s}\n\n",
    "subsection": lambda s: f"\n\n### {s}\n\n",
    "subsection*": lambda s: f"\n\n### {s}\n\n",
    "subsubsection": lambda s: f"\n\n#### {s}\n\n",
    "paragraph": lambda s: f"\n\n**{s}** ",
    "textbf": lambda s: f"**{s}**",
    "emph": lambda s: f"*{s}*",
    "textit": lambda s: f"*{s}*",
    "textsl": lambda s: f"*{s}*",
    "texttt": lambda s: f"`{s}`",
    "verb": lambda s: f"`{s}`",
    "underline": lambda s: s,
    "textrm": lambda s: s,
    "mbox": lambda s: s,
    "url": lambda s: f"<{s}>",
    "footnote": lambda s: f" ({s})",
    "sampletable": lambda s: "",
    "includegraphics": lambda s: f"\n\n*(figure: {s})*\n\n",
    "label": lambda s: "",
    "ref": lambda s: s,
}


def to_markdown(tex: str) -> tuple[str, str | None]:
    """The statement as Markdown, and the ``\\problemname`` when it has one."""
    text = _COMMENT.sub("", tex.replace("\r\n", "\n"))
    if "\\begin{document}" in text:
        text = text.split("\\begin{document}", 1)[1].split("\\end{document}", 1)[0]
    title = None
    m = _PROBLEMNAME.search(text)
    if m:
        inner, end = _braced(text, m.end() - 1)
        title = re.sub(r"[*`]", "", _inline(inner))
        text = text[: m.start()] + text[end:]
    kept: list[str] = []

    def keep(block: str) -> str:
        kept.append(block)
        return f"\x00{len(kept) - 1}\x00"

    text = _VERBATIM.sub(lambda v: keep(f"\n\n```\n{v.group(2).rstrip()}\n```\n\n"), text)
    text = _MATH.sub(lambda mm: keep(_math(mm)), text)
    text = _TABULAR.sub(_table, text)
    text = _macros(text)
    text = _lists(text)
    text = _plain(text)
    text = re.sub(r"(?<=\S) {2,}", " ", text)
    text = re.sub(r"\x00(\d+)\x00", lambda k: kept[int(k.group(1))], text)
    text = text.replace("\x03", "---")
    text = re.sub(r"^(\s*(?:-|1\.)) +", r"\1 ", text, flags=re.M)
    text = re.sub(r"[ \t]+\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip() + "\n", title


_TABULAR = re.compile(r"\\begin\{tabular\}\s*\{[^}]*\}(.*?)\\end\{tabular\}", re.S)
_RULES = re.compile(r"\\(?:hline|toprule|midrule|bottomrule|cline\{[^}]*\})")


def _table(m: re.Match[str]) -> str:
    """A tabular as a Markdown table, its first row the header."""
    rows = []
    for row in re.split(r"\\\\", _RULES.sub("", m.group(1))):
        if row.strip():
            rows.append([c.strip().replace("|", "\\|") for c in re.split(r"(?<!\\)&", row)])
    if not rows:
        return ""
    width = max(len(r) for r in rows)
    lines = ["| " + " | ".join(r + [""] * (width - len(r))) + " |" for r in rows]
    lines.insert(1, "|" + " \x03 |" * width)  # "---" after the dash ligatures are made
    return "\n\n" + "\n".join(lines) + "\n\n"


def _inline(text: str) -> str:
    return _plain(_macros(text)).strip()


def _math(m: re.Match[str]) -> str:
    if m.group(1) is not None or m.group(2) is not None or m.group(4) is not None:
        body = next(g for g in (m.group(1), m.group(2), m.group(4)) if g is not None)
        return f"$${body.strip()}$$"
    body = m.group(5) if m.group(5) is not None else m.group(6)
    return f"${body}$"


def _braced(text: str, start: int) -> tuple[str, int]:
    """The text inside the braces opening at ``start`` and the index after the closing one."""
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c == "\\":
            continue
        if c == "{" and (i == 0 or text[i - 1] != "\\"):
            depth += 1
        elif c == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i], i + 1
    return text[start + 1 :], len(text)  # unbalanced: take the rest rather than fail


_COMMAND = re.compile(r"\\([A-Za-z]+\*?)\s*(?:\[[^\]]*\])?\s*(?=\{)")


def _macros(text: str) -> str:
    """Replace known one-argument macros, innermost (last) first so nesting works."""
    for m in reversed(list(_COMMAND.finditer(text))):
        name = m.group(1)
        if name == "href":
            url, end = _braced(text, m.end())
            rest = text[end:].lstrip()
            if rest.startswith("{"):
                start = len(text) - len(rest)
                label, end2 = _braced(text, start)
                text = text[: m.start()] + f"[{label}]({url})" + text[end2:]
            continue
        if name == "illustration":
            args, end = _args(text, m.end(), 3)
            note = f"\n\n*(illustration: {args[1]}{': ' + args[2] if args[2] else ''})*\n\n"
            text = text[: m.start()] + note + text[end:]
            continue
        fn = _ONE_ARG.get(name)
        if fn is None:
            continue
        inner, end = _braced(text, m.end())
        text = text[: m.start()] + fn(inner) + text[end:]
    return text


def _args(text: str, pos: int, n: int) -> tuple[list[str], int]:
    out: list[str] = []
    for _ in range(n):
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text) or text[pos] != "{":
            out.append("")
            continue
        inner, pos = _braced(text, pos)
        out.append(inner)
    return out, pos


_LIST_TOKEN = re.compile(
    r"\\begin\{(itemize|enumerate|description)\}|\\end\{(itemize|enumerate|description)\}"
    r"|\\item(?:\[([^\]]*)\])?"
)


def _lists(text: str) -> str:
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in _LIST_TOKEN.finditer(text):
        before = text[pos : m.start()]
        out.append(before.rstrip() if stack else before)  # items of one list: no blank lines
        pos = m.end()
        if m.group(1):
            stack.append(m.group(1))
            out.append("\n")
        elif m.group(2):
            if stack:
                stack.pop()
            out.append("\n\n")
        else:
            indent = "  " * max(len(stack) - 1, 0)
            kind = stack[-1] if stack else "itemize"
            bullet = "1." if kind == "enumerate" else "-"
            label = f"**{m.group(3)}** " if m.group(3) else ""
            out.append(f"\n{indent}{bullet} {label}")
    out.append(text[pos:])
    return "".join(out)


def _plain(text: str) -> str:
    text = re.sub(r"\\begin\{[^}]*\}(?:\[[^\]]*\])?|\\end\{[^}]*\}", "\n", text)
    text = text.replace("\\\\", "\n").replace("~", " ")
    text = text.replace("``", "\u201c").replace("''", "\u201d")
    text = text.replace("---", "\u2014").replace("--", "\u2013")
    text = re.sub(r"\\([%&_#${} ])", lambda m: "\x01" + _SYMBOLS[m.group(1)], text)

    def macro(m: re.Match[str]) -> str:
        name = m.group(1)
        return "" if name in _DROP else name

    text = re.sub(r"\\([A-Za-z]+)\*?(?:\{\})?", macro, text)
    text = re.sub(r"(?<!\x01)[{}]", "", text)
    text = text.replace("\x01", "")
    # Lines indented in the source would read as code blocks in Markdown.
    return "\n".join(
        line if line.lstrip().startswith(("- ", "1. ")) else line.lstrip()
        for line in text.split("\n")
    )
