"""Batches over the API, the admin pages and ``judge batch``, against a real worker (issue 4).

(Not test_batches.py: tests/worker has one, and test dirs are not packages.)"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

# Loaded by this directory's conftest (by file path: test directories are not packages).
stack_module = sys.modules["web_test_stack"]

AB_PY = "a, b = map(int, input().split())\nprint(a + b)\n"
AB_WRONG = "a, b = map(int, input().split())\nprint(a - b)\n"
AB_RE = "a, b = map(int, input().split())\nraise SystemExit(a + b)\n"
AB_TLE = "while True:\n    pass\n"
AB_C = '#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);}\n'
AB_CE = "int main( {\n"
AB_SH = "read a b\necho $((a + b))\n"
SAMPLE_TESTS = 5  # web/samples/aplusb


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def wait_batch(c: httpx.Client, batch_id: int, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = c.get(f"/api/batches/{batch_id}").json()
        if body["done"] >= body["total"]:
            return body
        if time.monotonic() > deadline:
            raise TimeoutError(f"batch {batch_id} not done after {timeout} s: {body}")
        time.sleep(0.2)


def homework() -> tuple[dict[str, bytes], dict[str, str]]:
    """50 files in a folder, the way a zip tool packs one: 48 gradable, 2 broken."""
    plan = (
        [("py", AB_PY, "AC")] * 20 + [("py", AB_WRONG, "WA")] * 8 + [("c", AB_C, "AC")] * 6
        + [("c", AB_CE, "CE")] * 4 + [("py", AB_RE, "RE")] * 5 + [("py", AB_TLE, "TLE")] * 2
        + [("sh", AB_SH, "AC")] * 3
    )  # fmt: skip
    files: dict[str, bytes] = {"hw/": b"", "__MACOSX/hw/._s00.py": b"junk", "hw/.DS_Store": b""}
    expected: dict[str, str] = {}
    for i, (ext, source, verdict) in enumerate(plan):
        files[f"hw/s{i:02}.{ext}"] = source.encode()
        expected[f"s{i:02}"] = verdict
    files["hw/mallory.xyz"] = b"print(3)\n"  # unknown extension
    files["hw/oscar.py"] = "print('café')\n".encode("latin-1")  # not UTF-8
    expected["mallory"] = expected["oscar"] = ""
    assert len(expected) == 50
    return files, expected


def test_zip_of_50_with_mixed_verdicts_and_two_broken_files(stack: Any) -> None:
    files, expected = homework()
    with stack.client("admin") as c:
        r = c.post("/api/batches", data={"problem": "aplusb"},
                   files={"archive": ("hw.zip", _zip(files), "application/zip")})  # fmt: skip
        assert r.status_code == 201, r.text
        created = r.json()
        assert created["total"] == 50 and created["kind"] == "upload" and created["errors"] == 2
        assert created["status"] in ("queued", "running")
        body = wait_batch(c, created["id"])
        assert body["status"] == "done" and body["done"] == 50
        want_counts: dict[str, int] = {}
        for v in expected.values():
            if v:
                want_counts[v] = want_counts.get(v, 0) + 1
        assert body["counts"] == want_counts
        items = {i["name"]: i for i in body["items"]}
        assert items["mallory"]["status"] == "error" and items["mallory"]["submission_id"] is None
        assert "unknown extension" in items["mallory"]["error"]
        assert "UTF-8" in items["oscar"]["error"]
        assert items["s00"]["status"] == "done" and items["s00"]["score"] == SAMPLE_TESTS

        r = c.get(f"/api/batches/{created['id']}/results.csv")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
        assert f'filename="batch-{created["id"]}.csv"' in r.headers["content-disposition"]
        lines = r.text.splitlines()
        assert lines[0] == "name,verdict,score,time,memory,tests,error"
        rows = list(csv.DictReader(io.StringIO(r.text)))
        assert {row["name"]: row["verdict"] for row in rows} == expected
        by_name = {row["name"]: row for row in rows}
        assert by_name["s00"]["tests"] == " ".join(["AC"] * SAMPLE_TESTS)
        assert by_name["s20"]["tests"] == "WA" + " SK" * (SAMPLE_TESTS - 1)
        assert by_name["s34"]["tests"] == "" and by_name["s34"]["score"] == "0"  # CE: no test ran
        assert float(by_name["s00"]["time"]) >= 0 and int(by_name["s00"]["memory"]) > 0
        assert (
            by_name["mallory"]["tests"] == "" and "unknown extension" in by_name["mallory"]["error"]
        )

        results = c.get(f"/api/batches/{created['id']}/results.json").json()
        assert [row["name"] for row in results] == [row["name"] for row in rows]
        first = next(row for row in results if row["name"] == "s00")
        assert first["tests"] == ["AC"] * SAMPLE_TESTS and first["language"] == "python3"
        # The submissions are ordinary submissions of the admin, on the batch queue.
        sub = c.get(f"/api/submissions/{items['s21']['submission_id']}").json()
        assert sub["verdict"] == "WA" and sub["user"] == "root"
        listed = c.get("/api/batches").json()
        assert {"id": created["id"], "problem": "aplusb", "kind": "upload", "status": "done",
                "total": 50, "done": 50}.items() <= listed[0].items()  # fmt: skip


def test_json_batches_and_bad_requests(stack: Any) -> None:
    body = {"problem": "aplusb", "language": "python3", "submissions": [
        {"name": "ann", "source": AB_PY},
        {"name": "ben", "language": "c", "source": AB_C},
        {"name": "cid", "language": "cobol", "source": "x"},
        {"name": "=HYPERLINK(1)", "source": AB_PY},
    ]}  # fmt: skip
    with stack.client("admin") as c:
        r = c.post("/api/batches", json=body)
        assert r.status_code == 201, r.text
        done = wait_batch(c, r.json()["id"])
        got = {i["name"]: (i["verdict"], i["error"] is not None) for i in done["items"]}
        assert got == {"ann": ("AC", False), "ben": ("AC", False), "cid": (None, True),
                       "=HYPERLINK(1)": ("AC", False)}  # fmt: skip
        # A name is data in the CSV, never a formula for the spreadsheet that opens it.
        text = c.get(f"/api/batches/{done['id']}/results.csv").text
        assert "\n'=HYPERLINK(1),AC," in text

        assert c.post("/api/batches", json={**body, "problem": "nope"}).status_code == 404
        r = c.post("/api/batches", json={**body, "language": "cobol"})
        assert r.status_code == 422 and "cobol" in r.text
        assert c.post("/api/batches", json={**body, "submissions": []}).status_code == 422
        assert c.post("/api/batches", json={"problem": "aplusb"}).status_code == 422
        r = c.post(
            "/api/batches", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert r.status_code == 400
        r = c.post("/api/batches", data={"problem": "aplusb"},
                   files={"archive": ("hw.zip", b"PK\x03\x04 this is not a zip", "application/zip")})  # fmt: skip
        assert r.status_code == 400 and r.json()["error"] == "bad_request"
        r = c.post("/api/batches", data={"problem": "aplusb"},
                   files={"archive": ("hw.zip", _zip({"hw/": b""}), "application/zip")})  # fmt: skip
        assert r.status_code == 422
        r = c.post("/api/batches", data={"problem": "aplusb", "language": "python3"},
                   files={"archive": ("hw.zip", _zip({"ann.txt": AB_PY.encode()}), "application/zip")})  # fmt: skip
        assert r.status_code == 201 and r.json()["items"][0]["language"] == "python3"
        for path in ("/api/batches/999999", "/api/batches/999999/results.csv"):
            assert c.get(path).status_code == 404
        assert c.post("/api/batches/999999/cancel").status_code == 404
    with stack.client("alice") as c:
        assert c.post("/api/batches", json=body).status_code == 403
        assert c.get("/api/batches").status_code == 403
    with stack.client() as c:
        assert c.post("/api/batches", json=body).status_code == 401


def test_cancel_over_the_api(stack: Any) -> None:
    subs = [{"name": f"n{i:02}", "source": AB_PY} for i in range(40)]
    with stack.client("admin") as c:
        r = c.post("/api/batches", json={"problem": "aplusb", "language": "python3",
                                         "submissions": subs})  # fmt: skip
        bid = r.json()["id"]
        r = c.post(f"/api/batches/{bid}/cancel")
        assert r.status_code == 200 and r.json()["status"] == "cancelled"
        body = wait_batch(c, bid)
        assert body["status"] == "cancelled" and body["cancelled_at"]
        assert body["counts"].get("SK", 0) >= 30, body["counts"]
        assert set(body["counts"]) <= {"AC", "SK"}
        skipped = [i for i in body["items"] if i["verdict"] == "SK"]
        assert all(i["status"] == "done" for i in skipped)
        csv_text = c.get(f"/api/batches/{bid}/results.csv").text
        assert csv_text.count(",SK,") == len(skipped)


def test_problem_rejudge_is_a_batch_with_the_previous_verdicts(stack: Any) -> None:
    with stack.client("bob") as c:
        sid = c.post("/api/submissions?wait=true", json={
            "problem": "maxsub", "language": "python3", "source": "print(0)"
        }).json()["id"]  # fmt: skip
        before = stack_module.wait_done(c, sid)["verdict"]
    with stack.client("admin") as c:
        r = c.post("/api/problems/maxsub/rejudge")
        assert r.status_code == 200, r.text
        bid = r.json()["batch"]
        assert sid in r.json()["requeued"] and isinstance(bid, int)
        body = wait_batch(c, bid)
        assert body["kind"] == "rejudge" and body["status"] == "done"
        item = next(i for i in body["items"] if i["submission_id"] == sid)
        assert item["name"] == f"bob#{sid}"
        assert item["previous_verdict"] == before and item["verdict"] == before
    with stack.client("bob") as c:
        sub = c.get(f"/api/submissions/{sid}").json()
        (old,) = sub["history"]
        assert old["verdict"] == before and old["batch"] == bid and old["tests"]
        assert old["graded_at"] and old["replaced_at"] >= old["graded_at"]
    with _admin_browser(stack) as c:
        page = c.get(f"/submissions/{sid}").text
        assert "Earlier gradings" in page and f'href="/admin/batches/{bid}"' in page


@contextlib.contextmanager
def _admin_browser(stack: Any) -> Iterator[httpx.Client]:
    stack_module.ensure_admin(stack, "teacher")
    with httpx.Client(base_url=stack.url, timeout=60, headers={"Accept": "text/html"}) as c:
        page = c.get("/login").text
        r = c.post("/login", data={"csrf": _csrf(page), "name": "teacher",
                                   "password": stack_module.PASSWORD, "next": "/"})  # fmt: skip
        assert r.status_code == 303, r.text
        yield c


def _csrf(html: str) -> str:
    import re

    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def test_admin_pages_upload_progress_results_cancel(stack: Any) -> None:
    files = {f"{n}.py": AB_PY.encode() for n in ("ann", "ben", "cat")}
    files["<img src=x onerror=alert(1)>.py"] = AB_WRONG.encode()
    with _admin_browser(stack) as c:
        page = c.get("/admin/batches").text
        assert 'enctype="multipart/form-data"' in page and 'name="archive"' in page
        r = c.post("/admin/batches", data={"csrf": _csrf(page), "problem": "aplusb", "language": ""},
                   files={"archive": ("hw.zip", _zip(files), "application/zip")})  # fmt: skip
        assert r.status_code == 303, r.text
        url = r.headers["location"]
        bid = int(url.rsplit("/", 1)[1])
        page = c.get(url).text
        assert 'id="progress-bar"' in page and "/static/batch.js" in page
        assert f"/api/batches/{bid}/results.csv" in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page and "<img src" not in page
        # The page's script polls the JSON API with the browser's cookie.
        body = wait_batch(c, bid)
        assert body["counts"] == {"AC": 3, "WA": 1}
        page = c.get(url).text
        assert 'style="width: 100.0%"' in page and 'data-finished="true"' in page
        assert "Cancel</button>" not in page
        assert "4 / 4" in page and "results.csv" in page
        r = c.get(f"/api/batches/{bid}/results.csv")
        assert r.status_code == 200 and "<img src=x onerror=alert(1)>,WA" in r.text
        assert c.get("/static/batch.js").status_code == 200
        listing = c.get("/admin/batches").text
        assert f'href="/admin/batches/{bid}"' in listing

        # A forged form is refused; cancel through the page.
        r = c.post(f"/admin/batches/{bid}/cancel", data={"csrf": "forged"})
        assert r.status_code == 403
        many = {f"m{i:02}.py": AB_PY.encode() for i in range(30)}
        page = c.get("/admin/batches").text
        r = c.post("/admin/batches", data={"csrf": _csrf(page), "problem": "aplusb"},
                   files={"archive": ("hw.zip", _zip(many), "application/zip")})  # fmt: skip
        url = r.headers["location"]
        page = c.get(url).text
        assert "Cancel</button>" in page
        r = c.post(f"{url}/cancel", data={"csrf": _csrf(page)})
        assert r.status_code == 303
        assert ">cancelled<" in c.get(url).text
        # Rejudge all from the queue page lands on the rejudge batch.
        page = c.get("/admin").text
        r = c.post("/admin/problems/circle/rejudge", data={"csrf": _csrf(page)})
        assert r.status_code == 303
        assert r.headers["location"].startswith(("/admin/batches/", "/admin"))
    with stack.client("alice") as c:
        r = c.get(f"/admin/batches/{bid}", headers={"Accept": "text/html"})
        assert r.status_code == 403


def _judge(
    stack: Any, *args: str, cwd: Path, token: str | None
) -> subprocess.CompletedProcess[str]:
    env = {**stack.env, "JUDGE_URL": stack.url}
    env.pop("JUDGE_TOKEN", None)
    if token:
        env["JUDGE_TOKEN"] = token
    return subprocess.run(
        [sys.executable, "-m", "web.cli", "batch", *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=180,
    )  # fmt: skip


def test_cli_batch_submit_and_status(stack: Any, tmp_path: Path) -> None:
    hw = tmp_path / "hw"
    hw.mkdir()
    for i in range(6):
        (hw / f"st{i}.py").write_text(AB_PY if i % 3 else AB_WRONG)
    (hw / "zed.c").write_text(AB_C)
    (hw / "odd.xyz").write_text("begin end.")  # no language has .xyz
    work = tmp_path / "out"
    work.mkdir()
    token = stack.tokens["admin"]

    r = _judge(stack, "submit", str(hw), "--problem", "aplusb", cwd=work, token=token)
    assert r.returncode == 0, r.stderr + r.stdout
    out = r.stdout.splitlines()
    assert out[0].startswith("batch ") and "7 of 8 files queued for aplusb" in out[0]
    assert any("not graded: odd: odd.xyz: unknown extension" in line for line in out)
    bars = [line for line in out if line.startswith("[")]
    assert bars and "\r" not in r.stdout  # plain lines without a terminal
    assert bars[-1].startswith("[" + "#" * 30 + "] 8/8") and "AC 5" in bars[-1]
    assert "WA 2" in bars[-1] and "not graded 1" in bars[-1]
    assert out[-1].endswith("results in results.csv")
    rows = list(csv.DictReader((work / "results.csv").open()))
    assert {row["name"]: row["verdict"] for row in rows} == {
        "odd": "", "st0": "WA", "st1": "AC", "st2": "AC", "st3": "WA", "st4": "AC", "st5": "AC",
        "zed": "AC",
    }  # fmt: skip
    bid = out[0].split()[1].rstrip(":")

    r = _judge(stack, "status", bid, "--csv", "again.csv", cwd=work, token=token)
    assert r.returncode == 0, r.stderr
    assert f"batch {bid} (upload of aplusb): done, 8/8 done" in r.stdout
    assert (work / "again.csv").read_text() == (work / "results.csv").read_text()

    r = _judge(stack, "submit", str(hw), "--problem", "aplusb", "--language", "python3",
               "--no-wait", cwd=work, token=token)  # fmt: skip
    assert r.returncode == 0 and "8 of 8 files queued" in r.stdout, r.stdout + r.stderr
    bid2 = r.stdout.split()[1].rstrip(":")
    r = _judge(stack, "cancel", bid2, cwd=work, token=token)
    assert r.returncode == 0 and "cancelled" in r.stdout
    r = _judge(stack, "status", bid2, "--wait", cwd=work, token=token)
    assert r.returncode == 0 and "8/8" in r.stdout

    # On a terminal the bar redraws in place.
    import pty

    primary, secondary = pty.openpty()
    env = {**stack.env, "JUDGE_URL": stack.url, "JUDGE_TOKEN": token}
    proc = subprocess.run([sys.executable, "-m", "web.cli", "batch", "status", bid, "--wait"],
                          env=env, cwd=work, stdout=secondary, stderr=subprocess.PIPE,
                          timeout=60)  # fmt: skip
    os.close(secondary)
    shown = os.read(primary, 65536).decode()
    os.close(primary)
    assert proc.returncode == 0 and "\r[" + "#" * 30 + "] 8/8" in shown, shown

    # Mistakes are one line on stderr and exit status 2.
    r = _judge(stack, "submit", str(hw), "--problem", "aplusb", cwd=work, token=None)
    assert r.returncode == 2 and "admin token" in r.stderr and "Traceback" not in r.stderr
    r = _judge(stack, "submit", str(hw), "--problem", "nope", cwd=work, token=token)
    assert r.returncode == 2 and "404" in r.stderr and "Traceback" not in r.stderr
    r = _judge(stack, "submit", str(hw), "--problem", "aplusb", cwd=work,
               token=stack.tokens["alice"])  # fmt: skip
    assert r.returncode == 2 and "403" in r.stderr
    r = _judge(stack, "status", "999999", cwd=work, token=token)
    assert r.returncode == 2 and "404" in r.stderr


@pytest.mark.parametrize("size", [0, 1])
def test_oversized_file_is_an_item_error(stack: Any, size: int) -> None:
    # A file one byte over the source limit is refused alone; the limit itself passes.
    limit = 256 << 10
    source = "#" * (limit - len(AB_PY) + size) + "\n" + AB_PY
    source = source[: limit + size]
    with stack.client("admin") as c:
        r = c.post("/api/batches", data={"problem": "aplusb", "language": "python3"},
                   files={"archive": ("hw.zip", _zip({"big.py": source.encode(),
                                                      "ok.py": AB_PY.encode()}),
                                      "application/zip")})  # fmt: skip
        assert r.status_code == 201, r.text
        items = {i["name"]: i for i in r.json()["items"]}
        assert items["ok"]["error"] is None
        assert (items["big"]["error"] is not None) == bool(size)
        if size:
            assert "larger than" in items["big"]["error"]
        c.post(f"/api/batches/{r.json()['id']}/cancel")


def test_a_batch_item_named_after_an_account_lands_on_that_student(stack: Any) -> None:
    """With as_accounts, "carol.py" is carol's submission (her page and scores); a name with
    no account stays the uploader's; without the flag nothing lands on anyone."""
    files = {"hw/carol.py": AB_PY.encode(), "hw/nobody-has-this.py": AB_PY.encode()}
    with stack.client("admin") as c:
        r = c.post("/api/batches", data={"problem": "aplusb", "as_accounts": "true"},
                   files={"archive": ("hw.zip", _zip(files), "application/zip")})  # fmt: skip
        assert r.status_code == 201, r.text
        done = wait_batch(c, r.json()["id"])
        owners = {i["name"]: c.get(f"/api/submissions/{i['submission_id']}").json()["user"]
                  for i in done["items"]}  # fmt: skip
        assert owners == {"carol": "carol", "nobody-has-this": "root"}
        r = c.post("/api/batches", json={"problem": "aplusb", "language": "python3",
                                         "submissions": [{"name": "carol", "source": AB_PY}]})  # fmt: skip
        done = wait_batch(c, r.json()["id"])
        sid = done["items"][0]["submission_id"]
        assert c.get(f"/api/submissions/{sid}").json()["user"] == "root"
