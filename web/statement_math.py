"""Math in statements, rendered on the server as MathML (issue 18: `$x^2$`, `\\le` and
`$$\\sum$$` showed as raw text). Browsers draw MathML themselves, so nothing is loaded from
outside the judge and no script runs.

latex2mathml does not escape what it copies through: `\\text{<script>}` comes out as a real
`<script>` element, and `&` as a bare ampersand. Its output is therefore parsed as XML and
rebuilt from an allow-list of MathML elements and attributes, the text escaped on the way
out; anything it cannot convert, or that does not survive the check, is shown as the LaTeX
source in a `<code>`, escaped like any other text.
"""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET

from defusedxml.ElementTree import fromstring  # type: ignore[import-untyped]  # no entities
from latex2mathml.converter import convert

MATHML = "http://www.w3.org/1998/Math/MathML"
_ELEMENTS = frozenset({
    "math", "mrow", "mi", "mn", "mo", "ms", "mtext", "mspace", "msup", "msub", "msubsup",
    "mfrac", "msqrt", "mroot", "mover", "munder", "munderover", "mtable", "mtr", "mtd",
    "mstyle", "mpadded", "mphantom", "menclose", "merror", "semantics", "annotation",
})  # fmt: skip
_ATTRIBUTES = frozenset({
    "display", "mathvariant", "stretchy", "fence", "separator", "lspace", "rspace", "accent",
    "accentunder", "columnalign", "columnspacing", "rowspacing", "columnlines", "rowlines",
    "frame", "linethickness", "displaystyle", "scriptlevel", "width", "height", "depth",
    "minsize", "maxsize", "movablelimits", "symmetric", "notation", "form", "largeop",
    "encoding",
})  # fmt: skip
#: A statement is the package author's, but packages come from anywhere: bound the work.
MAX_SOURCE = 4000


class _Refused(ValueError):
    pass


def render(latex: str, display: bool) -> str:
    """HTML for one formula: MathML when it converts cleanly, else its source as code."""
    try:
        if len(latex) > MAX_SOURCE:
            raise _Refused("too long")
        mathml = convert(latex, display="block" if display else "inline")
        root = fromstring(mathml)
        _check(root)
        ET.register_namespace("", MATHML)
        return ET.tostring(root, encoding="unicode", short_empty_elements=False)
    except Exception:
        tag = "pre" if display else "code"
        return f'<{tag} class="math-source">{html.escape(latex)}</{tag}>'


def _check(element: ET.Element) -> None:
    namespace, _, name = element.tag.rpartition("}")
    if namespace.lstrip("{") != MATHML or name not in _ELEMENTS:
        raise _Refused(f"element {element.tag}")
    for attribute in element.attrib:
        if attribute not in _ATTRIBUTES:
            raise _Refused(f"attribute {attribute}")
    for child in element:
        _check(child)
