"""The supervision report's public page and CSV exports, per department and year
(`implementation.report`), the filing of normative documents per undertaking unit
(`implementation.filing_report`) and the replies to judicial and procuratorial recommendations
per department (`implementation.reply_report`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from dueprocess.web.i18n import words
from dueprocess.web.language import language_query
from dueprocess.web.rendering import page
from implementation.filing_report import filing_csv, filing_figures
from implementation.reply_report import reply_csv, reply_figures
from implementation.report import (
    chart_labels,
    chart_spec,
    chart_svg,
    department_figures,
    report_csv,
)

router = APIRouter(prefix="/programme/report", include_in_schema=False,
                   dependencies=[Depends(language_query)])
Year = Annotated[int, Path(ge=2000, le=2100)]


@router.get("/{year}.csv")
def report_csv_export(year: Year) -> Response:
    return Response(report_csv(department_figures(year=year)), media_type="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="supervision-{year}.csv"'})


@router.get("/{year}/filing.csv")
def filing_csv_export(year: Year) -> Response:
    return Response(filing_csv(filing_figures(year=year)), media_type="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="filing-{year}.csv"'})


@router.get("/{year}/replies.csv")
def replies_csv_export(year: Year) -> Response:
    return Response(reply_csv(reply_figures(year=year)), media_type="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="replies-{year}.csv"'})


@router.get("/{year}", response_class=HTMLResponse)
def report_page(request: Request, year: Year) -> Response:
    _ = words(request)
    figures = department_figures(year=year)
    heading = _("Supervision report")
    chart = Markup(chart_svg(chart_spec(figures, title=f"{heading} {year}",
                                        labels=chart_labels(_.catalogue)))) if figures else None
    return page(request, "implementation_report.html", {
        "year": year, "figures": figures, "chart": chart,
        "filing": filing_figures(year=year), "replies": reply_figures(year=year)})
