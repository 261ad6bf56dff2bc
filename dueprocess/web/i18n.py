"""Words of the portal's pages in each language it speaks (zh-CN by default, English).

Only words live here: which language a request gets is `dueprocess.web.language`, and how dates,
numbers and durations are written is `dueprocess.web.localize` (babel). Enumerated values (statuses,
stage kinds, answers to opinions, timeline events) have a word per language,
so that nothing English leaks into a zh-CN page.
"""

from __future__ import annotations

from typing import Literal

from notifications.render import LABELS

Language = Literal["zh-CN", "en"]
LANGUAGES: tuple[Language, ...] = ("zh-CN", "en")

WORDS: dict[Language, dict[str, str]] = {
    "zh-CN": {
        "site": "重大行政决策公开平台", "cases": "决策事项", "case": "事项", "status": "状态",
        "current_stage": "当前环节", "deadline": "期限", "opened": "启动", "none": "无",
        "comment_window": "征求意见期", "open_until": "开放至", "closed": "已结束",
        "summary": "决策理由", "organ": "决策机关", "unit": "承办单位", "basis": "法律依据",
        "stages": "程序环节", "timeline": "时间线", "documents": "公开文件", "draft": "草案",
        "decision": "决策", "notices": "通知公告", "evidence": "证据摘要",
        "comments": "公众意见", "comment_form": "提交意见", "your_comment": "您的意见",
        "your_name": "署名（可选）", "send": "提交", "receipt": "意见回执",
        "receipt_number": "回执编号", "received_at": "收到时间", "digest": "SHA-256 摘要",
        "back": "返回事项", "subscribe": "订阅通知", "propose": "我要提实事",
        "apprise_url": "Apprise 通知地址",
        "apprise_help": "例如 mailto://you@example.org 或 json://example.org/hook；"
                        "地址加密保存，仅以隐去密钥的形式显示。",
        "follow_case": "只订阅此事项", "check_channel": "请查收确认消息",
        "confirm": "确认", "confirmed": "订阅已确认", "unsubscribe": "退订",
        "unsubscribed": "已退订，地址已删除", "error": "无法处理", "feed": "Atom 订阅源",
        "tree_head": "透明日志最新签名树根", "no_comments": "暂无意见",
        "window_not_open": "目前不在征求意见期内，无法提交意见。", "stage": "环节",
        "recorded": "记录时间", "by": "记录人", "size": "大小",
        "tree_size": "共 {size} 条记录", "root_hash": "根哈希",
        "too_many": "您所在地址提交过于频繁，请在 {seconds} 秒后重试",
        "no_receipt": "事项 {case} 下没有回执编号为 {receipt} 的意见",
        "language": "语言", "times_in": "本页时间均为{zone}（{offset}）",
        "deadline_open": "征求意见截止时间：{when}", "days_left": "还剩 {days}",
        "deadline_soon": "不足一天", "deadline_closed": "征求意见已于 {when} 结束",
        "deadline_not_yet": "征求意见将于 {when} 开始", "write_comment": "我要提交意见",
        "shortened_reason": "征求意见期短于法定期限的理由",
        "drafts": "草案版本", "version": "版本", "created": "形成时间",
        "current_draft": "现行草案", "revision_reason": "修改理由",
        "earlier_text": "查看此版本全文",
        "adoption": "意见采纳情况", "adoption_pending": "征求意见结束、意见整理完毕后，"
        "将在此公布每条（每类）意见的采纳情况及理由。",
        "opinions_received": "共收到意见 {count} 条",
        "adoption_statement": "意见整理与采纳说明", "answers": "对每类意见的答复",
        "opinion": "意见", "opinion_count": "{count} 条意见", "answer": "答复", "reason": "理由",
        "adoption_published": "决策公布时的采纳说明",
        "expert_adoption": "专家意见采纳说明",
        "recorded_by_on": "记录人：{name}，{when}",
        "superseded": "取代此前记录（编号 {ids}），原记录仍见证据摘要",
        "decided_by": "{name}，{date}", "evidence_id": "编号", "no_reason": "（未说明理由）",
    },
    "en": {
        "site": "Major administrative decisions", "cases": "Decision cases", "case": "Case",
        "status": "Status", "current_stage": "Current stage", "deadline": "Due",
        "opened": "Opened", "none": "none", "comment_window": "Comment window",
        "open_until": "open until", "closed": "closed", "summary": "Why",
        "organ": "Decision organ", "unit": "Undertaking unit", "basis": "Legal basis",
        "stages": "Stages", "timeline": "Timeline", "documents": "Published documents",
        "draft": "Draft", "decision": "Decision", "notices": "Notices",
        "evidence": "Evidence digests", "comments": "Public comments",
        "comment_form": "Comment", "your_comment": "Your comment",
        "your_name": "Name to publish (optional)", "send": "Send", "receipt": "Comment receipt",
        "receipt_number": "Receipt number", "received_at": "Received",
        "digest": "SHA-256", "back": "Back to the case", "subscribe": "Subscribe",
        "propose": "Propose a matter",
        "apprise_url": "Apprise notification URL",
        "apprise_help": "e.g. mailto://you@example.org or json://example.org/hook; stored "
                        "encrypted and shown only with its secrets hidden.",
        "follow_case": "Only this case", "check_channel": "Check your channel to confirm",
        "confirm": "Confirm", "confirmed": "Subscription confirmed",
        "unsubscribe": "Unsubscribe", "unsubscribed": "Unsubscribed; the address is erased",
        "error": "Not accepted", "feed": "Atom feed",
        "tree_head": "Latest signed tree head of the transparency log",
        "no_comments": "No comments yet",
        "window_not_open": "The comment window is not open: comments cannot be sent now.",
        "stage": "Stage", "recorded": "Recorded", "by": "By", "size": "Size",
        "tree_size": "size {size}", "root_hash": "root",
        "too_many": "too many submissions from your address; try again in {seconds} s",
        "no_receipt": "receipt {receipt} not found for case {case}",
        "language": "Language", "times_in": "Times on this page are {zone} ({offset})",
        "deadline_open": "Comments close on {when}", "days_left": "{days} left",
        "deadline_soon": "less than a day left", "deadline_closed": "Comments closed on {when}",
        "deadline_not_yet": "Comments open on {when}", "write_comment": "Write a comment",
        "shortened_reason": "Why the comment period is shorter than the statutory one",
        "drafts": "Draft versions", "version": "Version", "created": "Made",
        "current_draft": "Current draft", "revision_reason": "Why it was revised",
        "earlier_text": "Show the text of this version",
        "adoption": "How the opinions were adopted",
        "adoption_pending": "Once the comment period has ended and the opinions are sorted, "
        "the answer to every opinion or group of opinions, with its reason, appears here.",
        "opinions_received": "{count} opinions received",
        "adoption_statement": "How the opinions were sorted and adopted",
        "answers": "The answer to each group of opinions", "opinion": "Opinion",
        "opinion_count": "opinions: {count}", "answer": "Answer", "reason": "Reason",
        "adoption_published": "Adoption explained on publication",
        "expert_adoption": "How the expert opinions were adopted",
        "recorded_by_on": "Recorded by {name} on {when}",
        "superseded": "Replaces earlier records (No. {ids}), which stay in the evidence list",
        "decided_by": "{name}, {date}", "evidence_id": "No.", "no_reason": "(no reason given)",
    },
}

# Stage names by stage key, then by stage kind: a procedure's own titles are English.
STAGE_NAMES: dict[Language, dict[str, str]] = {
    "zh-CN": {
        "public_participation": "公众参与", "expert_review": "专家论证",
        "risk_assessment": "风险评估", "legality_review": "合法性审查",
        "collective_decision": "集体讨论决定", "publication": "决策公布",
        "filing": "备案", "assignment": "交办", "recommendation_reply": "办复",
    },
    "en": {},  # the procedure definition's title
}

CASE_STATUS: dict[Language, dict[str, str]] = {
    "zh-CN": {"open": "办理中", "decided": "已作出决定（待公布）", "closed": "已办结"},
    "en": {"open": "in progress", "decided": "decided, to be published", "closed": "closed"},
}

STAGE_STATUS: dict[Language, dict[str, str]] = {
    "zh-CN": {"pending": "未开始", "open": "进行中", "completed": "已完成"},
    "en": {"pending": "not started", "open": "in progress", "completed": "completed"},
}

ANSWERS: dict[Language, dict[str, str]] = {
    language: {k: LABELS[language][k] for k in ("adopted", "partly_adopted", "not_adopted")}
    for language in ("zh-CN", "en")
}

# Legal citations of the bundled procedures, as written in Chinese; others stay as written.
CITATIONS: dict[Language, list[tuple[str, str]]] = {
    "zh-CN": [
        (r"^Decree 713 Art\. (\d+)[–-](\d+)$", r"《重大行政决策程序暂行条例》第\1–\2条"),
        (r"^Decree 713 Art\. (\d+)$", r"《重大行政决策程序暂行条例》第\1条"),
        (r"^State Council General Office 2018 No\. (\d+)$", r"国办发〔2018〕\1号"),
        (r"^State Council General Office 2018 No\. (\d+) \(filing within 30 days\)$",
         r"国办发〔2018〕\1号（30日内备案）"),
        (r"^SPP Procuratorial Recommendation Provisions 2019$", "《人民检察院检察建议工作规定》"),
        (r"^SPP Procuratorial Recommendation Provisions 2019 \(reply within two months\)$",
         "《人民检察院检察建议工作规定》（两个月内书面回复）"),
    ],
    "en": [],
}

# Outcomes of decisions and reviews: the notices' own words, so pages and notices agree.
OUTCOMES: dict[Language, dict[str, str]] = {"zh-CN": LABELS["zh-CN"], "en": LABELS["en"]}

TIMELINE: dict[Language, dict[str, str]] = {
    "zh-CN": {
        "case_opened": "事项启动", "draft_revised": "形成草案第 {version} 版：{title}",
        "stage_opened": "{stage}环节开始", "stage_completed": "{stage}环节完成",
        "window_opened": "征求意见开始", "window_closed": "征求意见结束",
        "decision_recorded": "作出决定：{outcome}", "notice": "发布公告：{subject}",
    },
    "en": {
        "case_opened": "case opened", "draft_revised": "draft version {version}: {title}",
        "stage_opened": "{stage}: opened", "stage_completed": "{stage}: completed",
        "window_opened": "comment window opened", "window_closed": "comment window closed",
        "decision_recorded": "decision recorded: {outcome}", "notice": "notice: {subject}",
    },
}
