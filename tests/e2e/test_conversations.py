"""Whole conversations in Chinese through the real Rasa server, action server and service.

Each test also writes its transcript to results/transcripts/, for people to read.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from bot.cases.store import Case
from bot.config import PROJECT_ROOT
from bot.db import Database
from tests.conftest import say, texts

pytestmark = pytest.mark.e2e
TRANSCRIPTS = PROJECT_ROOT / "results" / "transcripts"


class Conversation:
    def __init__(self, stack, name: str):
        self.stack, self.name = stack, name
        self.sender = f"{name}-{uuid.uuid4().hex[:6]}"
        self.lines: list[str] = []

    def say(self, message: str) -> str:
        reply = texts(say(self.stack, self.sender, message))
        self.lines += [f"居民：{message}", *(f"助手：{line}" for line in reply.split("\n") if line.strip()), ""]
        return reply

    def save(self) -> None:
        TRANSCRIPTS.mkdir(parents=True, exist_ok=True)
        Path(TRANSCRIPTS / f"{self.name}.txt").write_text("\n".join(self.lines), encoding="utf-8")

    def case(self) -> Case:
        db = Database(self.stack.settings.resolved_database_url())
        with db.session() as s:
            return s.scalars(select(Case).where(Case.sender_id == self.sender).order_by(Case.id.desc())).first()


def test_screening_with_a_correction(stack):
    c = Conversation(stack, "screening")
    try:
        assert "初步看看" in c.say("帮我看看我家能不能吃低保")
        reply = c.say("我们是会宁县城里的，屋头两口人，一个月收入六百块")
        assert "会宁" not in reply or "哪个县" not in reply  # the place was understood, not asked again
        reply = c.say("不对，是三口人")
        assert "改过来了" in reply and "3 口人" in reply
        reply = c.say("没有车也没有第二套房")
        # 会宁 has no sourced 低保标准: the resident is asked for the figure, or may say they don't know.
        assert "低保标准" in reply
        reply = c.say("不知道")
        assert "【最低生活保障（低保）】初步看：还需要了解" in reply
        assert "依据：《" in reply and "最终以乡镇（街道）审核确认结果为准" in reply
        assert not re.search(r"\d+ 元/人·月", reply.split("如果当地低保标准高于")[0].split("【")[0])
        reply = c.say("转给工作人员")
        assert "工单号 GD" in reply
        case = c.case()
        assert case.type == "eligibility_followup" and case.eligibility
    finally:
        c.save()


def test_urgent_escalation(stack):
    c = Conversation(stack, "urgent")
    try:
        reply = c.say("屋头断粮好几天了，娃儿没饭吃")
        assert reply.index("110") < reply.index("登记")  # the emergency numbers come first
        reply = c.say("渠县三汇镇，电话13812345678")
        assert "可以吗" in reply
        reply = c.say("可以")
        number = re.search(r"工单号 (GD[0-9A-Z]+)", reply)[1]
        case = c.case()
        assert case.number == number and case.type == "urgent" and case.priority == "urgent"
        assert case.hotline == "12345"  # 渠县 routes to 12345
    finally:
        c.save()


def test_two_unclear_answers_bring_the_hotline_and_the_report_goes_on(stack):
    c = Conversation(stack, "urgent-unclear")
    try:
        c.say("屋头断粮好几天了，娃儿没饭吃")
        assert "电话" in c.say("渠县三汇镇")
        reply = c.say("你说啥子")
        assert reply.startswith("不好意思，没听清楚。") and "电话" in reply  # asked again
        reply = c.say("你说啥子")
        assert "12345" in reply and "转给工作人员" in reply and reply.rstrip().endswith("不方便的话说“不方便”。")
        assert "可以吗" in c.say("13812345678")
        assert "已登记为急难求助" in c.say("可以")
        assert c.case().type == "urgent"
    finally:
        c.save()


def test_danger_gets_the_numbers_at_once(stack):
    c = Conversation(stack, "danger")
    try:
        reply = c.say("我妈突然晕倒了叫不醒")
        assert reply.startswith("您现在有危险，请马上拨打 120")
    finally:
        c.save()


def test_handover(stack):
    c = Conversation(stack, "handover")
    try:
        c.say("特困供养是啥子")
        reply = c.say("我要找人工客服")
        assert re.search(r"工单号 GD[0-9A-Z]+，查询码 [0-9A-Z]{8}", reply) and "答复您" in reply
        case = c.case()
        assert case.type == "consultation" and any(t["text"] == "特困供养是啥子" for t in case.transcript)
        assert case.questions == ["特困供养是啥子"]
    finally:
        c.save()


def test_asking_for_staff_to_look_at_it_is_a_handover_not_the_screen(stack):
    c = Conversation(stack, "handover-look")
    try:
        reply = c.say("能不能找个工作人员帮我看看我的情况")
        assert re.search(r"工单号 GD[0-9A-Z]+", reply), reply
    finally:
        c.save()


def test_sichuan_dialect_policy_question(stack):
    c = Conversation(stack, "dialect")
    try:
        reply = c.say("屋头莫得收入，咋个才吃得到底保嘛")
        assert "最低生活保障" in reply and "依据" in reply
        reply = c.say("我是渠县的")
        # The place is used, and the answer says whose rule it is (here the national one).
        assert reply.startswith("好的，渠县也是按国家的规定办：")
    finally:
        c.save()


def test_volunteer_report(stack):
    c = Conversation(stack, "volunteer")
    try:
        reply = c.say("我是网格员，发现我们社区有个老人一个人住，好几天没吃饭了")
        reply = c.say("渠县渠江镇幸福社区3组") if "在哪里" in reply else reply
        if "电话" in reply:
            reply = c.say("13912345678")
        assert "主动发现" in reply and "工单号 GD" in reply
        assert c.case().type == "discovery"
    finally:
        c.save()


def test_web_chat_and_operator_reach_each_other_after_the_handover(stack):
    """Later messages join the case; the operator's reply is shown in the web chat, once."""
    from tests.support.web_chat import WebChat

    chat = WebChat.start(stack.service_url)
    number = re.search(r"工单号 (GD[0-9A-Z]+)", texts(chat.say("我要找工作人员")))[1]
    from bot.cases.desk import Actor, CaseDesk

    # What the resident adds after the handover reaches the operator's case.
    chat.say("我电话是13800001111")
    desk = CaseDesk(Database(stack.settings.resolved_database_url()))
    assert desk.case_record(number).transcript[-1]["text"] == "我电话是13800001111"
    # Its note went while Rasa answered: the message that made the case is in it once.
    resident = [t["text"] for t in desk.case_record(number).transcript if t["role"] == "resident"]
    assert resident == ["我要找工作人员", "我电话是13800001111"]
    operator = Actor("user:sup-e2e", "supervisor", None, "值班长")
    desk.reply(number, "您好，您的情况我们已收到，明天上午会给您打电话。", operator)
    # Only the conversation's holder gets the reply, and a refused call consumes nothing.
    stranger = httpx.get(f"{stack.service_url}/v1/chat/{chat.sender}/replies", timeout=10)
    assert stranger.status_code == 401
    assert "明天上午会给您打电话" in texts(chat.replies())
    assert chat.replies() == []
