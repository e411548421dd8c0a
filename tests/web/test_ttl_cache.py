"""web.ttl_cache: one computation serves every ask within the ttl; the oldest key goes first."""

from __future__ import annotations

from web.ttl_cache import TtlCache


def test_reused_within_the_ttl_and_remade_after() -> None:
    made: list[int] = []

    def make() -> int:
        made.append(1)
        return len(made)

    long = TtlCache[int](ttl=3600, size=8)
    assert [long.get_or_make("k", make) for _ in range(3)] == [1, 1, 1]
    assert long.get_or_make("other", make) == 2
    never = TtlCache[int](ttl=0, size=8)
    assert [never.get_or_make("k", make) for _ in range(2)] == [3, 4]


def test_the_oldest_key_is_evicted_beyond_the_size() -> None:
    cache = TtlCache[str](ttl=3600, size=2)
    for key in ("a", "b", "c"):
        cache.get_or_make(key, lambda key=key: key.upper())  # type: ignore[misc]
    assert cache.get_or_make("a", lambda: "remade") == "remade"
    assert cache.get_or_make("c", lambda: "remade") == "C"
