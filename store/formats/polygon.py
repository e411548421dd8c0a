"""Polygon (Codeforces) full packages: ``problem.xml`` with the tests, programs and statements.

A full package (not the "standard" one) carries every test's input and answer, generated ones
included, under ``<testset name="tests">``'s path patterns. Groups with points become a scoring
tree: a ``complete-group`` group earns its points only when every test of it passes
(aggregation ``all``), an ``each-test`` group the sum of its tests' points, and a group's
dependencies must pass entirely for it to score (``requires``). The XML is read with
defusedxml: a package is untrusted input (entity expansion bombs).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element  # the type only; parsing is defusedxml's

# No stubs ship with defusedxml; its API is xml.etree's.
import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException  # type: ignore[import-untyped]

from store.formats import polygon_programs as programs
from store.formats import polygon_statement as statement
from store.formats.polygon_programs import inside, norm_path
from store.problems import ProblemError

NAME = "polygon"
_SLUG_BAD = re.compile(r"[^a-z0-9_-]+")
# A "standard" package leaves generated tests and answers out.
_FULL = " (import a Polygon full package: it holds every test)"


def detect(root: Path) -> bool:
    path = root / "problem.xml"
    if not path.is_file():
        return False
    try:
        # Only the root element's name is needed: stop at the first start tag.
        with path.open("rb") as f:
            for _, element in SafeET.iterparse(f, events=("start",)):
                return bool(element.tag == "problem")
    except (SafeET.ParseError, DefusedXmlException, OSError):
        return True  # it claims to be Polygon's: load() then names what is wrong with it
    return False


def load(root: Path) -> dict[str, Any]:
    problem = _parse(root / "problem.xml")
    testset = _testset(problem)
    assets = problem.find("assets")
    files = programs.resources(root, problem)
    interactor = programs.interactor(root, assets, files)
    tests = _tests(root, testset, interactive=interactor is not None)
    groups = _groups(testset, tests)
    submissions, skipped = programs.solutions(root, assets)
    package: dict[str, Any] = {"format": NAME}
    if problem.get("revision"):
        package["revision"] = _int(problem.get("revision", ""), "problem revision")
    judging = problem.find("judging")
    for attr in ("input-file", "output-file"):
        if judging is not None and judging.get(attr):
            # Its solutions read or write that file, and would be judged on an empty output
            # here: refused, not graded by other rules than the package's.
            raise ProblemError(
                f"problem.xml: judging {attr}={judging.get(attr)!r}: problems that read or "
                "write files are not supported (standard input and output only)"
            )
    programs.refuse_graders(problem)
    if skipped:
        package["skipped"] = skipped
    data: dict[str, Any] = {
        "slug": _slug(problem),
        "title": _title(problem, root),
        "statement": statement.build(
            root, [(t["input"], t["output"]) for t in tests if t.get("sample")]
        ),
        **_limits(testset),
        "checker": programs.checker(root, assets, files),
        "interactor": interactor,
        "tests": tests,
        "package": package,
    }
    if groups is not None:
        data["scoring"] = groups
        data["stop_on_failure"] = False
    else:
        data["stop_on_failure"] = True
    validators = programs.validators(root, assets, files)
    if validators:
        data["input_validators"] = _with_testset_args(validators, tests)
    if submissions:
        data["submissions"] = submissions
    pdf = statement.pdf(root)
    if pdf is not None:
        data["files"] = {"statement.pdf": pdf}
    return data


def _with_testset_args(
    validators: list[dict[str, Any]], tests: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Polygon validates each test as ``validator --testset tests --group G`` (its scripts'
    call): testlib's ``validator.testset()`` and ``validator.group()`` let one validator hold
    each group's own bounds, which go unchecked without them."""
    grouped = {
        str(i): ["--testset", "tests", "--group", t["group"]]
        for i, t in enumerate(tests, 1)
        if t.get("group")
    }
    for validator in validators:
        validator["flags"] = ["--testset", "tests"]
        if grouped:
            validator["test_flags"] = grouped
    return validators


def _text_file(data: bytes) -> bytes:
    """A test as a Linux program reads it: a Windows package's tests end their lines with
    CRLF (Polygon converts them back, towin/todos, around its own runs), and testlib's strict
    eoln() built on Linux accepts LF only. A file whose line ends are not all CRLF is left as
    it is: mixed ends are a test's own business."""
    if b"\r\n" in data and data.count(b"\n") == data.count(b"\r\n"):
        return data.replace(b"\r\n", b"\n")
    return data


def _parse(path: Path) -> Element:
    try:
        tree = SafeET.parse(str(path))
    except SafeET.ParseError as e:
        raise ProblemError(f"problem.xml: not well-formed XML: {e}") from None
    except DefusedXmlException as e:
        raise ProblemError(f"problem.xml: refused ({type(e).__name__})") from None
    except OSError as e:
        raise ProblemError(f"problem.xml: {e.strerror}") from None
    root: Element = tree.getroot()
    if root.tag != "problem":
        raise ProblemError(f"problem.xml: the root element is <{root.tag}>, not <problem>")
    return root


def _testset(problem: Element) -> Element:
    for testset in problem.findall("./judging/testset"):
        if testset.get("name") == "tests":
            return testset
    raise ProblemError('problem.xml: judging: no <testset name="tests">')


def _slug(problem: Element) -> str:
    name = problem.get("short-name", "")
    slug = _SLUG_BAD.sub("-", name.strip().lower()).lstrip("-_")[:64].rstrip("-_")
    if not slug:
        raise ProblemError(f"problem.xml: problem short-name {name!r}: no usable slug in it")
    return slug


def _title(problem: Element, root: Path) -> str:
    names = problem.findall("./names/name")
    for name in sorted(names, key=lambda n: n.get("language") != "english"):
        value = name.get("value")
        if value:
            return value
    return statement.section_title(root) or problem.get("short-name") or ""


def _limits(testset: Element) -> dict[str, Any]:
    out: dict[str, Any] = {}
    time = testset.findtext("time-limit")
    if time is not None:
        out["time_limit"] = _number(time, "testset tests time-limit") / 1000
    memory = testset.findtext("memory-limit")
    if memory is not None:
        out["memory_limit"] = _int(memory, "testset tests memory-limit")
    output = testset.findtext("output-limit")
    if output is not None:
        out["output_limit"] = _int(output, "testset tests output-limit")
    return out


def _tests(root: Path, testset: Element, *, interactive: bool) -> list[dict[str, Any]]:
    elements = testset.findall("./tests/test")
    if not elements:
        raise ProblemError('problem.xml: testset "tests" lists no <test>')
    inputs = testset.findtext("input-path-pattern") or ""
    answers = testset.findtext("answer-path-pattern") or ""
    if not inputs:
        raise ProblemError('problem.xml: testset "tests": no input-path-pattern')
    tests = []
    for i, element in enumerate(elements, 1):
        in_rel = _fill(inputs, i, "input-path-pattern")
        in_path = inside(root, in_rel, "problem.xml: input-path-pattern")
        if not in_path.is_file():
            how = element.get("method", "manual")
            raise ProblemError(f"test {i} ({how}): {in_rel} is missing from the package{_FULL}")
        test: dict[str, Any] = {
            "name": in_rel, "input": _text_file(in_path.read_bytes()), "output": b""
        }
        if answers:
            ans_rel = _fill(answers, i, "answer-path-pattern")
            ans_path = inside(root, ans_rel, "problem.xml: answer-path-pattern")
            if ans_path.is_file():
                test["output"] = _text_file(ans_path.read_bytes())
            elif not interactive:
                raise ProblemError(f"test {i}: answer {ans_rel} is missing from the package{_FULL}")
        if element.get("sample") == "true":
            test["sample"] = True
        if element.get("points"):
            test["points"] = _points(element.get("points", ""), f"test {i} points")
        if element.get("group"):
            test["group"] = element.get("group")
        tests.append(test)
    return tests


def _groups(testset: Element, tests: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The scoring tree of docs/problem-format.md, or None for a pass/fail problem."""
    declared = {g.get("name", ""): g for g in testset.findall("./groups/group")}
    declared.pop("", None)
    if not _any_points(tests) and not any(g.get("points") for g in declared.values()):
        # Groups without points (an ICPC-style problem) score nothing: pass or fail it is.
        return None
    order: list[str] = []
    for t in tests:
        if "group" in t and t["group"] not in order:
            order.append(t["group"])
    order += [name for name in declared if name not in order]
    nodes: dict[str, dict[str, Any]] = {}
    children: list[dict[str, Any]] = []
    for i, t in enumerate(tests, 1):
        t.setdefault("points", 0 if "group" in t or _any_points(tests) else 1)
        name = t.get("group")
        if name is None:
            children.append({"test": i})
            continue
        if name not in nodes:
            nodes[name] = _group_node(name, declared.get(name), tests)
            children.append(nodes[name])
        nodes[name]["children"].append({"test": i})
    for name in order:
        if name not in nodes:  # declared but holding no test: nothing to score
            continue
        deps = declared[name].findall("./dependencies/dependency") if name in declared else []
        requires = [d.get("group", "") for d in deps]
        for dep in requires:
            if dep not in declared and dep not in nodes:
                raise ProblemError(f"problem.xml: group {name!r} depends on unknown {dep!r}")
        # A dependency on a group without tests is always met.
        requires = [dep for dep in requires if dep in nodes]
        if requires:
            nodes[name]["requires"] = requires
    # The root goes unnamed: a group may be called anything, "tests" included.
    return {"aggregation": "sum", "on_reject": "continue", "children": children}


def _group_node(name: str, group: Element | None, tests: list[dict[str, Any]]) -> dict[str, Any]:
    policy = group.get("points-policy", "each-test") if group is not None else "each-test"
    if policy == "complete-group":
        points = group.get("points") if group is not None else None
        total = (
            _points(points, f"group {name!r} points")
            if points
            else sum(t.get("points", 0) for t in tests if t.get("group") == name)
        )
        # The group scores all or nothing: after a rejected test the rest cannot change it.
        return {"name": name, "aggregation": "all", "on_reject": "break", "points": total,
                "children": []}  # fmt: skip
    if policy != "each-test":
        raise ProblemError(f"problem.xml: group {name!r} points-policy {policy!r}: unknown")
    return {"name": name, "aggregation": "sum", "on_reject": "continue", "children": []}


def _any_points(tests: list[dict[str, Any]]) -> bool:
    return any("points" in t for t in tests)


def _fill(pattern: str, index: int, field: str) -> str:
    try:
        return norm_path(pattern % index)
    except (TypeError, ValueError):
        raise ProblemError(f"problem.xml: {field} {pattern!r}: not a %d pattern") from None


def _number(text: str, field: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ProblemError(f"problem.xml: {field}: {text!r} is not a number") from None


def _int(text: str, field: str) -> int:
    value = _number(text, field)
    if value != int(value):
        raise ProblemError(f"problem.xml: {field}: {text!r} is not a whole number")
    return int(value)


def _points(text: str, field: str) -> int | float:
    value = _number(text, field)
    return int(value) if value == int(value) else value
