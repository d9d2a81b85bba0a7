"""The 12345/12349 hotline case desk (工单): domain, storage, queues and workflow.

Plain Python and SQLAlchemy; the front is bot/cases/desk.py (CaseDesk). The HTTP layer
lives in bot/service/routers/: cases.py, case_workflow.py, conversations.py, console.py and
console_login.py.
"""

from bot.cases.desk import BOT, SYSTEM, Actor, CaseDesk, NewCase  # noqa: F401
from bot.cases.model import (  # noqa: F401
    CaseError,
    CaseType,
    Channel,
    Conflict,
    IllegalTransition,
    NotAllowed,
    NotFound,
    Priority,
    Role,
    Status,
)
