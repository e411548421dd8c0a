"""A box's network namespace serves the next box only when its run left nothing there
(issue 19, sandbox/_netns.py). Hostile run A, then run B: B must see and trip over nothing
of A (listeners, bound ports, TIME_WAIT, abstract unix names, counters), whether it got A's
namespace (A left it clean) or a new one (A did not). A namespace is never in two boxes at
once, and SANDBOX_REUSE=0 gives every box a new one.

The A/B tests turn the pool off, so that B takes the namespace A gave back, if any: the
idle list is last in, first out. The rest run in whatever mode the suite runs in.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator

import pytest
from hostile_support import Hostile, assert_no_escape, assert_verdict, describe, lines

from sandbox import Result, Verdict, _netns, _pool, _reuse

PORT = 5555  # fixed: B asks for exactly A's ports

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox needs root")


def run(hostile: Hostile, *args: str) -> Result:
    result = hostile.py("net_leftovers", *args, limits={"cpu_time": 5.0})
    assert_verdict(result, Verdict.OK)
    return result


def cookie(result: Result) -> int:
    first = lines(result)[0]
    assert first.startswith("cookie "), describe(result)
    return int(first.split()[1])


def fresh_start() -> None:
    """No prepared box and no idle namespace: the next box takes a new one."""
    _pool.drain()
    _netns.drop_idle()


@pytest.fixture
def one_after_another(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    fresh_start()
    monkeypatch.setenv("SANDBOX_POOL", "0")
    yield
    _netns.drop_idle()


@pytest.fixture
def reuse_on() -> None:
    if not _reuse.enabled():
        pytest.skip("SANDBOX_REUSE=0: every box has a new namespace")


def test_a_listener_left_at_exit_blocks_no_port_of_the_next_run(
        hostile: Hostile, one_after_another: None) -> None:
    first = run(hostile, "quiet_listen", str(PORT))
    assert "listening" in lines(first)
    then = run(hostile, "bind", str(PORT))
    assert lines(then).count(f"bound {PORT} 1") == 1, describe(then)
    assert f"bound {PORT + 1} 1" in lines(then) and f"bound {PORT} 2" in lines(then)
    if _reuse.enabled():
        # A listener and nothing else leaves no trace: the same namespace served B.
        assert cookie(then) == cookie(first)


def test_listeners_connects_and_sockets_open_at_exit_leave_nothing(
        hostile: Hostile, one_after_another: None) -> None:
    first = run(hostile, "listen", str(PORT))
    assert "listening" in lines(first), describe(first)
    # lo is down: no connection, so no TIME_WAIT could be made in the first place.
    assert "connected" not in lines(first), describe(first)
    then = run(hostile, "bind", str(PORT))
    assert [line for line in lines(then) if line.startswith("bound")] == [
        f"bound {PORT} 1", f"bound {PORT + 1} 1", f"bound {PORT} 2"], describe(then)


def test_an_abstract_unix_socket_kept_in_flight_is_gone(
        hostile: Hostile, one_after_another: None) -> None:
    first = run(hostile, "abstract", "judge-secret-42")
    assert "bound abstract" in lines(first)
    then = run(hostile, "find_abstract", "judge-secret-42")
    assert "abstract: Connection refused" in lines(then), describe(then)
    assert "abstract name free" in lines(then)


def test_a_secret_counted_into_the_counters_never_reaches_the_next_run(
        hostile: Hostile, one_after_another: None, monkeypatch: pytest.MonkeyPatch) -> None:
    first = run(hostile, "encode", "1011")
    then = run(hostile, "counters")
    monkeypatch.setenv("SANDBOX_REUSE", "0")
    new = run(hostile, "counters")
    # Counters cannot be reset: a namespace whose counters moved is never lent again.
    assert cookie(then) != cookie(first)
    assert lines(then)[1:] == lines(new)[1:], describe(then) + describe(new)
    assert "OutNoRoutes" in then.stdout.decode()


def test_multicast_groups_left_at_exit_send_nothing_into_the_next_run(
        hostile: Hostile, one_after_another: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # Leaving a group queues reports (MLDv2) that kernel workers send after the box is gone,
    # past the check: counted, they would tell the next run that its predecessor joined.
    with monkeypatch.context() as fresh:
        fresh.setenv("SANDBOX_REUSE", "0")
        new = run(hostile, "counters")
    for _ in range(3):
        first = run(hostile, "join", "8")
        assert "joined" in lines(first), describe(first)
        then = run(hostile, "watch", "1.5")
        assert "counters still" in lines(then), describe(then)
        seen = run(hostile, "counters")
        assert lines(seen)[1:] == lines(new)[1:], describe(seen) + describe(new)
        if _reuse.enabled():
            # Nothing to see: the same namespace served all three.
            assert cookie(first) == cookie(then) == cookie(seen)


def test_the_box_has_no_power_over_its_namespace(hostile: Hostile) -> None:
    result = run(hostile, "admin")
    out = lines(result)
    assert "lo down" in out, describe(result)
    attempts = [line for line in out if line.startswith(("sysctl", "SIOC", "netlink", "nft"))]
    assert len(attempts) == 10, describe(result)
    for line in attempts:
        assert line.endswith(("Operation not permitted", "Read-only file system",
                              "Permission denied")), line
    assert_no_escape(result)


def test_clean_runs_reuse_one_namespace(hostile: Hostile, reuse_on: None) -> None:
    cookies = [cookie(run(hostile, "cookie")) for _ in range(6)]
    # With warm boxes a few namespaces take turns (the next box is built while one runs).
    assert len(set(cookies)) < len(cookies), cookies
    if not _pool.depth():
        assert len(set(cookies[1:])) == 1, cookies


def test_a_dirty_run_namespace_is_never_lent_again(hostile: Hostile, reuse_on: None) -> None:
    before = dict(_netns.stats)
    dirty = cookie(run(hostile, "encode", "1"))
    later = [cookie(run(hostile, "cookie")) for _ in range(8)]
    _pool.settle()
    assert dirty not in later, (dirty, later)
    assert _netns.stats["dirty"] > before["dirty"]


def test_with_reuse_off_every_run_has_a_new_namespace(
        hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh_start()
    monkeypatch.setenv("SANDBOX_REUSE", "0")
    before = dict(_netns.stats)
    cookies = [cookie(run(hostile, "cookie")) for _ in range(6)]
    assert len(set(cookies)) == len(cookies), cookies
    _pool.drain()
    assert _netns.stats == before


def test_concurrent_boxes_never_share_a_namespace(hostile: Hostile) -> None:
    results: list[Result] = []
    lock = threading.Lock()

    def one() -> None:
        result = run(hostile, "hold", "1.0")
        with lock:
            results.append(result)

    # Warm up: namespaces to go around, so that a shared one would show.
    for _ in range(3):
        run(hostile, "cookie")
    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 4
    cookies = [cookie(result) for result in results]
    assert len(set(cookies)) == 4, cookies


def test_the_check_sees_a_tcp_fast_open_key_made_in_a_namespace(reuse_on: None) -> None:
    # (Made here by the host, which may: no box can set one. Some kernels make one when a
    # program first asks for TCP_FASTOPEN, and show it to every later socket.)
    key = "/proc/sys/net/ipv4/tcp_fastopen_key"
    with open(key) as handle:
        host_key = handle.read()
    ns = _netns.take()
    assert ns is not None
    try:
        assert _netns.clean(ns)
        with _netns._inside(ns.fd), open(key, "w") as handle:
            handle.write("01234567-89abcdef-01234567-89abcdef")
        assert not _netns.clean(ns)
    finally:
        _netns.give_back(ns, box_gone=True)
    with open(key) as handle:
        assert handle.read() == host_key


@pytest.mark.parametrize("holding", [True, False])
def test_the_check_sees_a_socket_left_in_a_namespace(
        reuse_on: None, holding: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # The check itself, on a namespace no box has used: a socket found in it (bound, or
    # just open) makes it dirty; once that is closed, it reads as new again. With its files
    # held open, and opened at each check (past MAX_HOLDING).
    if not holding:
        monkeypatch.setattr(_netns, "MAX_HOLDING", 0)
    _netns.drop_idle()
    # Made by a thread that is gone by the check, as the pool's and a caller's may be: the
    # files it opened in /proc/thread-self must outlive it.
    made: list[_netns.Netns | None] = []
    maker = threading.Thread(target=lambda: made.append(_netns.take()))
    maker.start()
    maker.join()
    ns = made[0]
    assert ns is not None
    assert bool(ns.files) is holding
    try:
        assert _netns.clean(ns)
        with _netns._inside(ns.fd):
            held = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            assert not _netns.clean(ns)
            held.bind("\0left-behind")
            assert not _netns.clean(ns)
        finally:
            held.close()
        assert _netns.clean(ns)
        with (_netns._inside(ns.fd), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp,
              pytest.raises(OSError)):
            udp.sendto(b"x", ("10.9.8.7", 9))
        assert not _netns.clean(ns)  # counted: never clean again
    finally:
        _netns.give_back(ns, box_gone=True)
    assert ns.fd == -1


def test_a_forked_child_never_lends_its_parents_namespaces(hostile: Hostile,
                                                           reuse_on: None) -> None:
    # A Celery prefork child inherits the idle list: lent by both processes, one namespace
    # would serve two boxes at once. The child must make its own.
    parents = {cookie(run(hostile, "cookie")) for _ in range(4)}
    _pool.settle()
    assert _netns._idle
    idle = {f"net:[{os.fstat(ns.fd).st_ino}]" for ns in _netns._idle}
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            seen = [cookie(run(hostile, "cookie")) for _ in range(3)]
            # Nor does it keep the parent's alive: its copies of their fds are closed.
            held = {os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                    if os.path.exists(f"/proc/self/fd/{fd}")}
            seen += [0] if held & idle else []
            os.write(write_end, (" ".join(map(str, seen)) + "\n").encode())
            _pool.drain()
            _netns.drop_idle()
        finally:
            os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read_end) as handle:
        child = {int(word) for word in handle.read().split()}
    assert status == 0 and len(child) >= 1 and 0 not in child, child
    assert not child & parents, (child, parents)
    # The parent's idle namespaces survived the child and are still lent.
    again = {cookie(run(hostile, "cookie")) for _ in range(4)}
    assert again & parents, (again, parents)


def test_a_kernel_with_unknown_network_state_gets_no_reuse(
        hostile: Hostile, reuse_on: None, monkeypatch: pytest.MonkeyPatch) -> None:
    # A protocol module we have not reasoned about (here: pretend xfrm_stat is one) keeps
    # state per namespace that no check reads: every box then makes its own.
    fresh_start()
    monkeypatch.setattr(_netns, "KNOWN", _netns.KNOWN - {"xfrm_stat"})
    monkeypatch.setattr(_netns, "_unknown", [])
    assert _netns.take() is None
    assert _netns._unknown == ["xfrm_stat"]
    before = dict(_netns.stats)
    cookies = [cookie(run(hostile, "cookie")) for _ in range(4)]
    assert len(set(cookies)) == 4, cookies
    _pool.drain()
    assert _netns.stats == before
