"""All HTML routes in one router, for the app factory."""

from __future__ import annotations

from fastapi import APIRouter

from web.pages import account, admin, admin_problems, admin_users, public, sets, status

router = APIRouter(include_in_schema=False)
for module in (public, account, admin, admin_problems, admin_users, status, sets):
    router.include_router(module.router)
