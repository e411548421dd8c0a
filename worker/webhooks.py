"""Sends the outbox (store.webhooks): signed, retried with backoff, never to internal addresses.

A thread in each worker's main process (beside the sweeper) takes due deliveries. Each is
claimed with one conditional UPDATE that pushes its ``next_at`` past the send's timeout, so
two workers never send it at the same time, and a sender that dies mid-send only delays it:
the row is still pending, and due again once that time passes. The outcome is written after
the send: delivered (a 2xx), refused (its address is internal: never tried again), given up
(``expires_at`` passed) or due again after a backoff. A receiver can therefore see a delivery
id twice (its 2xx was lost), never a delivery missing: it deduplicates by ``X-Judge-Delivery``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from store import webhooks
from store.models import WebhookDelivery
from store.types import utcnow

log = logging.getLogger(__name__)

TIMEOUT = 5.0  # seconds for one send (connect, write, answer)
BATCH = 20  # deliveries taken per pass
USER_AGENT = "judge-webhooks/1"


def _pinned(url: str, host: str, address: str) -> tuple[str, dict[str, str]]:
    """The URL with its host replaced by the checked address, and the Host header to send."""
    parts = urlsplit(url)
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc)), {"Host": host_header}


def send_one(
    row: WebhookDelivery,
    secret: str | None,
    allowed: Sequence[webhooks.Network],
    resolve: webhooks.Resolver = webhooks.system_resolver,
    timeout: float = TIMEOUT,
) -> tuple[str, str]:
    """One try: ("delivered" | "refused" | "retry", why)."""
    try:
        host, _port, addresses = webhooks.check(row.url, allowed, resolve)
    except webhooks.Refused as e:
        return "refused", str(e)
    stamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Judge-Delivery": row.delivery_id,
    }
    if secret is not None:
        headers["X-Judge-Signature"] = webhooks.sign(secret, stamp, row.body)
    error = "no address answered"
    for address in addresses:
        url, host_header = _pinned(row.url, host, address)
        extensions = {"sni_hostname": host} if url.startswith("https:") else {}
        try:
            # No redirects: a 3xx to an internal address would undo the check above.
            with httpx.Client(timeout=timeout, follow_redirects=False, trust_env=False) as c:
                r = c.request(row.method, url, content=row.body,
                              headers={**headers, **host_header}, extensions=extensions)  # fmt: skip
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"
            continue
        if 200 <= r.status_code < 300:
            return "delivered", ""
        return "retry", f"answered {r.status_code}"
    return "retry", error


def deliver_due(
    sessions: sessionmaker[Session],
    allowed: Sequence[webhooks.Network],
    *,
    resolve: webhooks.Resolver = webhooks.system_resolver,
    timeout: float = TIMEOUT,
    now: datetime | None = None,
) -> dict[str, int]:
    """One pass over the due deliveries; counts by outcome."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    with sessions() as s:
        due = s.scalars(
            select(WebhookDelivery.id)
            .where(WebhookDelivery.state == "pending", WebhookDelivery.next_at <= now)
            .order_by(WebhookDelivery.next_at)
            .limit(BATCH)
        ).all()
    for row_id in due:
        claimed_until = utcnow() + timedelta(seconds=timeout * 3 + 10)
        with sessions.begin() as s:
            got = s.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == row_id, WebhookDelivery.state == "pending",
                       WebhookDelivery.next_at <= utcnow())
                .values(next_at=claimed_until, attempts=WebhookDelivery.attempts + 1)
                .execution_options(synchronize_session=False)
            )  # fmt: skip
            if getattr(got, "rowcount", 0) != 1:
                continue  # another sender took it
            row = s.get_one(WebhookDelivery, row_id)
            secret = webhooks.secret_of(s, row.token_id) if row.token_id is not None else None
            s.expunge(row)
        outcome, why = send_one(row, secret, allowed, resolve, timeout)
        done = utcnow()
        values: dict[str, object]
        if outcome == "delivered":
            values = {"state": "delivered", "delivered_at": done, "last_error": None}
        elif outcome == "refused":
            values = {"state": "refused", "last_error": why}
            log.warning("webhook %s refused: %s", row.delivery_id, why)
        elif done >= row.expires_at:
            outcome, values = "failed", {"state": "failed", "last_error": why}
            log.error("webhook %s given up after %s tries: %s", row.delivery_id,
                      row.attempts, why)  # fmt: skip
        else:
            # row.attempts already counts this try (the claim added it).
            later = done + timedelta(seconds=webhooks.backoff(row.attempts))
            values = {"next_at": min(later, row.expires_at), "last_error": why}
        with sessions.begin() as s:
            s.execute(update(WebhookDelivery).where(WebhookDelivery.id == row_id).values(**values))
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


class Sender(threading.Thread):
    """Runs :func:`deliver_due` every ``interval`` seconds until stopped."""

    def __init__(self, sessions: sessionmaker[Session], allow: str, interval: float = 0.5) -> None:
        super().__init__(name="judge-webhooks", daemon=True)
        self._sessions = sessions
        self._allowed = webhooks.networks(allow)
        self._interval = interval
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self._interval):
            try:
                deliver_due(self._sessions, self._allowed)
            except Exception:
                log.exception("webhook pass failed")  # a database outage: next pass

    def stop(self) -> None:
        self._stop_event.set()
