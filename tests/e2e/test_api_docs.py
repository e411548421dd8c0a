"""/docs in a real headless Chromium with every request outside the judge refused, as on a
network with no internet (issue 18: the page was blank, Swagger UI came from a CDN)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


def test_api_docs_render_with_nothing_from_outside(
    signed_in: Callable[[str, str], Any], artifacts: Path, offline: Callable[[Any], list[str]]
) -> None:
    page = signed_in("carol", "/")
    here = urlsplit(page.url).netloc
    outside = offline(page)
    page.goto(f"{page.url.split(here)[0]}{here}/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
    assert "Judge" in page.inner_text(".swagger-ui .info .title")
    # The operations are listed, not just the title: the schema loaded and parsed.
    page.wait_for_selector(".opblock-summary-path", timeout=30_000)
    paths = page.locator(".opblock-summary-path").all_inner_texts()
    assert any("/api/submissions" in p for p in paths), paths
    page.screenshot(path=str(artifacts / "api-docs.png"))
    assert outside == []
