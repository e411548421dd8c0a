"""ICPC test data: ``data/sample`` and ``data/secret`` at any depth, ``testdata.yaml`` per group,
and the scoring tree of docs/problem-format.md built from it.

Order is problemtools' order: each directory's entries sorted by name (a test by its ``.ans``
file name), groups and tests interleaved, ``sample`` before ``secret``.

Group settings, legacy (inherited down, as problemtools does): ``on_reject`` (break), ``grading``
/ ``grader_flags`` (score aggregation ``sum`` default or ``min``; ``ignore_sample`` at the root),
``accept_score`` (1), ``reject_score``, ``range``. 2023-07-draft: ``scoring: {score,
aggregation}`` per group, not inherited, with the spec's defaults (data and secret: score 1,
sum; sample: score 0, sum; other groups: score 1, min); the legacy keys are honoured there
too, as problemtools' own 2023-07 examples use them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from store.problems import ProblemError

# grader_flags stay with their group (DOMjudge's scoring examples: a "sum" on secret/ does not
# make each subgroup sum its tests).
_INHERITED = (
    "on_reject", "grading", "accept_score", "reject_score", "range",
    "output_validator_flags", "input_validator_flags",
    "output_validator_args", "input_validator_args",  # 2025-09's names
)  # fmt: skip
# 2025-09's scoring keys: its own model (max_score per group, score.txt or
# score_multiplier.txt per test), which the scoring tree here does not follow yet.
_SCORING_2025 = ("max_score", "score_aggregation", "require_pass", "static_validation_score")


def identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Dialect:
    """How a package's version spells its test data: the group file's name (2025-09 renamed
    testdata.yaml to test_group.yaml), its per-test ``.yaml`` files and constants (2025-09)."""

    legacy: bool
    config_name: str = "testdata.yaml"
    spec_2025: bool = False  # 2025-09: per-test .yaml files, and what it refuses (icpc.load)
    substitute: Callable[[Any], Any] = identity  # the package's constants, in YAML values


def input_args(config: dict[str, Any]) -> Any:
    """A group's (or test's) input validator arguments, by either version's name."""
    return config.get("input_validator_args", config.get("input_validator_flags"))


@dataclass
class Data:
    tests: list[dict[str, Any]] = field(default_factory=list)
    scoring: dict[str, Any] | None = None
    interactions: list[tuple[str, str]] = field(default_factory=list)  # (name, text), samples
    notes: list[str] = field(default_factory=list)
    root_config: dict[str, Any] = field(default_factory=dict)
    # Each test's input_validator_flags (its group's, inherited), in test order.
    input_flags: list[Any] = field(default_factory=list)


def load_yaml(path: Path, what: str) -> dict[str, Any]:
    """A YAML mapping (empty when the file is empty); ProblemError naming the file otherwise."""
    try:
        data = yaml.safe_load(path.read_bytes())
    except yaml.YAMLError as e:
        raise ProblemError(f"{what}: not valid YAML: {' '.join(str(e).split())}") from None
    except OSError as e:
        raise ProblemError(f"{what}: {e.strerror}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ProblemError(f"{what}: a mapping of keys to values is expected")
    return data


def number(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ProblemError(f"{what}: a number is expected, not {value!r}")
    try:
        return float(value)
    except ValueError:
        raise ProblemError(f"{what}: a number is expected, not {value!r}") from None


def load_data(
    root: Path,
    *,
    dialect: Dialect,
    scoring: bool,
    interactive: bool,
    grading: dict[str, Any],
) -> Data:
    data_dir = root / "data"
    if not data_dir.is_dir():
        raise ProblemError("data/: no test data directory")
    out = Data()
    out.root_config = _config(data_dir, {}, dialect, grading, f"data/{dialect.config_name}")
    builder = _Builder(
        root, out, dialect=dialect, scoring=scoring, interactive=interactive, grading=grading
    )
    children: list[dict[str, Any]] = []
    for part in ("sample", "secret"):
        d = data_dir / part
        if d.is_dir():
            children.append(builder.group(d, out.root_config))
    if not out.tests:
        raise ProblemError("data/: no tests (data/sample and data/secret hold no .in/.ans pair)")
    if scoring:
        flags = str(out.root_config.get("grader_flags") or "").split()
        if "ignore_sample" in flags:
            # The sample node stays in the tree (every test is in it) but earns nothing.
            for t in out.tests:
                if t["sample"]:
                    t["points"] = 0
        root_agg = builder.aggregation(data_dir, out.root_config, "data")
        out.scoring = {
            "name": "data",
            "aggregation": root_agg,
            "on_reject": builder.on_reject(out.root_config, root_agg),
            "verdict": builder.verdict_rule(out.root_config),
            "children": children,
        }
    elif _any_rule(children) or _Builder.verdict_rule(out.root_config) != "first_error":
        out.notes.append(
            f"{dialect.config_name}: grader flags always_accept and accept_if_any_accepted "
            "apply only to scoring problems here (pass-fail: the first rejection decides)"
        )
    return out


def _any_rule(nodes: list[dict[str, Any]]) -> bool:
    return any(
        n.get("verdict", "first_error") != "first_error" or _any_rule(n.get("children", []))
        for n in nodes
        if "children" in n
    )


class _Builder:
    def __init__(
        self,
        root: Path,
        out: Data,
        *,
        dialect: Dialect,
        scoring: bool,
        interactive: bool,
        grading: dict[str, Any],
    ) -> None:
        self.root, self.out, self.dialect, self.legacy = root, out, dialect, dialect.legacy
        self.scoring, self.interactive, self.grading = scoring, interactive, grading

    def rel(self, p: Path) -> str:
        return p.relative_to(self.root).as_posix()

    def where(self, directory: Path) -> str:
        return f"{self.rel(directory)}/{self.dialect.config_name}"

    def group(self, directory: Path, parent: dict[str, Any]) -> dict[str, Any]:
        where = self.where(directory)
        config = _config(directory, parent, self.dialect, self.grading, where)
        name = directory.relative_to(self.root / "data").as_posix()
        sample = name == "sample" or name.startswith("sample/")
        points = self.points(directory, config, name)
        for key in ("output_validator_flags", "output_validator_args"):
            if config.get(key) != self.out.root_config.get(key):
                # One checker and one set of its flags per problem: the root's.
                self.note(f"{where}: {key} of a group are not supported (data/'s are used)")
        if config.get("run_samples") is False:
            self.note(f"{where}: run_samples: false is not supported (samples are run)")
        entries: list[tuple[str, Path]] = []
        for p in directory.iterdir():
            if p.name.startswith(".") or p.is_symlink():
                continue
            if p.suffix in (".args", ".files"):
                self.note(
                    f"{self.rel(p)}: command-line arguments and extra files of a test "
                    "are not supported"
                )
            elif p.is_dir():
                entries.append((p.name, p))
            elif p.suffix == ".in":
                ans = p.with_suffix(".ans")
                entries.append((ans.name if ans.is_file() else p.name, p))
            elif p.suffix == ".interaction" and sample:
                self.out.interactions.append((self.rel(p.with_suffix("")), _text(p, self.rel(p))))
        children: list[dict[str, Any]] = []
        for _, p in sorted(entries):
            if p.is_dir():
                children.append(self.group(p, config))
                continue
            ans = p.with_suffix(".ans")
            if ans.is_file():
                output = ans.read_bytes()
            elif sample and self.interactive:
                output = b""  # an interactive sample may come with its input only
            else:
                raise ProblemError(f"{self.rel(p)}: no {ans.name} beside it")
            self.out.tests.append({
                "input": p.read_bytes(), "output": output, "group": name, "points": points,
                "sample": sample, "name": p.relative_to(self.root / "data").with_suffix("")
                .as_posix(),
            })  # fmt: skip
            self.out.input_flags.append(self.test_input_args(p, config))
            children.append({"test": len(self.out.tests)})
        agg = self.aggregation(directory, config, name)
        return {
            "name": name,
            "aggregation": agg,
            "on_reject": self.on_reject(config, agg),
            "verdict": self.verdict_rule(config),
            "children": children,
        }

    def test_input_args(self, test_in: Path, config: dict[str, Any]) -> Any:
        """The input validator arguments of one test: its group's, or (2025-09) its own
        ``.yaml`` file's. That file's other keys change how the test is run or checked, and
        are refused rather than ignored."""
        group_args = input_args(config)
        own_file = test_in.with_suffix(".yaml")
        if not self.dialect.spec_2025 or not own_file.is_file():
            return group_args
        where = self.rel(own_file)
        own = self.dialect.substitute(load_yaml(own_file, where))
        if own.get("args"):
            raise ProblemError(f"{where}: args: arguments to submissions are not supported")
        checker_args = own.get("output_validator_args")
        if checker_args is not None and checker_args != config.get("output_validator_args"):
            raise ProblemError(
                f"{where}: output_validator_args of one test are not supported (one set per problem)"
            )
        return own.get("input_validator_args", group_args)

    def points(self, directory: Path, config: dict[str, Any], name: str) -> float:
        if not self.scoring:
            return 1.0
        where = self.where(directory)
        if "reject_score" in config and number(config["reject_score"], where) != 0:
            self.note(f"{where}: reject_score is not supported (rejected tests score 0)")
        # 2023-07's scoring.score, else the legacy accept_score (problemtools' own 2023-07
        # examples still use it), else the spec's default: samples count for nothing in 2023-07.
        # Samples count for nothing in a scoring problem: 2023-07 says so, and DOMjudge's
        # scoring examples expect it of legacy packages too.
        sample = name == "sample" or name.startswith("sample/")
        if sample:
            return 0.0
        default = 1
        value = _scoring(config, where).get("score", config.get("accept_score", default))
        score = number(value, f"{where}: score")
        if score < 0:
            raise ProblemError(f"{where}: the score of a test must be at least 0")
        return score

    def aggregation(self, directory: Path, config: dict[str, Any], name: str) -> str:
        where = self.where(directory)
        if config.get("grading", "default") != "default":
            self.note(f"{where}: custom graders are not supported (the sum is used)")
        # A subtask (a group below secret that holds tests) is won whole or not at all: its
        # tests each score the group's accept_score, and min keeps that once (2023-07's rule;
        # DOMjudge's legacy scoring examples expect the same).
        holds_tests = any(p.suffix == ".in" for p in directory.iterdir())
        top = name in ("data", "sample", "secret") or not holds_tests
        agg = "sum" if top else "min"
        for flag in str(config.get("grader_flags") or "").split():
            if flag in ("sum", "min", "max", "avg"):
                agg = flag
        agg = _scoring(config, where).get("aggregation", agg)
        if agg not in ("sum", "min", "max", "avg"):
            raise ProblemError(f"{where}: scoring.aggregation: sum, min, max or avg, not {agg!r}")
        return str(agg)

    @staticmethod
    def verdict_rule(config: dict[str, Any]) -> str:
        """The default grader's verdict flags (problemtools): the group is accepted whatever
        its tests got, or if any of them is accepted; else its first rejection decides."""
        flags = str(config.get("grader_flags") or "").split()
        if "always_accept" in flags:
            return "always_accepted"
        if "accept_if_any_accepted" in flags:
            return "any_accepted"
        return "first_error"

    def on_reject(self, config: dict[str, Any], aggregation: str) -> str:
        value = config.get("on_reject")
        if value is None:
            # 2023-07 has no on_reject: a min group is lost at its first rejection anyway.
            value = "break" if self.legacy or aggregation == "min" else "continue"
        if value not in ("break", "continue"):
            raise ProblemError(
                f"{self.dialect.config_name}: on_reject: break or continue, not {value!r}"
            )
        return str(value)

    def note(self, message: str) -> None:
        if message not in self.out.notes:
            self.out.notes.append(message)


def _scoring(config: dict[str, Any], where: str) -> dict[str, Any]:
    spec = config.get("scoring") or {}
    if not isinstance(spec, dict):
        raise ProblemError(f"{where}: scoring: a mapping is expected")
    return spec


def _config(
    directory: Path, parent: dict[str, Any], dialect: Dialect, grading: dict[str, Any], where: str
) -> dict[str, Any]:
    path = directory / dialect.config_name
    own = dialect.substitute(load_yaml(path, where)) if path.is_file() else {}
    if own.get("args"):
        raise ProblemError(f"{where}: args: arguments to submissions are not supported")
    for key in _SCORING_2025:
        if key in own:
            raise ProblemError(f"{where}: {key}: scoring by the 2025-09 rules is not supported")
    config = {k: v for k, v in parent.items() if k in _INHERITED}
    config.update(own)
    if dialect.legacy:
        # problem.yaml's grading section overrides every group (problemtools' transition rule).
        for key in ("accept_score", "reject_score", "range"):
            if grading.get(key) is not None:
                config[key] = grading[key]
        on_reject = grading.get("on_reject")
        if on_reject in ("first_error", "grade"):
            config["on_reject"] = "break" if on_reject == "first_error" else "continue"
    return config


def _text(path: Path, what: str) -> str:
    from store.formats.common import read_text

    return read_text(path, what)
