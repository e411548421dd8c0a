"""All HTML routes in one router, for the app factory."""

from __future__ import annotations

from fastapi import APIRouter

from web.pages import account, admin, public, sets

router = APIRouter(include_in_schema=False)
for module in (public, account, admin, sets):
    router.include_router(module.router)
