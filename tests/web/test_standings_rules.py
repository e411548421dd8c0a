"""Standings rules as pure functions: IOI, ICPC penalty, ties, freeze, late, pending."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from store.problem_sets import Attempt
from web.standings import Rules, Standings, compute, gradebook_csv

T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
END = T0 + timedelta(hours=2)
USERS = [(1, "ann"), (2, "ben"), (3, "cid")]


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def a(user: int, problem: int, minutes: float, verdict: str | None, score: float | None = None,
      finished: bool = True) -> Attempt:  # fmt: skip
    return Attempt(user, problem, at(minutes), finished, verdict, score)


def icpc(attempts: list[Attempt], *, freeze: int = 0, now: datetime = END,
         admin: bool = True) -> Standings:  # fmt: skip
    rules = Rules("icpc", T0, END, freeze)
    return compute(rules, [10, 20], USERS, attempts, now=now, see_through_freeze=admin)


def test_ioi_sums_each_users_best_score_per_problem() -> None:
    rules = Rules("ioi", T0, END)
    s = compute(rules, [10, 20], USERS, [
        a(1, 10, 5, "WA", 30), a(1, 10, 9, "WA", 60), a(1, 10, 12, "WA", 40),  # best 60
        a(1, 20, 20, "AC", 100),
        a(2, 10, 3, "AC", 100), a(2, 20, 4, "CE", None),
    ], now=END, see_through_freeze=False)  # fmt: skip
    by = {r.name: r for r in s.rows}
    assert by["ann"].total == 160 and [c.score for c in by["ann"].cells] == [60, 100]
    assert by["ben"].total == 100 and by["ben"].cells[1].score == 0  # tried: 0, not blank
    assert by["cid"].total == 0 and by["cid"].cells[0].score is None  # never tried
    assert [(r.rank, r.name) for r in s.rows] == [(1, "ann"), (2, "ben"), (3, "cid")]


def test_icpc_penalty_is_minutes_to_first_ac_plus_20_per_rejection_not_ce() -> None:
    s = icpc([
        a(1, 10, 10.9, "WA"), a(1, 10, 12, "CE"), a(1, 10, 13, "TLE"), a(1, 10, 30.5, "AC"),
        a(1, 10, 40, "WA"),  # after the AC: changes nothing
        a(1, 20, 50, "IE"), a(1, 20, 51, "AC"),
        a(2, 10, 5, "AC"),
    ])  # fmt: skip
    ann = next(r for r in s.rows if r.name == "ann")
    assert ann.cells[0].solved and ann.cells[0].minute == 30 and ann.cells[0].tries == 2
    assert ann.cells[0].penalty == 30 + 2 * 20
    assert ann.cells[1].penalty == 51
    assert (ann.total, ann.penalty, ann.rank) == (2, 70 + 51, 1)
    ben = next(r for r in s.rows if r.name == "ben")
    assert (ben.total, ben.penalty, ben.rank) == (1, 5, 2)


def test_icpc_ties_share_a_rank_and_penalty_breaks_them() -> None:
    s = icpc([a(1, 10, 7, "AC"), a(2, 10, 7, "AC"), a(3, 10, 2, "WA"), a(3, 10, 6, "AC")])
    assert [(r.rank, r.name, r.penalty) for r in s.rows] == [
        (1, "ann", 7), (1, "ben", 7), (3, "cid", 26)]  # fmt: skip


def test_attempts_before_the_start_do_not_count_and_after_the_end_are_late() -> None:
    rules = Rules("ioi", T0, END)
    s = compute(rules, [10, 20], USERS, [
        a(1, 10, -5, "AC", 100), a(1, 10, 130, "AC", 100), a(1, 10, 60, "WA", 20),
    ], now=END + timedelta(hours=1), see_through_freeze=False)  # fmt: skip
    ann = next(r for r in s.rows if r.name == "ann")
    assert ann.cells[0].score == 20 and ann.cells[0].late == 1 and ann.total == 20


def test_freeze_hides_the_last_minutes_from_members_not_from_admins() -> None:
    attempts = [a(1, 10, 30, "AC"), a(2, 10, 100, "AC"), a(2, 20, 110, "WA")]
    during = END - timedelta(minutes=5)
    member = icpc(attempts, freeze=30, now=during, admin=False)
    by = {r.name: r for r in member.rows}
    assert member.frozen
    assert by["ben"].total == 0 and by["ben"].cells[0].pending == 1
    assert by["ben"].cells[1].pending == 1 and by["ben"].cells[1].tries == 0
    assert by["ann"].total == 1  # before the freeze: shown
    admin = icpc(attempts, freeze=30, now=during, admin=True)
    assert not admin.frozen
    assert {r.name: r.total for r in admin.rows}["ben"] == 1
    after = icpc(attempts, freeze=30, now=END, admin=False)  # the freeze ends with the set
    assert {r.name: r.total for r in after.rows}["ben"] == 1


def test_ungraded_attempts_are_pending_and_count_for_nothing() -> None:
    s = icpc([a(1, 10, 3, None, finished=False)])
    ann = next(r for r in s.rows if r.name == "ann")
    assert ann.cells[0].pending == 1 and not ann.cells[0].solved and ann.total == 0
    assert s.pending


def test_gradebook_has_a_row_per_user_and_a_column_per_problem() -> None:
    rules = Rules("icpc", T0, END)
    s = compute(rules, [10, 20], [(1, "=cmd"), (2, "ben")],
                [a(1, 10, 3, "AC"), a(2, 20, 4, "WA"), a(2, 20, 9, "AC")],
                now=END, see_through_freeze=True)  # fmt: skip
    text = gradebook_csv(s, ["p1", "p2"])
    assert text.splitlines() == [
        "rank,user,p1,p2,total,penalty", "1,'=cmd,1,0,1,3", "2,ben,0,1,1,29"]  # fmt: skip
    ioi = compute(Rules("ioi", T0, END), [10], [(1, "ann")], [a(1, 10, 3, "WA", 37.5)],
                  now=END, see_through_freeze=True)  # fmt: skip
    assert gradebook_csv(ioi, ["p1"]).splitlines() == ["rank,user,p1,total", "1,ann,37.5,37.5"]
