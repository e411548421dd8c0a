"""A problem as a zip that `judge problem import` (and the API's zip upload) takes back.

``problem.json`` holds everything but the test data, each test's group, points, sample flag and
name in order; ``tests/N.in`` and ``tests/N.out`` hold the data byte for byte (a JSON export
would have to decode it, and binary tests would not survive); the problem's files (statement
PDF, testlib.h) go in ``problem.json`` as text or base64, as the store's JSON form has them.
"""

from __future__ import annotations

import io
import json
import zipfile

import store
from store import Problem
from store.problems import encode_files


def export_zip(problem: Problem) -> bytes:
    meta = store.problem_to_dict(problem, with_tests=False)
    meta.pop("max_score", None)  # derived from the tests on import
    meta["tests"] = [
        {"group": t.group, "points": t.points,
         **({"sample": True} if t.sample else {}), **({"name": t.name} if t.name else {})}
        for t in problem.tests
    ]  # fmt: skip
    if problem.files:
        meta["files"] = encode_files({f.name: f.data for f in problem.files})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("problem.json", json.dumps(meta, indent=2, ensure_ascii=False))
        for t in problem.tests:
            zf.writestr(f"tests/{t.index}.in", t.input)
            zf.writestr(f"tests/{t.index}.out", t.output)
    return buf.getvalue()
