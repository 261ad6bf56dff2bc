"""The public web application as served: the portal's own pages and API, with the pages of
the capabilities it hosts (the programme's 我要提实事 and ballots; the implementation
pages, evaluations and the yearly report), each capability's templates registered.

`uvicorn dueprocess.composition.portal:create_app --factory` serves it, as `dueprocess
portal` and `dueprocess up` do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

import implementation
import portal
import programme
from dueprocess.composition.journal import wire
from dueprocess.web.context import register_templates
from implementation import evaluation_pages, item_pages, report_pages
from portal.app import create_portal_app
from programme import ballot_pages, receipt_pages, resident_login
from programme import pages as programme_pages

TEMPLATE_FOLDERS = tuple(Path(str(package.__file__)).resolve().parent / "templates"
                         for package in (portal, programme, implementation))


def create_app(settings: Any = None) -> FastAPI:
    """The application with every capability's pages (`settings`: the portal's settings,
    default from the environment)."""
    wire()
    for folder in TEMPLATE_FOLDERS:
        register_templates(folder)
    app = create_portal_app(settings)
    app.include_router(item_pages.router)  # before the year page's /programme/{year}
    app.include_router(report_pages.router)
    app.include_router(evaluation_pages.router)
    app.include_router(ballot_pages.router)
    app.include_router(receipt_pages.router)
    app.include_router(resident_login.router)
    app.include_router(programme_pages.router)  # "我要提实事"
    return app
