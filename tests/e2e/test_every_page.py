"""Every main page in real headless Chromium, at a desktop width and at a phone's 390 px
(issue 18): nothing requested from outside the judge, no script error, the page itself never
wider than the screen (wide tables scroll inside their card); and a refused form that keeps
its input, with the custom-input run and a sample's copy button working.

Screenshots land in artifacts/ (gitignored) for a human to look at.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from tests.e2e.conftest import stack_module

AB = "a, b = map(int, input().split())\nprint(a + b)\n"
PAGES = ("/", "/problems/aplusb", "/sets", "/submissions", "/status", "/admin", "/admin/users",
         "/admin/users/carol", "/admin/problems/aplusb/edit", "/admin/problems/new",
         "/admin/batches", "/admin/tokens", "/login")  # fmt: skip


# Every visible control has a name a screen reader can say: a <label>, aria-label or the
# button's own text (a placeholder is not a label: it disappears as one types).
UNLABELLED = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !e.getAttribute('aria-labelledby')
               && !((e.tagName === 'BUTTON') && e.textContent.trim()))
  .map(e => e.outerHTML.slice(0, 80))"""


def test_every_page_offline_and_at_390_px(
    e2e_stack: Any, signed_in: Callable[[str, str], Any], artifacts: Path,
    offline: Callable[[Any], list[str]],
) -> None:  # fmt: skip
    stack_module.ensure_admin(e2e_stack, "tess")
    with e2e_stack.client("admin") as api:
        sid = api.post("/api/submissions", json={"problem": "aplusb", "language": "python3",
                                                 "source": AB}).json()["id"]  # fmt: skip
    page = signed_in("tess", "/")
    base = f"{urlsplit(page.url).scheme}://{urlsplit(page.url).netloc}"
    outside = offline(page)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    for path in (*PAGES, f"/submissions/{sid}"):
        for width in (1280, 390):
            page.set_viewport_size({"width": width, "height": 900})
            response = page.goto(base + path)
            assert response is not None and response.status == 200, (path, response)
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{path} at {width} px is {overflow} px wider than the screen"
            unlabelled = page.evaluate(UNLABELLED)
            assert unlabelled == [], f"{path}: controls without a label: {unlabelled}"
            name = path.strip("/").replace("/", "-") or "home"
            page.screenshot(path=str(artifacts / f"page-{name}-{width}.png"), full_page=True)
    assert outside == [], outside
    assert errors == [], errors


def test_a_refused_form_keeps_its_input_in_the_browser(
    e2e_stack: Any, signed_in: Callable[[str, str], Any], artifacts: Path
) -> None:
    stack_module.ensure_admin(e2e_stack, "tess")
    page = signed_in("tess", "/admin/problems/new")
    page.fill("input[name=slug]", "no-tests-yet")
    page.fill("input[name=title]", "No Tests Yet")
    page.fill("#statement", "Typed with care: $a \\le b$.")
    page.click("#problem-form button[type=submit]")
    page.wait_for_selector("#form-error")
    assert "a new problem needs tests" in page.inner_text("#form-error")
    assert page.input_value("input[name=title]") == "No Tests Yet"
    assert page.input_value("#statement") == "Typed with care: $a \\le b$."
    # The preview draws the math the problem page will draw.
    page.click("#preview-button")
    page.wait_for_selector("#preview math")
    page.screenshot(path=str(artifacts / "form-error.png"), full_page=True)


def test_custom_input_run_and_copying_a_sample(
    e2e_stack: Any, signed_in: Callable[[str, str], Any], artifacts: Path
) -> None:
    with e2e_stack.client("admin") as api:
        r = api.post("/api/problems", json={
            "slug": "echo-len", "title": "Echo Length", "statement": "Print the length.",
            "tests": [{"input": "abc\n", "output": "3\n", "sample": True},
                      {"input": "ab\n", "output": "2\n"}]})  # fmt: skip
        assert r.status_code in (200, 201), r.text
    page = signed_in("carol", "/problems/echo-len")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click("#samples .copy >> nth=0")
    page.wait_for_function("document.querySelector('#samples .copy').textContent === 'Copied'")
    assert page.evaluate("navigator.clipboard.readText()") == "abc\n"
    page.select_option("#language", "python3")
    page.fill("#source", "print(len(input()) * 10)\n")
    page.click("#custom-run summary")
    assert page.input_value("#run-input") == "abc\n"  # the first sample, ready to run
    page.click("#run-button")
    page.wait_for_selector("#run-result .verdict-line", timeout=60_000)
    assert page.inner_text("#run-result .verdict-line").startswith("OK")
    assert "30" in page.inner_text("#run-result")
    page.screenshot(path=str(artifacts / "custom-run.png"), full_page=True)
    # The run was a run, not a submission: nothing new on the student's list.
    with httpx.Client(base_url=e2e_stack.url) as c:
        assert c.get("/problems/echo-len").status_code == 200


def test_interaction_samples_as_a_dialogue_and_numbered_code(
    e2e_stack: Any, signed_in: Callable[[str, str], Any], artifacts: Path
) -> None:
    statement = ("Guess the number.\n\n## Sample Interaction 1\n\n```\n< 1 100\n> 50\n< lower\n"
                 "> 25\n< correct\n```\n")  # fmt: skip
    with e2e_stack.client("admin") as api:
        r = api.post("/api/problems", json={
            "slug": "talk-sample", "title": "Talk", "statement": statement,
            "tests": [{"input": "1\n", "output": "1\n"}]})  # fmt: skip
        assert r.status_code in (200, 201), r.text
    page = signed_in("carol", "/problems/talk-sample")
    page.wait_for_selector("ol.dialogue")
    said = page.eval_on_selector_all(
        "ol.dialogue li", "ls => ls.map(l => [l.className, l.querySelector('code').textContent])")
    assert said == [["reads", "1 100"], ["writes", "50"], ["reads", "lower"], ["writes", "25"],
                    ["reads", "correct"]]  # fmt: skip
    page.fill("#source", "a = 1\nb = 2\nprint(a + b)\n")
    page.dispatch_event("#source", "input")
    assert page.inner_text(".code-frame .gutter").split() == ["1", "2", "3", "4"]
    # Tab in the code box writes four spaces instead of leaving it.
    page.focus("#source")
    page.keyboard.press("End")
    page.keyboard.press("Tab")
    assert "    " in page.input_value("#source")
    page.screenshot(path=str(artifacts / "dialogue-and-code.png"), full_page=True)
