"""Case (工单) vocabulary and the status workflow. Pure Python.

Ids follow docs/GLOSSARY.md; Chinese labels are what operators and residents see.
"""

from __future__ import annotations

from enum import StrEnum


class CaseType(StrEnum):
    consultation = "consultation"
    eligibility_followup = "eligibility_followup"
    urgent = "urgent"
    discovery = "discovery"
    complaint = "complaint"


class Priority(StrEnum):
    urgent = "urgent"
    high = "high"
    normal = "normal"
    low = "low"


class Status(StrEnum):
    new = "new"
    assigned = "assigned"
    in_progress = "in_progress"
    waiting_resident = "waiting_resident"
    resolved = "resolved"
    closed = "closed"
    transferred = "transferred"
    reopened = "reopened"


class Hotline(StrEnum):
    h12345 = "12345"
    h12349 = "12349"


class Channel(StrEnum):
    web = "web"  # the web chat page
    rest = "rest"  # Rasa's REST channel (other front ends)
    telegram = "telegram"
    wechat = "wechat"  # the WeChat official account (bot/channels/wechat.py)
    phone = "phone"  # taken on the hotline by an operator
    console = "console"  # entered in the console (e.g. a volunteer's report)


class Role(StrEnum):
    operator = "operator"
    supervisor = "supervisor"
    volunteer = "volunteer"
    admin = "admin"


class Satisfaction(StrEnum):
    satisfied = "satisfied"
    basically_satisfied = "basically_satisfied"
    dissatisfied = "dissatisfied"
    unreachable = "unreachable"


TYPE_LABELS = {
    CaseType.consultation: "咨询",
    CaseType.eligibility_followup: "资格复核",
    CaseType.urgent: "急难",
    CaseType.discovery: "主动发现",
    CaseType.complaint: "投诉举报",
}
PRIORITY_LABELS = {Priority.urgent: "紧急", Priority.high: "高", Priority.normal: "普通", Priority.low: "低"}
STATUS_LABELS = {
    Status.new: "待领取",
    Status.assigned: "已分派",
    Status.in_progress: "处理中",
    Status.waiting_resident: "等待群众回复",
    Status.resolved: "已办结",
    Status.closed: "已归档",
    Status.transferred: "已转办",
    Status.reopened: "重新打开",
}
# What a resident sees when they look their case up.
RESIDENT_STATUS_LABELS = {
    Status.new: "已受理，正在等待工作人员处理",
    Status.assigned: "已安排工作人员处理",
    Status.in_progress: "工作人员正在处理",
    Status.waiting_resident: "需要您补充情况，请留意工作人员的联系",
    Status.resolved: "已办结",
    Status.closed: "已办结",
    Status.transferred: "已转交相关部门办理",
    Status.reopened: "已重新受理，正在处理",
}
ROLE_LABELS = {Role.operator: "话务员", Role.supervisor: "班长", Role.volunteer: "志愿者", Role.admin: "管理员"}
CHANNEL_LABELS = {
    Channel.web: "网页对话",
    Channel.rest: "对话接口",
    Channel.telegram: "Telegram",
    Channel.wechat: "微信公众号",
    Channel.phone: "电话",
    Channel.console: "工作台录入",
}
SATISFACTION_LABELS = {
    Satisfaction.satisfied: "满意",
    Satisfaction.basically_satisfied: "基本满意",
    Satisfaction.dissatisfied: "不满意",
    Satisfaction.unreachable: "未联系上",
}

# Lower rank is served first.
PRIORITY_RANK = {Priority.urgent: 0, Priority.high: 1, Priority.normal: 2, Priority.low: 3}

DEFAULT_PRIORITY = {
    CaseType.urgent: Priority.urgent,
    CaseType.complaint: Priority.normal,
    CaseType.consultation: Priority.normal,
    CaseType.eligibility_followup: Priority.normal,
    CaseType.discovery: Priority.high,
}

# The workflow: from -> statuses it may move to.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.new: frozenset({Status.assigned, Status.transferred, Status.closed}),
    Status.assigned: frozenset({Status.in_progress, Status.new, Status.transferred, Status.resolved}),
    Status.in_progress: frozenset({Status.waiting_resident, Status.resolved, Status.transferred}),
    Status.waiting_resident: frozenset({Status.in_progress, Status.resolved, Status.transferred}),
    Status.resolved: frozenset({Status.closed, Status.reopened}),
    Status.closed: frozenset({Status.reopened}),
    Status.transferred: frozenset({Status.closed, Status.reopened}),
    Status.reopened: frozenset({Status.assigned, Status.transferred}),
}

# Statuses in which someone on the desk still owes the resident something (the SLA clock runs).
OPEN_STATUSES = frozenset({Status.new, Status.assigned, Status.in_progress, Status.reopened})
# Cases waiting in the shared queue for someone to claim them.
QUEUE_STATUSES = frozenset({Status.new, Status.reopened})
ACTIVE_STATUSES = OPEN_STATUSES | {Status.waiting_resident}


class CaseError(Exception):
    """A refused operation; `message` is Chinese and safe to show."""

    code = "case_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class IllegalTransition(CaseError):
    code = "illegal_transition"


class NotFound(CaseError):
    code = "not_found"


class Conflict(CaseError):
    code = "conflict"


class NotAllowed(CaseError):
    code = "not_allowed"


def can_transition(current: Status | str, target: Status | str) -> bool:
    return Status(target) in TRANSITIONS[Status(current)]


def check_transition(current: Status | str, target: Status | str) -> None:
    current, target = Status(current), Status(target)
    if target not in TRANSITIONS[current]:
        raise IllegalTransition(f"工单状态不能从“{STATUS_LABELS[current]}”改为“{STATUS_LABELS[target]}”")


def escalated_priority(priority: Priority | str) -> Priority:
    order = [Priority.low, Priority.normal, Priority.high, Priority.urgent]
    i = order.index(Priority(priority))
    return order[min(i + 1, len(order) - 1)]
