"""The console's knowledge-gaps page with sample data, to look at by hand.

    .venv/bin/python scripts/knowledge_gaps_demo.py [--data-dir /tmp/jz-gaps-demo] [--port 8765]

Makes a throwaway data folder (the service database only: no Rasa), a supervisor account
(demo_sup / demo-password-2026), asks the knowledge base a few dozen sample questions as
POST /v1/kb/answer would (the unsure ones are recorded, masked), opens two handover cases,
then serves the service on 127.0.0.1: log in at /console/login and open 知识缺口.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SUPERVISOR = ("demo_sup", "demo-password-2026")
QUESTIONS = [
    ("80岁老人补贴", "渠县"),
    ("80岁老人补贴有吗", "渠县"),
    ("八十岁老人每个月补贴多少", "达州市"),
    ("供养机构有哪些", None),
    ("供养机构在哪里", "会宁县"),
    ("小区停车费太贵了", None),
    ("小区停车收费太高了怎么办", None),
    ("驾照到期了怎么换证", "渠县"),
    ("驾驶证过期怎么换", None),
    ("低保资金从哪里来", "渠县"),
    ("低保的钱是哪里出的", "巴中市"),
    ("低保档案保存多少年", None),
    ("低保户看病住院能报销多少", "渠县"),
    ("低保户住院报销比例是多少", "达州市"),
    ("我的电话是13912345678，身份证510722199001011234，低保办到哪了", "渠县"),
    ("低保每个月几号发钱", "渠县"),  # a sure card: not recorded
]
HANDOVERS = [["80岁老人补贴在哪里领，我电话13812345678"], ["低保户住院能报多少", "报销要带什么材料"]]


def seed(data_dir: Path) -> None:
    from sqlalchemy import select

    from bot.cases.desk import BOT, CaseDesk, NewCase
    from bot.cases.store import User
    from bot.cases.users import create_user
    from bot.config import Settings
    from bot.db import Database
    from bot.kb import KnowledgeBase, gap_log

    cfg = Settings(data_dir=data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(cfg.resolved_database_url())
    db.migrate()
    with db.session() as s:
        if s.scalar(select(User).where(User.username == SUPERVISOR[0])) is None:
            create_user(s, SUPERVISOR[0], SUPERVISOR[1], "supervisor", "演示班长")
            s.commit()
    kb = KnowledgeBase.load(cfg.policy_kb_dir)
    now = datetime.now(UTC).replace(tzinfo=None)
    recorded = 0
    for i, (question, place) in enumerate(QUESTIONS):
        answer = kb.answer(question, jurisdiction=place)
        recorded += gap_log.record(db, question, place, answer, at=now - timedelta(days=i % 12, hours=i))
    desk = CaseDesk(db)
    for questions in HANDOVERS:
        desk.create_case(
            NewCase(
                type="consultation",
                jurisdiction="渠县",
                sender_id="demo-web-1",
                summary="居民请求人工服务",
                questions=questions,
                contact={"name": "张三"},
            ),
            BOT,
        )
    db.engine.dispose()
    print(f"{recorded} unsure answers recorded, {len(HANDOVERS)} handover cases opened in {data_dir}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/jz-gaps-demo"))
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    seed(args.data_dir)

    import uvicorn

    from bot.config import Settings
    from bot.service.app import create_app

    app = create_app(Settings(data_dir=args.data_dir, service_port=args.port))
    print(
        f"open http://127.0.0.1:{args.port}/console/login as {SUPERVISOR[0]} / {SUPERVISOR[1]}, "
        "then 知识缺口 (Ctrl-C stops)"
    )
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    sys.exit(main())
