"""ICPC problem packages (Kattis problemtools, DOMjudge, BAPCtools): the ``legacy`` format,
``2023-07-draft`` and ``2025-09``, read into the problem mapping of docs/problem-format.md.

2025-09 renamed testdata.yaml to ``test_group.yaml``, gave each test an optional ``.yaml`` of
arguments and added ``constants`` (``{{name}}`` in validators, submissions, test_group.yaml and
the statement). Its scoring model, its arguments to submissions and its static validators are
refused, not ignored: a package graded by other rules than its authors' is worse than none.

``problem.yaml`` says what kind of problem it is; ``data/`` holds the tests (icpc_data),
``output_validators/`` / ``output_validator/``, ``input_validators/`` and ``submissions/`` the
programs (icpc_programs), ``problem_statement/`` / ``statement/`` the text (LaTeX goes through
latex.to_markdown). DOMjudge's ``domjudge-problem.ini`` and ``.timelimit`` give the name and
time limit its packages carry outside problem.yaml.

A package with no time limit (the ICPC norm: it is derived from the accepted submissions) gets
PROVISIONAL_TIME_LIMIT and ``package.time_limit_from_submissions``; ``judge problem verify``
then sets the real one. The provisional limit is generous on purpose, so that verify can
measure slow accepted submissions instead of cutting them off.
"""

from __future__ import annotations

import base64
import configparser
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from store.formats import icpc_data, icpc_programs, latex
from store.formats.common import read_text
from store.formats.icpc_data import load_yaml, number
from store.problems import ProblemError

NAME = "icpc"
PROVISIONAL_TIME_LIMIT = 10.0
LEGACY_MULTIPLIERS = {"time_multiplier": 5.0, "time_safety_margin": 2.0}
DRAFT_MULTIPLIERS = {"ac_to_time_limit": 2.0, "time_limit_to_tle": 1.5}
_SLUG_BAD = re.compile(r"[^a-z0-9_-]+")
_TEMP_PREFIX = "judge-package-"  # store.formats.load_zip's directory: not a problem's name
_MIB_LIMITS = {"memory": "memory_limit", "output": "output_limit"}
_STEP_LIMITS = {
    "compilation_time": ("compile_time", False), "compilation_memory": ("compile_memory", True),
    "validation_time": ("validation_time", False), "validation_memory": ("validation_memory", True),
}  # fmt: skip
DOMJUDGE_COMPILE_MEMORY_MIB = 2048
DOMJUDGE_COMPILE_FILE_SIZE_MIB = 2560
#: A statement that has its own sample sections: the importer appends none, the page shows none.
OWN_SAMPLES = re.compile(r"(?im)^#+\s*sample")
_FLOAT_FLAGS = ("float_relative_tolerance", "float_absolute_tolerance", "float_tolerance")


def detect(root: Path) -> bool:
    return (root / "problem.yaml").is_file()


def load(root: Path) -> dict[str, Any]:
    meta = load_yaml(root / "problem.yaml", "problem.yaml")
    ini = _domjudge_ini(root)
    version = str(meta.get("problem_format_version", "legacy"))
    if not version.startswith("legacy") and version not in VERSIONS:
        raise ProblemError(
            f"problem.yaml: problem_format_version {version!r} is not one this judge reads "
            f"(legacy, {', '.join(VERSIONS)})"
        )
    legacy = version.startswith("legacy")
    types = _types(meta, legacy)
    dialect = _dialect(version, legacy, meta)
    validation = str(meta.get("validation", "default")).split() or ["default"]
    interactive = "interactive" in types or "interactive" in validation
    multi_pass = "multi-pass" in types or "multi-pass" in validation
    scoring = "scoring" in types
    grading = meta.get("grading") or {}
    if not isinstance(grading, dict):
        raise ProblemError("problem.yaml: grading: a mapping is expected")
    skipped: list[str] = []

    if dialect.spec_2025:
        _refuse_2025_unsupported(root, scoring)
        if (root / "submissions" / "submissions.yaml").is_file():
            skipped.append(
                "submissions/submissions.yaml: not read (each folder's verdicts are expected)"
            )
    data = icpc_data.load_data(
        root, dialect=dialect, scoring=scoring, interactive=interactive, grading=grading
    )
    skipped.extend(data.notes)
    flags = _validator_flags(meta, data.root_config)
    package: dict[str, Any] = {"format": NAME, "version": version, "type": sorted(types)}
    out: dict[str, Any] = {"package": package, "tests": data.tests}
    out.update(_limits(meta, root, ini, legacy, package))

    custom = (
        validation[0] == "custom"
        or interactive
        or multi_pass
        or (root / "output_validator").is_dir()
    )
    if custom:
        validator = icpc_programs.output_validator(root, flags, skipped)
        if validator is None:
            raise ProblemError("output_validators/: validation is custom but there is no validator")
        if interactive:
            out["interactor"] = validator
        else:
            out["checker"] = {"type": "custom", **validator}
    else:
        out["checker"] = _default_checker(flags)
    if multi_pass:
        package["multi_pass"] = True
        limits = meta.get("limits") or {}
        passes = limits.get("validation_passes", 2) if isinstance(limits, dict) else 2
        if isinstance(passes, bool) or not isinstance(passes, int) or passes < 2:
            raise ProblemError("problem.yaml: limits.validation_passes: a whole number >= 2")
        out["interactor" if interactive else "checker"]["passes"] = passes
    if scoring:
        out["scoring"] = data.scoring
        out["stop_on_failure"] = False
    else:
        out["stop_on_failure"] = True

    out["input_validators"] = _input_validators(root, data.root_config, skipped)
    _group_input_flags(out["input_validators"], data.input_flags, data.root_config, skipped)
    out["submissions"] = icpc_programs.submissions(root, skipped)
    statement, tex_title, pdf = _statement(root, dialect.substitute)
    out["statement"] = _with_samples(statement, data, interactive)
    files = _attachments(root, skipped)
    if pdf is not None:
        files["statement.pdf"] = {"base64": base64.b64encode(pdf).decode()}
    if files:
        out["files"] = files
    if (root / "include").is_dir():
        skipped.append("include/: code included with every submission is not supported")
    title = _title(meta, tex_title, ini)
    out["slug"] = _slug(meta, ini, root, title)
    out["title"] = title or out["slug"]
    if skipped:
        package["skipped"] = skipped
    return _with_constants(out, dialect) if dialect.spec_2025 else out


#: problem_format_version values read here besides legacy. 2023-07-draft is what became
#: 2025-09; the two "draft" spellings of 2025-09 are its own.
VERSIONS = ("2023-07-draft", "2023-07", "2025-09-draft", "2025-09")
_CONSTANT = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z0-9_]+))?\}\}")
_CONSTANT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LATEX_CONSTANT = re.compile(r"\\constant\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)?)\}")


def _dialect(version: str, legacy: bool, meta: dict[str, Any]) -> icpc_data.Dialect:
    if not version.startswith("2025-09"):
        return icpc_data.Dialect(legacy=legacy)
    constants = _constants(meta)

    def substitute(value: Any) -> Any:
        if isinstance(value, str):
            return _substituted(value, constants)
        if isinstance(value, list):
            return [substitute(v) for v in value]
        if isinstance(value, dict):
            return {k: substitute(v) for k, v in value.items()}
        return value

    return icpc_data.Dialect(
        legacy=False, config_name="test_group.yaml", spec_2025=True, substitute=substitute
    )


def _constants(meta: dict[str, Any]) -> dict[str, dict[str, str]]:
    """problem.yaml's ``constants``: name -> variant -> text (``value`` always there)."""
    raw = meta.get("constants") or {}
    if not isinstance(raw, dict):
        raise ProblemError("problem.yaml: constants: a mapping of names to values is expected")
    out: dict[str, dict[str, str]] = {}
    for name, value in raw.items():
        if not isinstance(name, str) or not _CONSTANT_NAME.fullmatch(name):
            raise ProblemError(f"problem.yaml: constants: {name!r} is not a valid name")
        variants = value if isinstance(value, dict) else {"value": value}
        if "value" not in variants:
            raise ProblemError(f"problem.yaml: constants.{name}: a value is required")
        for key, text in variants.items():
            if isinstance(text, bool) or not isinstance(text, int | float | str):
                raise ProblemError(f"problem.yaml: constants.{name}.{key}: a number or text")
        out[name] = {str(k): str(v) for k, v in variants.items()}
    return out


def _substituted(text: str, constants: dict[str, dict[str, str]]) -> str:
    """``{{name}}`` and ``{{name.variant}}`` replaced; an unknown one is left as it is."""

    def one(m: re.Match[str]) -> str:
        found = constants.get(m.group(1), {}).get(m.group(2) or "value")
        return m.group(0) if found is None else found

    return _CONSTANT.sub(one, text) if "{{" in text else text


def _with_constants(out: dict[str, Any], dialect: icpc_data.Dialect) -> dict[str, Any]:
    """The package's constants in the programs 2025-09 says they are replaced in: the
    validators and the example submissions, their sources and text files (the statement and
    test_group.yaml had them as they were read). Not in the tests, nor in problem.yaml."""

    def program(p: dict[str, Any]) -> None:
        p["source"] = dialect.substitute(p["source"])
        for name, data in (p.get("files") or {}).items():
            if isinstance(data, bytes):
                try:
                    data = data.decode("utf-8")
                except UnicodeDecodeError:
                    continue
                p["files"][name] = dialect.substitute(data).encode()
            elif isinstance(data, str):
                p["files"][name] = dialect.substitute(data)

    for key in ("checker", "interactor"):
        if isinstance(out.get(key), dict) and "source" in out[key]:
            program(out[key])
    for p in (*out.get("input_validators", ()), *out.get("submissions", ())):
        program(p)
    return out


def _refuse_2025_unsupported(root: Path, scoring: bool) -> None:
    """What of 2025-09 would be graded by other rules here than its authors': refused."""
    if scoring:
        raise ProblemError(
            "problem.yaml: type scoring: scoring by the 2025-09 rules (max_score, "
            "score_aggregation, score_multiplier.txt) is not supported"
        )
    if (root / "static_validator").exists():
        raise ProblemError("static_validator/: static validation of submissions is not supported")


def _types(meta: dict[str, Any], legacy: bool) -> set[str]:
    value = meta.get("type", "pass-fail")
    words = value.split() if isinstance(value, str) else value
    if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
        raise ProblemError("problem.yaml: type: a string or a list of strings")
    known = {"pass-fail", "scoring", "interactive", "multi-pass", "submit-answer"}
    for w in words:
        if w not in known:
            raise ProblemError(f"problem.yaml: type: unknown problem type {w!r}")
    if legacy and not set(words) <= {"pass-fail", "scoring"}:
        raise ProblemError("problem.yaml: type: pass-fail or scoring in the legacy format")
    return set(words)


def _domjudge_ini(root: Path) -> dict[str, str]:
    path = root / "domjudge-problem.ini"
    if not path.is_file():
        return {}
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string("[problem]\n" + read_text(path, "domjudge-problem.ini"))
    except configparser.Error as e:
        raise ProblemError(f"domjudge-problem.ini: {' '.join(str(e).split())}") from None
    return {k: v.strip().strip("'\"") for k, v in parser["problem"].items()}


def _limits(
    meta: dict[str, Any], root: Path, ini: dict[str, str], legacy: bool, package: dict[str, Any]
) -> dict[str, Any]:
    limits = meta.get("limits") or {}
    if not isinstance(limits, dict):
        raise ProblemError("problem.yaml: limits: a mapping is expected")
    # The format's defaults when the package says nothing: 2048 MiB of memory, 8 MiB of output.
    out: dict[str, Any] = {"memory_limit": "2048M", "output_limit": "8M"}
    for key, field in _MIB_LIMITS.items():
        if key in limits:
            out[field] = f"{_positive(limits[key], f'limits.{key}')}M"
    steps: dict[str, Any] = {}
    for key, (field, mib) in _STEP_LIMITS.items():
        if key in limits:
            value = _positive(limits[key], f"limits.{key}")
            steps[field] = f"{value}M" if mib else value
    if (root / ".timelimit").is_file() or ini:
        # A DOMjudge package is graded by DOMjudge's output rule: output past the limit is
        # dropped and the program runs on (its example `hello` expects TLE of a program that
        # floods stdout or stderr forever; Kattis's rule, OLE at the cap, stays the default).
        steps["output_overflow"] = "truncate"
        # And by DOMjudge's compile limits (its script_memory_limit and script_filesize_limit
        # defaults): its `hello` has a 512 MiB statically initialised binary that must compile.
        steps.setdefault("compile_memory", f"{DOMJUDGE_COMPILE_MEMORY_MIB}M")
        steps["compile_file_size"] = f"{DOMJUDGE_COMPILE_FILE_SIZE_MIB}M"
    if steps:
        out["limits"] = steps

    if legacy:
        package.update(LEGACY_MULTIPLIERS)
        for key in LEGACY_MULTIPLIERS:
            if key in limits:
                package[key] = _positive(limits[key], f"limits.{key}")
    else:
        multipliers = limits.get("time_multipliers") or {}
        if not isinstance(multipliers, dict):
            raise ProblemError("problem.yaml: limits.time_multipliers: a mapping is expected")
        # Stored under the doc's names so `judge problem verify` needs one rule.
        for ours, key in (
            ("time_multiplier", "ac_to_time_limit"),
            ("time_safety_margin", "time_limit_to_tle"),
        ):
            value = multipliers.get(key, DRAFT_MULTIPLIERS[key])
            package[ours] = _positive(value, f"limits.time_multipliers.{key}")
        if "time_resolution" in limits:
            package["time_resolution"] = _positive(
                limits["time_resolution"], "limits.time_resolution"
            )

    time_limit: float | None = None
    if "time_limit" in limits:
        time_limit = _positive(limits["time_limit"], "limits.time_limit")
    elif (root / ".timelimit").is_file():
        text = read_text(root / ".timelimit", ".timelimit").strip()
        time_limit = _positive(text, "", where=".timelimit")
    elif "timelimit" in ini:
        time_limit = _positive(ini["timelimit"], "timelimit", where="domjudge-problem.ini")
    if time_limit is None:
        out["time_limit"] = PROVISIONAL_TIME_LIMIT
        package["time_limit_from_submissions"] = True
    else:
        out["time_limit"] = time_limit
    return out


def _positive(value: Any, field: str, where: str = "problem.yaml") -> float:
    what = f"{where}: {field}" if field else where
    result = number(value, what)
    if result <= 0:
        raise ProblemError(f"{what}: must be more than 0, not {value!r}")
    return int(result) if result == int(result) else result


def _validator_flags(meta: dict[str, Any], root_config: dict[str, Any]) -> list[str]:
    flags: list[str] = []
    for value in (
        meta.get("validator_flags"),
        root_config.get("output_validator_flags"),
        root_config.get("output_validator_args"),
    ):
        if isinstance(value, dict):  # legacy map form: {name, flags}
            value = value.get("flags")
        if isinstance(value, list):
            flags.extend(str(v) for v in value)
        elif value:
            flags.extend(str(value).split())
    return flags


def _default_checker(flags: list[str]) -> dict[str, Any]:
    """The ICPC default output validator as our built-in tokens checker."""
    checker: dict[str, Any] = {
        "type": "tokens",
        "case_sensitive": False,
        "space_change_sensitive": False,
    }
    i = 0
    while i < len(flags):
        flag = flags[i]
        if flag in ("case_sensitive", "space_change_sensitive"):
            checker[flag] = True
        elif flag in _FLOAT_FLAGS:
            if i + 1 >= len(flags):
                raise ProblemError(f"problem.yaml: validator_flags: {flag} needs a number")
            value = number(flags[i + 1], f"problem.yaml: validator_flags: {flag}")
            if value < 0:
                raise ProblemError(f"problem.yaml: validator_flags: {flag} must be >= 0")
            checker[flag] = value
            i += 1
        else:
            raise ProblemError(f"problem.yaml: validator_flags: unknown flag {flag!r}")
        i += 1
    return checker


def _group_input_flags(
    validators: list[dict[str, Any]],
    per_test: list[Any],
    root_config: dict[str, Any],
    skipped: list[str],
) -> None:
    """A group's (or, 2025-09, a test's) own input validator arguments (problemtools runs
    the validators on its tests with them, as oddecho checks each subtask's bounds):
    ``test_flags`` of each validator."""
    root = icpc_data.input_args(root_config)
    differ = {i: f for i, f in enumerate(per_test, 1) if f != root}
    if not differ or not validators:
        return
    if any(isinstance(f, dict) for f in differ.values()):
        skipped.append("per-validator input validator arguments are not used")
        return
    test_flags = {str(i): _arg_list(f) for i, f in differ.items()}
    for validator in validators:
        validator["test_flags"] = test_flags


def _arg_list(value: Any) -> list[str]:
    """Validator arguments: a string of words (legacy, 2023-07) or a list (2025-09)."""
    if isinstance(value, list):
        return [str(v) for v in value]
    return str(value).split() if value else []


def _input_validators(
    root: Path, root_config: dict[str, Any], skipped: list[str]
) -> list[dict[str, Any]]:
    raw = icpc_data.input_args(root_config)
    flags = [] if isinstance(raw, dict) else _arg_list(raw)
    if isinstance(raw, dict):
        skipped.append("data/: per-validator input validator arguments are not used")
    out: list[dict[str, Any]] = []
    for name in ("input_validators", "input_format_validators"):
        if (root / name).is_dir():
            out.extend(icpc_programs.programs_in(root / name, name, flags, skipped))
    single = root / "input_validator"
    if single.is_dir():
        if any(p.is_dir() for p in single.iterdir()):
            out.extend(icpc_programs.programs_in(single, "input_validator", flags, skipped))
        else:
            out.append(icpc_programs.program(single, "input_validator", flags))
    return out


_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_.+-][A-Za-z0-9_.+ -]{0,127}$")  # store.problems' rule


def _attachments(root: Path, skipped: list[str]) -> dict[str, Any]:
    """``attachments/`` (files offered to contestants) as the problem's downloadable files."""
    folder = root / "attachments"
    if not folder.is_dir():
        return {}
    out: dict[str, Any] = {}
    for p in sorted(folder.iterdir()):
        rel = p.relative_to(root).as_posix()
        if not p.is_file() or p.is_symlink() or not _PLAIN_NAME.match(p.name):
            skipped.append(f"{rel}: only plain files directly in attachments/ are offered")
        elif p.name == "statement.pdf":
            skipped.append(f"{rel}: the name is taken by the statement")
        else:
            out[p.name] = {"base64": base64.b64encode(p.read_bytes()).decode()}
    return out


_STATEMENT_DIRS = ("statement", "problem_statement")
_STATEMENT_NAMES = ("problem.en.md", "problem.md", "problem.en.tex", "problem.tex")


def _statement(
    root: Path, substitute: Callable[[Any], Any] = icpc_data.identity
) -> tuple[str, str | None, bytes | None]:
    """(Markdown, the LaTeX \\problemname or None, the PDF statement or None). ``substitute``:
    the package's constants, ``{{name}}`` in Markdown and ``\\constant{name}`` in LaTeX."""
    text, title = "", None
    candidates = [root / d / n for d in _STATEMENT_DIRS for n in _STATEMENT_NAMES]
    for d in _STATEMENT_DIRS:
        if (root / d).is_dir():
            candidates += sorted((root / d).glob("problem.*.md"))
            candidates += sorted((root / d).glob("problem.*.tex"))
    for path in candidates:
        if path.is_file():
            rel = path.relative_to(root).as_posix()
            source = read_text(path, rel)
            if path.suffix == ".md":
                text = substitute(source)
            else:
                text, title = latex.to_markdown(substitute(_LATEX_CONSTANT.sub(r"{{\1}}", source)))
            break
    pdf = None
    pdfs = [root / d / n for d in _STATEMENT_DIRS for n in ("problem.en.pdf", "problem.pdf")]
    for path in [*pdfs, root / "problem.pdf"]:
        if path.is_file():
            pdf = path.read_bytes()
            break
    return text, title, pdf


def _with_samples(statement: str, data: icpc_data.Data, interactive: bool) -> str:
    """Append the samples as problemtools shows them, unless the statement has its own."""
    if OWN_SAMPLES.search(statement):
        return statement
    blocks: list[str] = []
    if data.interactions:
        blocks.append(
            "Lines starting with `>` are written by your program, lines starting "
            "with `<` are what it reads."
        )
        for k, (_, text) in enumerate(sorted(data.interactions), 1):
            blocks.append(f"## Sample Interaction {k}\n\n```\n{text.rstrip()}\n```")
    elif not interactive:
        samples = [t for t in data.tests if t["sample"]]
        for k, t in enumerate(samples, 1):
            for part, key in (("Input", "input"), ("Output", "output")):
                body = t[key].decode("utf-8", errors="replace").rstrip("\n")
                blocks.append(f"## Sample {part} {k}\n\n```\n{body}\n```")
    if not blocks:
        return statement
    return (statement.rstrip() + "\n\n" if statement.strip() else "") + "\n\n".join(blocks) + "\n"


def _title(meta: dict[str, Any], tex_title: str | None, ini: dict[str, str]) -> str | None:
    name = meta.get("name")
    if isinstance(name, dict) and name:
        chosen = name.get("en", next(iter(name.values())))
        if isinstance(chosen, str) and chosen.strip():
            return chosen.strip()
    elif isinstance(name, str) and name.strip():
        return name.strip()
    elif name is not None:
        raise ProblemError("problem.yaml: name: a string or a map of language to string")
    return tex_title or ini.get("name") or None


def _slug(meta: dict[str, Any], ini: dict[str, str], root: Path, title: str | None) -> str:
    directory = root.name if not root.name.startswith(_TEMP_PREFIX) else None
    for candidate in (
        ini.get("short-name"),
        ini.get("probid"),
        meta.get("short_name"),
        directory,
        title,
    ):
        if isinstance(candidate, str):
            slug = _SLUG_BAD.sub("-", candidate.strip().lower()).lstrip("-_")[:64].rstrip("-_")
            if slug:
                return slug
    raise ProblemError("problem.yaml: no usable name for the problem's slug (set name)")
