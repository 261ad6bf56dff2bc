"""The public pages of implementation (Art. 34–35): items per level with their progress,
and one item's milestones, progress updates and supervision, with a progress chart
drawn as inline SVG (no script: it renders wherever the page does)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import HTMLResponse

from dueprocess.clock import system_now
from dueprocess.errors import NotFound
from models.programme import Level
from portal.language import chosen_language, language_query
from portal.pages import message
from portal.rendering import page
from programme.implementation import ItemView, item_view, items

router = APIRouter(prefix="/programme/items", include_in_schema=False,
                   dependencies=[Depends(language_query)])
WORDS = {
    "zh-CN": {
        "items": "实事项目进度", "district": "区级", "street": "街道级", "all": "全部",
        "department": "责任单位", "progress": "进度", "milestones": "节点",
        "due": "完成期限", "status": "状态", "open": "推进中", "done": "已完成",
        "done late": "逾期完成", "overdue": "逾期", "escalated": "已督办",
        "updates": "进展情况", "evidence": "佐证材料", "implements": "落实决策",
        "no_item": "没有该项目", "as_of": "截至", "report": "督办报告",
    },
    "en": {
        "items": "Practical matters: progress", "district": "District", "street": "Street",
        "all": "All", "department": "Responsible department", "progress": "Progress",
        "milestones": "Milestones", "due": "Due", "status": "Status", "open": "Open",
        "done": "Done", "done late": "Done late", "overdue": "Overdue",
        "escalated": "Escalated", "updates": "Progress updates", "evidence": "Evidence",
        "implements": "Implements", "no_item": "No such item", "as_of": "as of",
        "report": "Supervision report",
    },
}
CHART_WIDTH, CHART_HEIGHT = 320, 120


def _words(request: Request) -> dict[str, str]:
    return WORDS[chosen_language(request)]


def chart_points(view: ItemView) -> str:
    """The SVG polyline of percent done, one point per progress update."""
    percents = [0, *(u.percent for u in view.updates)]
    step = CHART_WIDTH / max(1, len(percents) - 1)
    return " ".join(f"{i * step:.1f},{CHART_HEIGHT - p * CHART_HEIGHT / 100:.1f}"
                    for i, p in enumerate(percents))


@router.get("", response_class=HTMLResponse)
def items_page(request: Request, level: Annotated[Level | None, Query()] = None) -> Response:
    shown = [item_view(item.id) for item in items(level=level.value if level else None)
             if item.id is not None]
    return page(request, "programme_items.html", {
        "p": _words(request), "views": shown, "level": level.value if level else None,
        "levels": [lv.value for lv in Level], "year": system_now().year})


@router.get("/{item_id}", response_class=HTMLResponse)
def item_page(request: Request, item_id: Annotated[int, Path(ge=1)]) -> Response:
    try:
        view = item_view(item_id)
    except NotFound:
        return message(request, _words(request)["no_item"], status=404, error=True,
                       back="/programme/items")
    return page(request, "programme_item.html", {
        "p": _words(request), "view": view, "points": chart_points(view),
        "width": CHART_WIDTH, "height": CHART_HEIGHT})
