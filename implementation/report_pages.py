"""The supervision report's public page and CSV exports, per department and year
(`implementation.report`), the filing of normative documents per undertaking unit
(`implementation.filing_report`) and the replies to judicial and procuratorial recommendations
per department (`implementation.reply_report`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from dueprocess.web.language import chosen_language, language_query
from dueprocess.web.rendering import page
from implementation.filing_report import filing_csv, filing_figures
from implementation.reply_report import reply_csv, reply_figures
from implementation.report import chart_spec, chart_svg, department_figures, report_csv

router = APIRouter(prefix="/programme/report", include_in_schema=False,
                   dependencies=[Depends(language_query)])
Year = Annotated[int, Path(ge=2000, le=2100)]
WORDS = {
    "zh-CN": {
        "report": "实事项目督办报告", "department": "责任单位", "items": "项目",
        "milestones": "节点", "done on time": "按期完成", "done late": "逾期完成",
        "overdue": "逾期未完成", "not yet due": "未到期", "escalated": "督办",
        "completed": "完成率", "on_time": "按期率", "csv": "下载 CSV", "none": "本年度没有节点",
        "progress": "实事项目进度", "rating": "群众评分", "presses": "督促次数",
        "filing": "规范性文件备案", "unit": "制定机关承办单位", "published": "公布",
        "filed": "已备案", "filed_on_time": "按期备案", "filing_overdue": "逾期未备案",
        "reviews": "合法性审核", "filing_rate": "备案率", "timeliness": "及时率",
        "no_filing": "本年度没有公布的规范性文件",
        "replies": "司法建议、检察建议办复", "received": "收到", "replied": "已办复",
        "replied_on_time": "按期办复", "reply_overdue": "逾期未办复", "reply_rate": "办复率",
        "no_replies": "本年度没有收到司法建议或检察建议",
    },
    "en": {
        "report": "Supervision report", "department": "Department", "items": "Items",
        "milestones": "Milestones", "done on time": "Done on time", "done late": "Done late",
        "overdue": "Overdue", "not yet due": "Not yet due", "escalated": "Escalated",
        "completed": "Completed", "on_time": "On time", "csv": "Download CSV",
        "none": "No milestones due this year", "progress": "Progress of every item",
        "rating": "Residents' rating", "presses": "Presses",
        "filing": "Normative documents: filing", "unit": "Undertaking unit",
        "published": "Published", "filed": "Filed", "filed_on_time": "Filed on time",
        "filing_overdue": "Overdue, not filed", "reviews": "Legality reviews",
        "filing_rate": "Filing rate", "timeliness": "Timeliness",
        "no_filing": "No normative documents published this year",
        "replies": "Judicial and procuratorial recommendations: replies",
        "received": "Received", "replied": "Replied", "replied_on_time": "Replied on time",
        "reply_overdue": "Overdue, no reply", "reply_rate": "Reply rate",
        "no_replies": "No recommendations received this year",
    },
}


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
    words = WORDS[chosen_language(request)]
    figures = department_figures(year=year)
    chart = Markup(chart_svg(chart_spec(figures, title=f"{words['report']} {year}",
                                        labels=words))) if figures else None
    return page(request, "implementation_report.html", {
        "p": words, "year": year, "figures": figures, "chart": chart,
        "filing": filing_figures(year=year), "replies": reply_figures(year=year)})
