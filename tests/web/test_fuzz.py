"""Schemathesis fuzzes every API operation from the app's own OpenAPI schema: never a 500.

Runs as the admin, so admin-only operations are exercised past the permission check. The
example count is bounded so the whole run takes about a minute.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, settings

schemathesis = pytest.importorskip("schemathesis")

EXAMPLES = 100


@pytest.fixture(scope="module")
def api_schema(stack: Any) -> Any:
    return schemathesis.openapi.from_url(f"{stack.url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,  # the same inputs on every run: a red CI is reproducible locally
)
def test_api_never_answers_500(case: Any, stack: Any) -> None:
    headers = {"Authorization": f"Bearer {stack.tokens['admin']}"}
    response = case.call(base_url=stack.url, headers=headers, timeout=60)
    # 503 is a deliberate answer (queue full, broker down); 500 and the rest are bugs.
    assert response.status_code < 500 or response.status_code == 503, (
        f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:500]}"
    )
