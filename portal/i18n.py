"""Words of the portal's pages, in the notices' language (DUEPROCESS_NOTIFY_LANGUAGE)."""

from __future__ import annotations

WORDS: dict[str, dict[str, str]] = {
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
        "back": "返回事项", "subscribe": "订阅通知", "apprise_url": "Apprise 通知地址",
        "apprise_help": "例如 mailto://you@example.org 或 json://example.org/hook；"
                        "地址加密保存，仅以隐去密钥的形式显示。",
        "follow_case": "只订阅此事项", "check_channel": "请查收确认消息",
        "confirm": "确认", "confirmed": "订阅已确认", "unsubscribe": "退订",
        "unsubscribed": "已退订，地址已删除", "error": "无法处理", "feed": "Atom 订阅源",
        "tree_head": "透明日志最新签名树根", "no_comments": "暂无意见",
        "window_not_open": "目前不在征求意见期内，无法提交意见。", "stage": "环节",
        "recorded": "记录时间", "by": "记录人", "size": "大小",
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
    },
}
