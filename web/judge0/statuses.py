"""``GET /statuses``: Judge0's list, named by the worker's table (worker.judge0_status)."""

from __future__ import annotations

from worker import judge0_status


def listing() -> list[dict[str, object]]:
    return [{"id": i, "description": d} for i, d in sorted(judge0_status.DESCRIPTIONS.items())]


def of(status_id: int) -> dict[str, object]:
    return {"id": status_id, "description": judge0_status.DESCRIPTIONS.get(status_id, "Unknown")}
