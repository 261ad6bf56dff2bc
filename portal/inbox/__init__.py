"""The reviewer inbox (login, tasks, forms) and the evidence API, as one router for the app."""

from __future__ import annotations

from fastapi import APIRouter

from portal.inbox import api, auth, claims, routes, signing

router = APIRouter()
router.include_router(auth.router)
router.include_router(claims.router)
router.include_router(routes.router)
router.include_router(api.router)
router.include_router(signing.router)

__all__ = ["router"]
