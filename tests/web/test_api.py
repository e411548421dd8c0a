"""The JSON API against the real app, with a real Celery worker and redis-server behind it."""

from __future__ import annotations

import io
import json
import sys
import time
import zipfile
from typing import Any

import pytest

# Loaded by this directory's conftest (by file path: test directories are not packages).
stack_module = sys.modules["web_test_stack"]

AB_PY = "a, b = map(int, input().split())\nprint(a + b)\n"
AB_WRONG = "a, b = map(int, input().split())\nprint(a - b)\n"
AB_C = '#include <stdio.h>\nint main(void){long a,b;scanf("%ld %ld",&a,&b);printf("%ld\\n",a+b);}\n'


def test_submit_then_poll_until_accepted(stack: Any) -> None:
    with stack.client("alice") as c:
        r = c.post("/api/submissions", json={"problem": "aplusb", "language": "python3",
                                             "source": AB_PY})  # fmt: skip
        assert r.status_code == 202, r.text
        assert r.json()["status"] == "queued"
        body = stack_module.wait_done(c, r.json()["id"])
    assert body["status"] == "done" and body["verdict"] == "AC", body
    assert body["score"] == body["max_score"] == 5
    assert [t["index"] for t in body["tests"]] == [1, 2, 3, 4, 5]
    for t in body["tests"]:
        assert t["verdict"] == "AC" and t["cpu_time"] >= 0 and t["memory"] > 0
        assert set(t) >= {"wall_time", "oom_killed", "exit_code", "signal", "message"}


def test_wait_true_answers_when_graded(stack: Any) -> None:
    with stack.client("alice") as c:
        r = c.post("/api/submissions?wait=true",
                   json={"problem": "aplusb", "language": "c", "source": AB_C})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["verdict"] == "AC"


def test_wrong_answer_and_compile_error(stack: Any) -> None:
    with stack.client("alice") as c:
        wa = c.post(
            "/api/submissions?wait=true",
            json={"problem": "aplusb", "language": "python3", "source": AB_WRONG},
        ).json()
        ce = c.post(
            "/api/submissions?wait=true",
            json={"problem": "aplusb", "language": "c", "source": "int main( {"},
        ).json()
    assert wa["verdict"] == "WA" and wa["tests"][0]["verdict"] == "WA"
    assert ce["verdict"] == "CE" and "error" in ce["compile_output"]


def test_many_waiting_clients_do_not_block_the_server(stack: Any) -> None:
    """Twenty waits at once, more than the thread pool would allow if each held a thread."""
    import concurrent.futures

    def one(i: int) -> int:
        with stack.client("bob") as c:
            r = c.post(
                "/api/submissions?wait=true",
                json={"problem": "aplusb", "language": "python3", "source": AB_PY},
            )
            return r.status_code

    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        futures = [pool.submit(one, i) for i in range(20)]
        # While they wait, the server still answers at once.
        time.sleep(0.5)
        with stack.client() as c:
            t0 = time.monotonic()
            assert c.get("/api/problems").status_code == 200
            assert time.monotonic() - t0 < 2
        assert [f.result() for f in futures] == [200] * 20


def test_users_see_only_their_own_submissions(stack: Any) -> None:
    with stack.client("alice") as alice, stack.client("bob") as bob, stack.client("admin") as adm:
        sid = alice.post("/api/submissions", json={"problem": "aplusb", "language": "python3",
                                                   "source": AB_PY}).json()["id"]  # fmt: skip
        assert alice.get(f"/api/submissions/{sid}").json()["source"] == AB_PY
        r = bob.get(f"/api/submissions/{sid}")
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        assert sid not in [s["id"] for s in bob.get("/api/submissions").json()]
        assert adm.get(f"/api/submissions/{sid}").json()["source"] == AB_PY
    with stack.client() as anon:
        assert anon.get(f"/api/submissions/{sid}").status_code == 401


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"problem": "nope", "language": "python3", "source": "x"}, 404),
        ({"problem": "aplusb", "language": "cobol", "source": "x"}, 422),
        ({"problem": "aplusb", "language": "python3"}, 422),
        ({"problem": "aplusb", "language": "python3", "source": "x" * (300 << 10)}, 413),
    ],
)
def test_bad_submissions(stack: Any, body: dict[str, str], status: int) -> None:
    with stack.client("alice") as c:
        r = c.post("/api/submissions", json=body)
    assert r.status_code == status, r.text
    assert set(r.json()) == {"error", "detail"}


def test_malformed_json_is_400(stack: Any) -> None:
    with stack.client("alice") as c:
        r = c.post(
            "/api/submissions",
            content=b'{"problem": ',
            headers={"content-type": "application/json"},
        )
    assert r.status_code == 400 and r.json()["error"] == "bad_request"


def test_bad_tokens_are_401(stack: Any) -> None:
    with stack.client() as c:
        for header in ("Bearer nope", "Basic abc", "Bearer"):
            r = c.post(
                "/api/submissions",
                headers={"Authorization": header},
                json={"problem": "aplusb", "language": "python3", "source": AB_PY},
            )
            assert r.status_code == 401, header


def test_problems_listing_and_detail(stack: Any) -> None:
    with stack.client() as c:
        slugs = [p["slug"] for p in c.get("/api/problems").json()]
        assert {"aplusb", "circle", "maxsub"} <= set(slugs)
        p = c.get("/api/problems/circle").json()
        assert p["checker_type"] == "float" and p["tests_detail"] is None
        r = c.get("/api/problems/missing")
        assert r.status_code == 404 and r.json() == {
            "error": "not_found",
            "detail": "no problem 'missing'",
        }
    with stack.client("admin") as c:
        assert c.get("/api/problems/circle").json()["tests_detail"][0]["input"] == "1\n"


def _zip(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return buf.getvalue()


def test_create_problem_json_and_zip(stack: Any) -> None:
    problem = {
        "slug": "double",
        "title": "Double",
        "statement": "Print 2n.",
        "tests": [{"input": "2\n", "output": "4\n"}, {"input": "5\n", "output": "10\n"}],
    }
    with stack.client("alice") as c:
        assert c.post("/api/problems", json=problem).status_code == 403
    with stack.client("admin") as c:
        r = c.post("/api/problems", json=problem)
        assert r.status_code == 201, r.text
        assert r.json()["tests"] == 2
        archive = _zip(
            {
                "problem.json": json.dumps({"slug": "triple", "title": "Triple"}),
                "tests/1.in": "2\n",
                "tests/1.out": "6\n",
            }
        )
        r = c.post("/api/problems", content=archive, headers={"content-type": "application/zip"})
        assert r.status_code == 201, r.text
        sub = c.post(
            "/api/submissions?wait=true",
            json={"problem": "triple", "language": "python3", "source": "print(3*int(input()))"},
        )
        assert sub.json()["verdict"] == "AC"
        # Malformed: not a zip, not JSON (400); well-formed but invalid (422).
        r = c.post(
            "/api/problems",
            content=b"PK\x03\x04garbage",
            headers={"content-type": "application/zip"},
        )
        assert r.status_code == 400, r.text
        r = c.post("/api/problems", content=b"{", headers={"content-type": "application/json"})
        assert r.status_code == 400
        r = c.post("/api/problems", json={"slug": "Bad Slug!", "tests": []})
        assert r.status_code == 422 and "slug" in r.json()["detail"]
        r = c.post(
            "/api/problems",
            content=_zip({"readme": "x"}),
            headers={"content-type": "application/zip"},
        )
        assert r.status_code == 422


def test_rejudge(stack: Any) -> None:
    with stack.client("alice") as c:
        sid = c.post(
            "/api/submissions?wait=true",
            json={
                "problem": "circle",
                "language": "python3",
                "source": "import math; r=float(input()); print(math.pi*r*r)",
            },
        ).json()["id"]
    with stack.client("alice") as c:
        assert c.post("/api/problems/circle/rejudge").status_code == 403
    with stack.client("admin") as c:
        r = c.post("/api/problems/circle/rejudge")
        assert r.status_code == 200 and sid in r.json()["requeued"]
        assert c.post("/api/problems/nope/rejudge").status_code == 404
        assert stack_module.wait_done(c, sid)["verdict"] == "AC"


def test_runs(stack: Any) -> None:
    with stack.client("alice") as c:
        r = c.post("/api/runs", json={"language": "python3", "source": "print(input()[::-1])",
                                      "stdin": "hello\n"})  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json()["verdict"] == "OK" and r.json()["stdout"] == "olleh\n"
        r = c.post("/api/runs", json={"language": "c", "source": "int main( {"})
        assert r.json()["status"] == "compile_error" and r.json()["compile_output"]
        r = c.post("/api/runs", json={"language": "python3", "source": "x",
                                      "limits": {"cpu_time": 1000}})  # fmt: skip
        assert r.status_code == 422 and "cpu_time" in r.json()["detail"]
        r = c.post(
            "/api/runs", json={"language": "python3", "source": "x", "limits": {"memory": "64G"}}
        )
        assert r.status_code == 422
        r = c.post(
            "/api/runs", json={"language": "python3", "source": "x", "limits": {"memory": "lots"}}
        )
        assert r.status_code == 422


def test_languages_health_metrics_docs(stack: Any) -> None:
    with stack.client() as c:
        ids = [lang["id"] for lang in c.get("/api/languages").json()]
        assert {"c", "python3"} <= set(ids)
        health = c.get("/health").json()
        assert health == {"status": "ok", "database": "ok", "broker": "ok", "workers": 1}, health
        assert c.get("/metrics").status_code == 401  # admins only by default (JUDGE_METRICS)
        with stack.client("alice") as alice:
            assert alice.get("/metrics").status_code == 403
        with stack.client("admin") as admin:
            m = admin.get("/metrics")
        assert m.status_code == 200 and 'judge_queue_depth{queue="interactive"}' in m.text
        assert "judge_workers 1\n" in m.text and "judge_broker_up 1\n" in m.text
        assert c.get("/docs").status_code == 200
        schema = c.get("/openapi.json").json()
        assert "/api/submissions" in schema["paths"]
        assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_rate_limit_and_full_queue(stack: Any) -> None:
    url = stack.start_web(JUDGE_RATE_LIMIT="3", JUDGE_RATE_WINDOW="60")
    with stack.client("bob", url=url) as c:
        body = {"problem": "aplusb", "language": "python3", "source": AB_PY}
        codes = [c.post("/api/submissions", json=body).status_code for _ in range(4)]
        assert codes == [202, 202, 202, 429]
        r = c.post("/api/submissions", json=body)
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    # A queue with no room: room for one, and one row already waiting (no message sent for it,
    # so no worker takes it while this test runs).
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    import store

    engine = create_engine(stack.db_url)
    with Session(engine) as s:
        problem = s.query(store.Problem).filter_by(slug="aplusb").one()
        parked = store.Submission(problem=problem, language="python3", source=AB_PY)
        s.add(parked)
        s.commit()
        try:
            url = stack.start_web(JUDGE_MAX_QUEUED="1")
            with stack.client("alice", url=url) as c:
                r = c.post("/api/submissions", json=body)
                assert r.status_code == 503 and r.headers["retry-after"] == "10"
                assert r.json()["error"] == "unavailable"
        finally:
            s.delete(parked)
            s.commit()
    engine.dispose()


def test_oversized_body_is_413(stack: Any) -> None:
    url = stack.start_web(JUDGE_MAX_BODY_BYTES="2048")
    with stack.client("admin", url=url) as c:
        r = c.post(
            "/api/problems", content=b"x" * 5000, headers={"content-type": "application/json"}
        )
        assert r.status_code == 413 and r.json()["error"] == "too_large"

        def chunks() -> Any:
            for _ in range(10):
                yield b"y" * 1000

        r = c.post("/api/problems", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413


def test_multi_file_submission_picks_its_entry_point(stack: Any) -> None:
    files = {
        "solve.py": "from arith import add\nif __name__ == '__main__':\n"
                    "    print(add(*map(int, input().split())))\n",
        "arith.py": "def add(a, b):\n    return a + b\n",
    }  # fmt: skip
    with stack.client("alice") as c:
        ok = c.post("/api/submissions?wait=true",
                    json={"problem": "aplusb", "language": "python3", "files": files})  # fmt: skip
        bad = c.post("/api/submissions", json={"problem": "aplusb", "language": "python3",
                                                "source": "x", "files": {"../x.py": "y"}})  # fmt: skip
    assert ok.status_code == 200 and ok.json()["verdict"] == "AC", ok.text
    assert bad.status_code == 422 and "plain file name" in bad.json()["detail"], bad.text
