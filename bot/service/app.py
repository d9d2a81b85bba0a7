"""FastAPI application factory.

Routers stay thin: they validate input (pydantic schemas), call a domain
module and shape the response. Shared objects live on `app.state`:
settings, the database, and whatever a router loads once (the knowledge base).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager, suppress

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

# The composition root: every table module on bot.orm.Base (bot/storage_models.py) before the
# database is migrated and used, so the mappers see all the tables whichever routers load first.
import bot.storage_models  # noqa: F401
from bot.cases.model import CaseError
from bot.config import Settings
from bot.config import settings as default_settings
from bot.db import Database
from bot.http_sessions import close_sessions
from bot.log_masking import install_log_masking
from bot.places import UnknownPlace
from bot.service.errors import (
    case_error_response,
    desk_value_error_response,
    document_validation_errors,
    unknown_place_response,
)
from bot.service.pending_writes import PendingWrites
from bot.service.routers import (
    case_workflow,
    cases,
    chat,
    console,
    console_accounts,
    console_events,
    console_knowledge_gaps,
    console_login,
    console_queues,
    console_reports,
    console_two_factor,
    conversations,
    health,
    kb,
    screen,
    visits,
)
from bot.start_up_objects import freeze_start_up_objects


@asynccontextmanager
async def _lifespan(app: FastAPI):
    install_log_masking()  # uvicorn's log handlers exist once the server runs
    # Load the knowledge base, its card index and the understanding pipeline before the
    # first question (and before /healthz answers), so no resident waits for them.
    kb.warm_up(app)
    if getattr(app.state, "freeze_start_up", False):  # a server process (create_served_app)
        freeze_start_up_objects(logging.getLogger("uvicorn.error"))  # where a served app's start-up messages go
    job = asyncio.create_task(_retention_loop(app))
    try:
        yield
    finally:
        job.cancel()
        with suppress(asyncio.CancelledError):
            await job
        await close_sessions()  # the web chat relay's pooled session to Rasa


async def _retention_loop(app: FastAPI) -> None:
    """Personal data past JZ_RETENTION_DAYS goes (bot/retention.py): now, then every
    JZ_RETENTION_CHECK_HOURS, in a thread so no request waits for it."""
    from bot import retention

    cfg: Settings = app.state.settings
    if cfg.retention_days <= 0:
        return
    while True:
        try:
            await asyncio.to_thread(retention.run, cfg, app.state.db)
        except Exception:  # a busy or unreachable database: the next round tries again
            logging.getLogger(__name__).exception("retention job failed")
        await asyncio.sleep(max(cfg.retention_check_hours, 0.01) * 3600)


# FastAPI's answer to a request body it cannot decode (fastapi/routing.py).
_UNREADABLE_BODY = "There was an error parsing the body"


def create_app(cfg: Settings | None = None) -> FastAPI:
    cfg = cfg or default_settings()
    app = FastAPI(
        lifespan=_lifespan,
        title="社会救助助手服务 (social-assistance assistant service)",
        version="0.1.0",
        description="Policy knowledge base, eligibility screen, cases and the web chat.",
    )
    app.state.settings = cfg
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    app.state.db = Database(cfg.resolved_database_url())
    app.state.db.migrate()
    app.state.history_writes = PendingWrites()  # the web chat's reload history, written after each answer

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError):
        # Name the field in Chinese so a caller (or an operator) can fix it.
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append({"field": field, "message": _zh_validation_message(err), "type": err.get("type")})
        first = problems[0] if problems else {"field": "", "message": "请求格式不正确"}
        return JSONResponse(
            status_code=422, content={"detail": f"字段 {first['field']} 有误：{first['message']}", "errors": problems}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        # A body FastAPI cannot even decode (not UTF-8) is invalid JSON like any other: the
        # same 422 and Chinese message, not FastAPI's English 400.
        if exc.status_code == 400 and exc.detail == _UNREADABLE_BODY:
            return await _validation_error(
                request,
                RequestValidationError([{"type": "json_invalid", "loc": ("body",), "msg": "JSON decode error"}]),
            )
        return await http_exception_handler(request, exc)

    # The domain's refusals, answered alike on every route (bot/service/errors.py): the routes
    # call the desk and let them through. A bare ValueError is a 422 only on the desk's routes.
    app.add_exception_handler(CaseError, case_error_response)
    app.add_exception_handler(UnknownPlace, unknown_place_response)
    app.add_exception_handler(ValueError, desk_value_error_response)

    app.include_router(health.router)
    app.include_router(kb.router)
    app.include_router(screen.router)
    app.include_router(chat.router)
    app.include_router(cases.router)
    app.include_router(case_workflow.router)  # after cases: /v1/cases/counts is not a case {number}
    app.include_router(conversations.router)
    app.include_router(console_login.router)
    app.include_router(console_queues.router)  # /console: the queue page (paging, filters, search)
    app.include_router(console_events.router)  # /console/events: the queue page's live updates
    app.include_router(console.router)
    app.include_router(console_accounts.router)  # /console/admin/users: admins only
    app.include_router(console_two_factor.router)  # /console/account/2fa: supervisors and admins
    app.include_router(console_reports.router)  # /console/reports: supervisors and admins
    app.include_router(console_knowledge_gaps.router)  # /console/knowledge-gaps: supervisors and admins
    app.include_router(visits.router)  # /console/visit and /v1/visits: volunteers' home visits
    _document_errors(app)
    return app


def create_served_app() -> FastAPI:
    """The app as a server process runs it (`uvicorn bot.service.app:create_served_app --factory`):
    once warmed up, what start-up built is kept out of full garbage collections
    (bot/start_up_objects.py). Not done for apps made in a test process, whose objects come and go."""
    app = create_app()
    app.state.freeze_start_up = True
    return app


def _document_errors(app: FastAPI) -> None:
    """The schema states the 422 body the handler above sends (bot/service/errors.py)."""
    generate = app.openapi  # FastAPI's: cached, made anew when the routes change
    done: list[int] = []

    def openapi() -> dict:
        schema = generate()
        if done != [id(schema)]:
            document_validation_errors(schema)
            done[:] = [id(schema)]
        return schema

    app.openapi = openapi


def _zh_validation_message(err: dict) -> str:
    kind = err.get("type", "")
    ctx = err.get("ctx") or {}
    if kind == "missing":
        return "缺少这个字段"
    if kind == "json_invalid":
        return "JSON 格式不正确"
    if kind in ("string_too_long",):
        return f"内容太长，最多 {ctx.get('max_length')} 个字"
    if kind in ("string_too_short",):
        return "内容不能为空"
    if kind == "too_long":  # a list
        return f"最多 {ctx.get('max_length')} 项"
    if kind.startswith(("greater_than", "less_than")):
        bound = ctx.get("ge", ctx.get("gt", ctx.get("le", ctx.get("lt"))))
        return f"数值超出允许范围（界限 {bound}）"
    if kind in ("int_parsing", "float_parsing", "int_type", "float_type"):
        return "应当是数字"
    if kind in ("literal_error", "enum"):
        return f"取值不在允许范围内：{ctx.get('expected', '')}"
    if kind == "value_error":
        return str(ctx.get("error", err.get("msg", "取值不正确")))
    return err.get("msg", "取值不正确")
