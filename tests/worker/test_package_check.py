"""worker.package_check: input validators run for real in the sandbox."""

from __future__ import annotations

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
