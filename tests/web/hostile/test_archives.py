"""Problem archives cannot amplify or disguise (issue 14, finding 13): a zip bomb is a quick
413 whatever the route, a name appearing twice is refused, and nothing comes back echoed."""

from __future__ import annotations

import io
import json
import time
import warnings
import zipfile
from typing import Any

import pytest

MiB = 1 << 20


def _bomb() -> bytes:
    """~600 KiB of zip that unpacks to 600 MiB of zeros (beyond the 512 MiB bound)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("problem.json", json.dumps({"slug": "bomb"}))
        with zf.open("tests/1.in", "w") as member:
            block = bytes(MiB)
            for _ in range(600):
                member.write(block)
        zf.writestr("tests/1.out", "1\n")
    return buf.getvalue()


@pytest.mark.parametrize("path", ["/api/problems", "/api/problems/import"])
def test_a_zip_bomb_is_a_quick_413(stack: Any, path: str) -> None:
    archive = _bomb()
    assert len(archive) < 2 * MiB
    with stack.client("admin") as c:
        start = time.monotonic()
        r = c.post(path, content=archive, headers={"content-type": "application/zip"})
        elapsed = time.monotonic() - start
        assert r.status_code == 413 and "unpacks to more than" in r.json()["detail"], r.text
        assert elapsed < 10, elapsed  # refused on the declared sizes, not after unpacking
        assert c.get("/api/problems/bomb").status_code == 404


@pytest.mark.parametrize("path", ["/api/problems", "/api/problems/import"])
def test_a_name_twice_in_an_archive_is_refused(stack: Any, path: str) -> None:
    buf = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buf, "w") as zf:
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate we want
        zf.writestr("problem.json", json.dumps({"slug": "twice"}))
        zf.writestr("tests/1.in", "1 2\n")
        zf.writestr("tests/1.out", "3\n")
        zf.writestr("tests/1.out", "4\n")
    with stack.client("admin") as c:
        r = c.post(path, content=buf.getvalue(), headers={"content-type": "application/zip"})
        assert r.status_code == 422 and "appears twice" in r.json()["detail"], r.text
        assert c.get("/api/problems/twice").status_code == 404
