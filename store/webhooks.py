"""Webhooks as data: who may be called, how a delivery is signed, and the outbox row.

Here, below web and worker, because both need it: the web refuses a callback URL when it is
submitted, the worker writes the delivery in the verdict's transaction and checks the address
again right before it connects (worker.webhooks). Imports nothing but the standard library and
the models.

**Addresses (SSRF).** A callback must not reach what only the judge can reach: loopback,
link-local (the cloud metadata service at 169.254.169.254 among them), private, shared, reserved
and multicast ranges. Every address the host name resolves to is checked, and the sender
connects only to an address it checked, so a DNS answer that changes between the check and the
connection cannot point it inside. ``JUDGE_WEBHOOK_ALLOW_NETWORKS`` names networks an admin lets
callbacks reach anyway (a receiver on the same host, in tests).

**Signing.** ``X-Judge-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``
with the secret of the token that made the submission; the receiver recomputes it, compares in
constant time and refuses old timestamps (replays). ``X-Judge-Delivery`` is the delivery id,
the same on every retry: a receiver that has seen it answers 2xx and does nothing.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Executable
from sqlalchemy.orm import Session

from store.models import ApiToken, WebhookDelivery
from store.problems import shows_totals
from store.types import utcnow

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]
#: How long a delivery is retried before it is given up, seconds (JUDGE_WEBHOOK_RETRY_FOR).
DEFAULT_RETRY_FOR = 3600.0
# Beyond is_private/is_link_local...: the metadata service's IPv6 address, and the ranges
# Python does not flag on every version (shared address space, benchmarking, 6to4 relays).
_ALSO_REFUSED = tuple(
    ipaddress.ip_network(n)
    for n in ("100.64.0.0/10", "198.18.0.0/15", "192.0.0.0/24", "fd00:ec2::254/128", "64:ff9b::/96")
)


class Refused(ValueError):
    """A callback URL the judge will not call; the message says why, in one line."""


def networks(raw: str) -> tuple[Network, ...]:
    """``JUDGE_WEBHOOK_ALLOW_NETWORKS``: comma- or space-separated CIDRs; ValueError if bad."""
    return tuple(
        ipaddress.ip_network(n.strip(), strict=False) for n in raw.replace(",", " ").split()
    )


def _internal(addr: Address) -> bool:
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return (
        addr.is_loopback or addr.is_link_local or addr.is_private or addr.is_multicast
        or addr.is_reserved or addr.is_unspecified or not addr.is_global
        or any(addr in n for n in _ALSO_REFUSED)
    )  # fmt: skip


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def check(
    url: str, allowed: Sequence[Network] = (), resolve: Resolver = system_resolver
) -> tuple[str, int, list[str]]:
    """(host, port, addresses to connect to) of a callback URL; Refused if it may not be called.

    A host that is an IP address is not resolved (no traffic at all for a refused one)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as e:
        raise Refused(f"callback URL: {e}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("callback URL: an http:// or https:// URL with a host is expected")
    if parts.username or parts.password:
        raise Refused("callback URL: credentials in the URL are not accepted")
    host = parts.hostname
    try:
        literal: list[str] | None = [str(ipaddress.ip_address(host))]
    except ValueError:
        literal = None
    try:
        found = literal if literal is not None else resolve(host, port)
    except OSError as e:
        raise Refused(f"callback URL: cannot resolve {host}: {e}") from None
    if not found:
        raise Refused(f"callback URL: {host} has no address")
    for text in found:
        addr = ipaddress.ip_address(text.split("%")[0])
        if _internal(addr) and not any(addr in n for n in allowed):
            raise Refused(
                f"callback URL: {host} is {addr}, an internal address (loopback, link-local, "
                "private or reserved); an admin can allow its network with "
                "JUDGE_WEBHOOK_ALLOW_NETWORKS"
            )
    return host, port, found


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify(secret: str, header: str, body: bytes, now: float, tolerance: float = 300) -> bool:
    """The receiver's check (also what the README shows)."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs(now - timestamp) > tolerance:
        return False
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    return hmac.compare_digest(expected, fields.get("v1", ""))


def secret_of(session: Session, token_id: int) -> str:
    """The token's webhook secret, made on first use."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise ValueError(f"no token {token_id}")
    if token.webhook_secret is None:
        token.webhook_secret = secrets.token_urlsafe(32)
        session.flush()
    return token.webhook_secret


def queue(
    session: Session,
    *,
    url: str,
    method: str,
    payload: Any,
    token_id: int | None,
    retry_for: float = DEFAULT_RETRY_FOR,
    now: datetime | None = None,
) -> WebhookDelivery:
    """Add a delivery to the outbox, in the caller's transaction (the verdict's)."""
    now = now or utcnow()
    row = WebhookDelivery(
        delivery_id=str(uuid.uuid4()), method=method, url=url,
        body=json.dumps(payload, separators=(",", ":")).encode(), token_id=token_id,
        state="pending", attempts=0, next_at=now, created_at=now,
        expires_at=now + timedelta(seconds=retry_for),
    )  # fmt: skip
    session.add(row)
    return row


def retry_for() -> float:
    from store import env

    return env.number("JUDGE_WEBHOOK_RETRY_FOR")


def allowed_networks() -> tuple[Network, ...]:
    from store import env

    return networks(env.text("JUDGE_WEBHOOK_ALLOW_NETWORKS"))


def queue_for_submission(session: Session, submission_id: int) -> WebhookDelivery | None:
    """The POST of a submission's verdict, if it has a callback, in the verdict's transaction."""
    from store.models import Submission

    callback = session.execute(_callback_query(), {"b_id": submission_id}).first()
    if callback is None:
        return None
    sub = session.get_one(Submission, submission_id, populate_existing=True)
    # The receiver is whoever holds the token: under ``verdicts`` a non-admin's time and
    # memory are the hidden tests' running time, which the problem keeps from them.
    totals = shows_totals(sub.problem.test_details, admin=bool(callback.privileged))
    payload = {
        "event": "submission.finished",
        "id": sub.id,
        "problem": sub.problem.slug,
        "language": sub.language,
        "status": str(sub.status),
        "verdict": str(sub.verdict) if sub.verdict is not None else None,
        "score": sub.score,
        "max_score": sub.max_score,
        "time": sub.time if totals else None,
        "memory": sub.memory if totals else None,
        "finished_at": sub.finished_at.isoformat() if sub.finished_at else None,
    }
    return queue(session, url=callback.url, method="POST", payload=payload,
                 token_id=callback.token_id, retry_for=retry_for())  # fmt: skip


@functools.cache
def _callback_query() -> Executable:
    """Built once: every verdict asks, and most submissions have no callback (an ORM get,
    built per call, was a sixth of a grading's database time; bench/worker_overhead.py)."""
    from sqlalchemy import Integer, bindparam, or_, select

    from store.models import SubmissionCallback, User

    return (
        select(
            SubmissionCallback.url,
            SubmissionCallback.token_id,
            or_(User.is_admin, User.is_staff).label("privileged"),
        )
        .outerjoin(ApiToken, ApiToken.id == SubmissionCallback.token_id)
        .outerjoin(User, User.id == ApiToken.user_id)
        .where(SubmissionCallback.submission_id == bindparam("b_id", type_=Integer()))
    )


def backoff(attempts: int) -> float:
    """Seconds before the next try: 1, 2, 4 ... capped at 60."""
    return float(min(2 ** max(attempts - 1, 0), 60))


BATCH_SCAN = 50  # batches looked at per sweep


def queue_finished_batches(session: Session, now: datetime | None = None) -> int:
    """Queue the webhook of every batch with a callback whose items have all ended (graded,
    failed, cancelled, or never made); how many were queued. Run by the sweeper: a batch ends
    with whichever of its submissions ends last, in any worker, and no single verdict's
    transaction can see that reliably. The conditional UPDATE makes the delivery once, however
    many sweepers run."""
    from sqlalchemy import and_, exists, func, select, update

    from store.models import Batch, BatchItem, Submission
    from store.vocab import FINISHED

    now = now or utcnow()
    unfinished = exists().where(
        BatchItem.batch_id == Batch.id,
        BatchItem.submission_id == Submission.id,
        Submission.status.not_in(FINISHED),
    )
    ready = session.scalars(
        select(Batch.id)
        .where(Batch.callback_url.is_not(None), Batch.callback_queued_at.is_(None), ~unfinished)
        .order_by(Batch.id)
        .limit(BATCH_SCAN)
    ).all()
    queued = 0
    for batch_id in ready:
        result = session.execute(
            update(Batch)
            .where(and_(Batch.id == batch_id, Batch.callback_queued_at.is_(None)))
            .values(callback_queued_at=now)
            .execution_options(synchronize_session=False)
        )
        if int(getattr(result, "rowcount", 0) or 0) != 1:
            continue  # another sweeper queued it
        batch = session.get_one(Batch, batch_id, populate_existing=True)
        if batch.callback_token_id is None or session.get(ApiToken, batch.callback_token_id) is None:
            continue  # its token was revoked: nothing may sign it
        counts = dict(
            session.execute(
                select(Submission.verdict, func.count())
                .join(BatchItem, BatchItem.submission_id == Submission.id)
                .where(BatchItem.batch_id == batch_id)
                .group_by(Submission.verdict)
            ).all()
        )
        errors = session.scalar(
            select(func.count()).where(BatchItem.batch_id == batch_id, BatchItem.error.is_not(None))
        )
        payload = {
            "event": "batch.finished",
            "id": batch.id,
            "problem": batch.problem.slug,
            "kind": batch.kind,
            "cancelled": batch.cancelled_at is not None,
            "total": len(batch.items),
            "verdicts": {str(v): n for v, n in counts.items() if v is not None},
            "errors": int(errors or 0),
            "results": f"/api/batches/{batch.id}/results.json",
        }
        queue(session, url=str(batch.callback_url), method="POST", payload=payload,
              token_id=batch.callback_token_id, retry_for=retry_for(), now=now)  # fmt: skip
        queued += 1
    return queued
