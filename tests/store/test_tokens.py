from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import store


def test_token_round_trip_and_only_hash_stored(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        token = store.create_token(s, "alice", admin=True)
        s.commit()
    with sessions() as s:
        user = store.user_for_token(s, token)
        assert user is not None and user.name == "alice" and user.is_admin
        assert store.user_for_token(s, token + "x") is None
        stored = s.scalars(select(store.ApiToken.token_hash)).all()
        assert token not in stored and len(stored) == 1


def test_second_token_reuses_user(sessions: sessionmaker[Session]) -> None:
    with sessions() as s:
        a = store.create_token(s, "bob")
        b = store.create_token(s, "bob")
        s.commit()
        ua, ub = store.user_for_token(s, a), store.user_for_token(s, b)
        assert a != b and ua is not None and ua is ub and not ua.is_admin
