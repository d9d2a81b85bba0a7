"""FastAPI application factory.

Routers stay thin: they validate input (pydantic schemas), call a domain
module and shape the response. Shared objects live on `app.state`:
settings, the database, and whatever a router loads once (the knowledge base).
"""
from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from bot.config import Settings, settings as default_settings
from bot.db import Database
from bot.privacy import install_log_masking
from bot.service.routers import cases, chat, console, health, kb, screen


@asynccontextmanager
async def _lifespan(app: FastAPI):
    install_log_masking()  # uvicorn's log handlers exist once the server runs
    # Load the knowledge base, its card index and the understanding pipeline before the
    # first question (and before /healthz answers), so no resident waits for them.
    kb.warm_up(app)
    yield


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
    app.state.db.create_all()

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_request: Request, exc: RequestValidationError):
        # Name the field in Chinese so a caller (or an operator) can fix it.
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
            problems.append({"field": field, "message": _zh_validation_message(err), "type": err.get("type")})
        first = problems[0] if problems else {"field": "", "message": "请求格式不正确"}
        return JSONResponse(
            status_code=422,
            content={"detail": f"字段 {first['field']} 有误：{first['message']}", "errors": problems},
        )

    app.include_router(health.router)
    app.include_router(kb.router)
    app.include_router(screen.router)
    app.include_router(chat.router)
    app.include_router(cases.router)
    app.include_router(console.router)
    return app


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

