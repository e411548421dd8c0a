"""The batch page in real headless Chromium: upload a zip, watch the progress bar move, no reload.

The screenshot lands in artifacts/batch.png (gitignored) for a human to look at.
"""

from __future__ import annotations

import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

stack_module = sys.modules["web_test_stack"]

# About half a second per submission (5 tests), so 16 of them take a few seconds on two workers.
SLOW_AB = "import time\ntime.sleep(0.1)\na, b = map(int, input().split())\nprint(a + b)\n"
WRONG = "print(0)\n"


def test_upload_a_zip_and_watch_the_progress_bar_move(
    signed_in: Callable[[str, str], Any], e2e_stack: Any, artifacts: Path, tmp_path: Path
) -> None:
    stack_module.ensure_admin(e2e_stack, "teacher")
    archive = tmp_path / "homework.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(16):
            zf.writestr(f"student{i:02}.py", WRONG if i % 5 == 4 else SLOW_AB)
        zf.writestr("notes.txt", "not a program")
    page = signed_in("teacher", "/admin/batches")
    page.select_option("select[name=problem]", "aplusb")
    page.set_input_files("input[name=archive]", str(archive))
    page.click("#batch-form button")
    page.wait_for_url("**/admin/batches/*")
    page.evaluate("window.__noReload = true")

    widths: list[float] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        w = page.evaluate("parseFloat(document.getElementById('progress-bar').style.width)")
        if not widths or w != widths[-1]:
            widths.append(w)
        if len(widths) == 3:
            page.screenshot(path=str(artifacts / "batch.png"), full_page=True)
        if w >= 100:
            break
        time.sleep(0.1)
    assert widths[-1] == 100, widths
    # It moved through several values on the way, in place (no reload).
    assert len([w for w in widths if 0 < w < 100]) >= 3, widths
    assert widths == sorted(widths), widths
    assert page.evaluate("window.__noReload") is True
    page.wait_for_function("document.getElementById('progress-text').textContent === '17 / 17'")
    assert page.inner_text("#batch-status") == "done"
    assert page.locator("#items tbody tr.row-AC").count() == 13
    assert page.locator("#items tbody tr.row-WA").count() == 3
    assert "unknown extension" in page.inner_text("#items")
    assert page.locator("#cancel-form").count() == 0
    time.sleep(0.5)
    page.screenshot(path=str(artifacts / "batch-done.png"), full_page=True)
    with page.expect_download() as dl:
        page.click("text=Download CSV")
    text = Path(dl.value.path()).read_text()
    assert text.startswith("name,verdict,score,time,memory,tests,error\n")
    assert "student04,WA," in text and "notes,,," in text
