"""``GET /api/webhooks/secret``: the secret that signs the webhooks of the calling token."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel

from store import webhooks
from web.deps import CurrentUser, app_state
from web.errors import ApiError
from web.schemas import error_responses

router = APIRouter(prefix="/api/webhooks", tags=["webhooks"])


class WebhookSecret(BaseModel):
    secret: str
    header: str = "X-Judge-Signature"


@router.get(
    "/secret",
    response_model=WebhookSecret,
    responses=error_responses(401, 422),
    summary="The secret that signs this token's webhooks (made on first use)",
)
def secret(request: Request, user: CurrentUser) -> WebhookSecret:
    """Every delivery carries ``X-Judge-Signature: t=<unix time>,v1=<hex>``, the HMAC-SHA256 of
    ``"<t>.<body>"`` under this secret, and ``X-Judge-Delivery``, its id (the same on retries)."""
    token_id = getattr(request.state, "token_id", None)
    if token_id is None:
        raise ApiError(422, "webhook secrets belong to API tokens: send one as a bearer token")
    with app_state(request).sessions.begin() as s:
        return WebhookSecret(secret=webhooks.secret_of(s, int(token_id)))
