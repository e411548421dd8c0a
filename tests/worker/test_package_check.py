"""worker.package_check: input validators run for real in the sandbox."""

from __future__ import annotations

from pathlib import Path

import pytest

import store
from worker.package_check import check_inputs

VALIDATOR = (
    "import sys\n"
    "a, b = map(int, sys.stdin.read().split())\n"
    "if a < 0:\n"
    "    print('a is negative', file=sys.stderr); sys.exit(43)\n"
    "sys.exit(42)\n"
)


def _spec(inputs: list[str]) -> store.problems.ProblemSpec:
    return store.validate(
        {
            "slug": "v",
            "tests": [
                {"input": t, "output": "0\n", "name": f"secret/{i}"} for i, t in enumerate(inputs)
            ],
            "input_validators": [{"language": "python3", "source": VALIDATOR, "protocol": "icpc"}],
        }
    )


def test_valid_inputs_pass() -> None:
    check_inputs(_spec(["1 2\n", "3 4\n"]))


def test_invalid_input_is_named() -> None:
    with pytest.raises(
        store.ProblemError, match=r"test secret/1: rejected by input validator 1: a is negative"
    ):
        check_inputs(_spec(["1 2\n", "-1 4\n"]))


def test_broken_validator_is_named() -> None:
    spec = store.validate(
        {
            "slug": "v",
            "tests": [{"input": "1\n", "output": "1\n"}],
            "input_validators": [
                {"language": "python3", "source": "import sys\nsys.exit(5)\n", "protocol": "icpc"}
            ],
        }
    )
    with pytest.raises(store.ProblemError, match="input validator 1 failed on test 1: exit 5"):
        check_inputs(spec)


# Bounds from the flags, as problemtools' oddecho checks each subtask's with its own flags.
BOUNDED = (
    "import sys\n"
    "flags = dict(f.split('=') for f in sys.argv[1:])\n"
    "n = int(sys.stdin.read())\n"
    "sys.exit(42 if n <= int(flags.get('max', '10')) else 43)\n"
)


def _bounded_package(root: Path, small: str) -> Path:
    files = {
        "problem.yaml": "name: Bounds\ntype: scoring\n",
        "input_validators/bounds.py": BOUNDED,
        "data/testdata.yaml": "input_validator_flags: max=10\n",
        "data/sample/1.in": "3\n", "data/sample/1.ans": "3\n",
        "data/secret/small/testdata.yaml": "input_validator_flags: max=5\n",
        "data/secret/small/1.in": small, "data/secret/small/1.ans": small,
        "data/secret/large/testdata.yaml": "input_validator_flags: max=1000\n",
        "data/secret/large/1.in": "500\n", "data/secret/large/1.ans": "500\n",
    }  # fmt: skip
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_each_group_validates_with_its_own_input_validator_flags(tmp_path: Path) -> None:
    from store import formats

    data = formats.load_path(_bounded_package(tmp_path / "ok", "4\n"))
    (validator,) = data["input_validators"]
    assert validator["flags"] == ["max=10"]
    # Tests in order: sample/1, secret/large/1, secret/small/1.
    assert validator["test_flags"] == {"2": ["max=1000"], "3": ["max=5"]}
    check_inputs(store.validate(data))  # 500 passes under large's max=1000

    data = formats.load_path(_bounded_package(tmp_path / "bad", "7\n"))
    with pytest.raises(store.ProblemError, match="test secret/small/1: rejected by input valid"):
        check_inputs(store.validate(data))  # 7 is fine for data/'s max=10, not small's max=5


# A Polygon validator with a group's own bound, as validator.group() gives testlib ones:
# Polygon runs it as `val --testset tests --group G`.
GROUP_VALIDATOR = (
    "import sys\n"
    "args = sys.argv[1:]\n"
    "group = args[args.index('--group') + 1] if '--group' in args else ''\n"
    "assert args[:2] == ['--testset', 'tests'], args\n"
    "n = int(sys.stdin.read())\n"
    "if group == 'small' and n > 10:\n"
    "    print(f'FAIL n = {n} > 10 in group small', file=sys.stderr); sys.exit(3)\n"
)


def _polygon_package(root: Path, small_test: str) -> Path:
    root.mkdir()
    (root / "tests").mkdir()
    for i, text in enumerate(("500\n", small_test), 1):
        (root / "tests" / f"{i:02d}").write_text(text)
        (root / "tests" / f"{i:02d}.a").write_text(text)
    (root / "files").mkdir()
    (root / "files" / "val.py").write_text(GROUP_VALIDATOR)
    (root / "problem.xml").write_text(f"""<?xml version="1.0" encoding="utf-8"?>
<problem short-name="{root.name}"><names><name language="english" value="N"/></names>
  <judging><testset name="tests"><time-limit>1000</time-limit>
    <input-path-pattern>tests/%02d</input-path-pattern>
    <answer-path-pattern>tests/%02d.a</answer-path-pattern>
    <tests><test method="manual" group="big" points="1"/><test method="manual" group="small" points="1"/></tests>
    <groups><group name="big" points-policy="each-test"/><group name="small" points-policy="each-test"/></groups>
  </testset></judging>
  <assets><validators><validator><source path="files/val.py" type="python.3"/></validator></validators></assets>
</problem>""")
    return root


def test_a_polygon_validator_checks_each_group_by_its_name(tmp_path: Path) -> None:
    from store import formats

    check_inputs(store.validate(formats.load_path(_polygon_package(tmp_path / "ok", "7\n"))))
    data = formats.load_path(_polygon_package(tmp_path / "bad", "70\n"))
    with pytest.raises(store.ProblemError, match="n = 70 > 10 in group small"):
        check_inputs(store.validate(data))
