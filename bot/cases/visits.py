"""A volunteer's home visit (主动发现) as a case: the checklist and risk table of
policy_kb/discovery/visit.yml, what a report must hold, the duplicate warning, and the case it
becomes. Pure Python over the case desk's session.

- The checklist's groups (why the household is visited) and signs (what was seen) give a risk
  level by the table's rules (visit_rules.py): `urgent` makes an urgent case at once (never held back by a
  duplicate warning: the warning is shown after), `high` and `normal` a discovery case of
  that priority.
- A household already reported (same phone, or a name and place that sound alike, see
  household_match.py) is a warning the volunteer answers: file anyway, or not.
- The rough screen (bot.eligibility) is run by the service on `screen_request()` and handed in:
  this package does not import the eligibility engine.
- A report written offline keeps the time it was written (`drafted_at`, believed as a resident's
  report time is) and its draft key, so sending it twice makes one case.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import load_only

from bot.case_limits import trimmed
from bot.cases.actors import Actor
from bot.cases.context import DeskContext
from bot.cases.household_match import Household, Match, find_matches, name_key
from bot.cases.intake import CaseIntake, NewCase
from bot.cases.model import CaseError, CaseType, Channel, Priority, Status
from bot.cases.search import phone_last4
from bot.cases.store import Case
from bot.cases.visit_rules import Risk, VisitTable, assess, load_table
from bot.places import UnknownPlace, normalize_place
from bot.privacy import mask_name

LEVEL_PRIORITY = {"urgent": Priority.urgent, "high": Priority.high, "normal": Priority.normal}
# How far back an earlier report of the same household counts as a duplicate.
DUPLICATE_WINDOW = timedelta(days=180)
DUPLICATE_SCAN_MAX = 5000
KEY_PREFIX = "visit-"
FACT_LIMITS = {"household_size": (1, 20), "monthly_income": (0, 1_000_000), "monthly_rigid_expense": (0, 1_000_000)}
HUKOU = ("urban", "rural")


# ---------------------------------------------------------------- the report


@dataclass
class Visit:
    """What a volunteer's page sends (see VisitIn in bot/service/routers/visits.py)."""

    draft_key: str
    jurisdiction: str  # the county or city: 渠县, 巴中, 会宁 …
    township: str  # 乡镇/街道
    village: str  # 村/社区
    group_no: str = ""  # 组 (村民小组) or 楼栋
    address: str = ""  # the rest: house number, landmark
    name: str = ""
    phone: str = ""
    consent: str = ""
    groups: list[str] = field(default_factory=list)
    signs: list[str] = field(default_factory=list)
    seen: str = ""  # what was seen, in the volunteer's words
    facts: dict[str, Any] = field(default_factory=dict)
    drafted_at: str | None = None

    @property
    def place(self) -> str:
        return "".join(p for p in (self.township, self.village, self.group_no) if p)

    @property
    def household(self) -> Household:
        return Household(self.name, f"{self.place}{self.address}", self.phone)


def check_visit(visit: Visit, table: VisitTable) -> Visit:
    """A report the desk can file, or CaseError saying in Chinese what to fix."""
    try:
        visit.jurisdiction = normalize_place(visit.jurisdiction)
    except UnknownPlace:
        raise CaseError(f"不认识的地区“{visit.jurisdiction}”") from None
    for value, what in ((visit.township, "乡镇（街道）"), (visit.village, "村（社区）")):
        if not value.strip():
            raise CaseError(f"请填写{what}")
    if not visit.draft_key.strip() or len(visit.draft_key) > 100:
        raise CaseError("草稿编号缺失或太长，请刷新页面后重新填写")
    if visit.consent not in table.labels("consent"):
        raise CaseError("请先征得本人或家属同意，并选择同意方式")
    for ids, kind, what in ((visit.groups, "groups", "走访对象"), (visit.signs, "signs", "看到的情况")):
        unknown = set(ids) - set(table.labels(kind))
        if unknown:
            raise CaseError(f"{what}里有不认识的选项：{'、'.join(sorted(unknown))}")
    if not (visit.name.strip() or visit.phone.strip() or visit.address.strip()):
        raise CaseError("请至少填写姓名、电话或门牌地址中的一项，方便工作人员找到这户人家")
    if not (visit.signs or visit.groups or visit.seen.strip()):
        raise CaseError("请勾选看到的情况，或用几句话写下来")
    for fact, (low, high) in FACT_LIMITS.items():
        given = visit.facts.get(fact)
        if given is None or given == "":
            visit.facts.pop(fact, None)
            continue
        try:
            number = float(given)
        except (TypeError, ValueError):
            raise CaseError(f"“{fact}”应当是数字") from None
        if not low <= number <= high:
            raise CaseError(f"“{fact}”应在 {low} 到 {high} 之间")
        visit.facts[fact] = int(number) if fact == "household_size" else number
    visit.drafted_at = _drafted_at(visit.drafted_at)
    if visit.facts.get("hukou") not in (None, "", *HUKOU):
        raise CaseError("户籍只能是城镇或农村")
    return visit


def _drafted_at(value: str | None) -> str | None:
    """The phone's time of writing as UTC ISO 8601, or None for what is not a time (it is only a
    claim: intake.report_time decides whether the case believes it)."""
    try:
        when = datetime.fromisoformat(str(value).strip().replace("Z", "+00:00")) if value else None
    except ValueError:
        return None
    if when is None:
        return None
    return (when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)).isoformat()


def screen_request(visit: Visit) -> dict[str, Any] | None:
    """The rough screen's input from what the volunteer entered (bot.eligibility's request
    shape), or None when too little is known to say anything.

    The household's total income is given as income besides the members' own (each member 0),
    which is how the volunteer knows it: one figure for the whole family.
    """
    facts = visit.facts
    size = facts.get("household_size")
    if not size or facts.get("monthly_income") is None:
        return None
    members: list[dict[str, Any]] = [{"relation": "self", "monthly_income": 0}]
    members += [{"relation": "other", "monthly_income": 0} for _ in range(int(size) - 1)]
    if facts.get("severe_disability"):
        members[0].update(disability_type="multiple", disability_grade=1)
    if facts.get("serious_illness"):
        members[0]["serious_illness"] = True
    household: dict[str, Any] = {"members": members, "other_monthly_income": facts["monthly_income"]}
    if facts.get("monthly_rigid_expense") is not None:
        household["monthly_rigid_expense"] = facts["monthly_rigid_expense"]
    request: dict[str, Any] = {"jurisdiction": visit.jurisdiction, "household": household}
    if facts.get("hukou") in HUKOU:
        request["hukou"] = facts["hukou"]
    return request


def screen_summary(answer: dict[str, Any]) -> dict[str, Any]:
    """What a case keeps of the engine's answer: each program's status and one line why."""
    return {
        "source": "volunteer_visit",
        "ruleset_version": answer.get("ruleset_version"),
        "per_capita_income": answer.get("per_capita_income"),
        "results": [
            {k: r.get(k) for k in ("program", "name", "status", "status_text", "summary")}
            for r in answer.get("results", [])
            if r.get("status") != "unlikely"
        ],
        "disclaimer": answer.get("disclaimer"),
    }


@dataclass(frozen=True)
class Duplicate:
    number: str
    status: str
    reported_at: str
    place: str
    reason: str
    mine: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "status": self.status,
            "reported_at": self.reported_at,
            "place": self.place,
            "reason": self.reason,
            "mine": self.mine,
        }


REASON_LABELS = {"phone": "电话相同", "name_and_address": "姓名和住址相近"}


class VisitIntake:
    """Files a volunteer's visit as a case (through CaseIntake) and finds earlier reports of it."""

    def __init__(self, ctx: DeskContext, intake: CaseIntake, kb_dir: Path):
        self.ctx = ctx
        self.intake = intake
        self.kb_dir = Path(kb_dir)

    @property
    def table(self) -> VisitTable:
        return load_table(self.kb_dir)

    def assess(self, visit: Visit) -> Risk:
        return assess(self.table, set(visit.groups), set(visit.signs))

    def filed(self, visit: Visit, actor: Actor) -> dict[str, Any] | None:
        """The case this draft already made (a resend), or None."""
        return self.intake.existing(KEY_PREFIX + visit.draft_key, actor)

    def duplicates(self, visit: Visit, actor: Actor) -> list[Duplicate]:
        """Earlier cases of the same place that look like this household, best first."""
        household = visit.household
        since = self.ctx.clock() - DUPLICATE_WINDOW
        keys = [k for k in (name_key(visit.name),) if k]
        last4 = phone_last4(visit.phone)
        if not keys and not last4:
            return []
        clauses: list[ColumnElement[bool]] = []
        if keys:
            clauses.append(Case.contact_name_key.is_not(None))
        if last4:
            clauses.append(Case.contact_phone_last4 == last4)
        q = (
            select(Case)
            .where(Case.jurisdiction == visit.jurisdiction, Case.created_at >= since, or_(*clauses))
            .where(or_(Case.idempotency_key.is_(None), Case.idempotency_key != KEY_PREFIX + visit.draft_key))
            .order_by(Case.created_at.desc())
            .limit(DUPLICATE_SCAN_MAX)
            # Only what the comparison and the warning read: not a county's transcripts.
            .options(
                load_only(
                    Case.number,
                    Case.status,
                    Case.created_at,
                    Case.created_by,
                    Case.contact,
                    Case.visit,
                    Case.jurisdiction,
                )
            )
        )
        with self.ctx.read() as s:
            cases = {c.number or "": c for c in s.scalars(q)}
            earlier = [(n, _household_of(c)) for n, c in cases.items()]
            found: list[Match] = find_matches(household, earlier)
            return [
                Duplicate(
                    number=m.ref,
                    status=cases[m.ref].status,
                    reported_at=cases[m.ref].created_at.isoformat(),
                    place=_place_of(cases[m.ref]),
                    reason=REASON_LABELS[m.reason],
                    mine=cases[m.ref].created_by == actor.name,
                )
                for m in found[:5]
            ]

    def file(
        self,
        visit: Visit,
        actor: Actor,
        screen: dict[str, Any] | None = None,
        duplicates: list[Duplicate] | None = None,
    ) -> tuple[dict[str, Any], bool]:
        """The visit as a case (committed before returning); (view, created)."""
        risk = self.assess(visit)
        labels = self.table.labels("signs")
        seen = "、".join(labels[s] for s in visit.signs)
        group_labels = self.table.labels("groups")
        urgent = risk.level == "urgent"
        head = "急难" if urgent else "主动发现"
        title = f"{head}：{visit.place}" + (f"，{seen}" if seen else "")
        lines = [
            f"志愿者走访：{visit.jurisdiction}{visit.place}{visit.address}",
            f"风险等级：{risk.label}" + "".join(f"；{r['reason']}" for r in risk.reasons[:2]),
        ]
        if visit.groups:
            lines.append("走访对象：" + "、".join(group_labels[g] for g in visit.groups))
        if seen:
            lines.append("看到的情况：" + seen)
        if visit.seen.strip():
            lines.append("志愿者说明：" + visit.seen.strip())
        if duplicates:
            lines.append("可能重复：" + "、".join(f"{d.number}（{d.reason}）" for d in duplicates))
        data = NewCase(
            type=CaseType.urgent if urgent else CaseType.discovery,
            channel=Channel.console,
            jurisdiction=visit.jurisdiction,
            priority=LEVEL_PRIORITY[risk.level],
            title=trimmed(title, 200),
            summary="\n".join(lines),
            contact={"name": visit.name, "phone": visit.phone, "address": f"{visit.place}{visit.address}"},
            eligibility=screen,
            reported_at=visit.drafted_at,
            visit={
                "table_version": self.table.version,
                "place": {
                    "township": visit.township,
                    "village": visit.village,
                    "group": visit.group_no,
                    "address": visit.address,
                },
                "consent": {"how": visit.consent, "recorded_by": actor.name},
                "groups": list(visit.groups),
                "signs": list(visit.signs),
                "seen": trimmed(visit.seen, 2000),
                "facts": dict(visit.facts),
                "risk": risk.as_dict(),
                "possible_duplicates": [d.number for d in duplicates or []],
                "drafted_at": visit.drafted_at,
            },
        )
        return self.intake.create_case(data, actor, KEY_PREFIX + visit.draft_key)

    def mine(self, actor: Actor, limit: int = 50) -> list[dict[str, Any]]:
        """The volunteer's own reports, newest first, as the status list shows them."""
        with self.ctx.read() as s:
            q = select(Case).where(Case.created_by == actor.name).order_by(Case.created_at.desc()).limit(limit)
            return [_status_row(c) for c in s.scalars(q)]


def _household_of(case: Case) -> Household:
    contact = case.contact or {}
    return Household(str(contact.get("name") or ""), str(contact.get("address") or ""), str(contact.get("phone") or ""))


def _place_of(case: Case) -> str:
    place = (case.visit or {}).get("place") or {}
    return "".join(str(place.get(k) or "") for k in ("township", "village", "group")) or case.jurisdiction


# What a volunteer sees of a case they reported: where it stands, not the desk's notes.
VOLUNTEER_STATUS = {
    Status.new: "已上报，等待工作人员处理",
    Status.assigned: "已安排工作人员",
    Status.in_progress: "工作人员正在核实",
    Status.waiting_resident: "正在联系这户人家",
    Status.resolved: "已办结",
    Status.closed: "已办结",
    Status.transferred: "已转交相关部门",
    Status.reopened: "重新处理中",
}


def _status_row(case: Case) -> dict[str, Any]:
    visit = case.visit or {}
    return {
        "number": case.number,
        "draft_key": (case.idempotency_key or "").removeprefix(KEY_PREFIX) if visit else None,
        "type": case.type,
        "status": case.status,
        "status_text": VOLUNTEER_STATUS[Status(case.status)],
        "place": _place_of(case),
        "household": mask_name(str((case.contact or {}).get("name") or "")),
        "risk": (visit.get("risk") or {}).get("label"),
        "reported_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
    }
