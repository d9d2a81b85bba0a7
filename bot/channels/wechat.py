"""WeChat official account (服务号) gateway: WeChat's message push ⇄ Rasa's REST channel.

Its own process (`python -m bot.channels.wechat`, started by bot/stack.py when
JZ_WECHAT_TOKEN is set): a small FastAPI app on JZ_WECHAT_HOST:JZ_WECHAT_PORT whose
`/wechat` URL is the account's 服务器地址; `python -m bot.channels.wechat menu` sets the
account's menu from bot/channels/wechat_menu.json. This module is the process (the app,
logging, the command line); the rest is split by concern:
- bot/channels/wechat_protocol.py: the wire. Signatures (refused outside a 5-minute
  replay window), safe-mode (AES) decryption and encryption, the message XML, passive
  replies, WeChat's text size and numbered choices (wechatpy underneath);
- bot/channels/wechat_api.py: WeChat's server APIs (customer-service messages, the menu)
  with the cached access_token;
- bot/channels/wechat_gateway.py: the turns and operator replies.

For each message the gateway posts {"sender": "wx-<openid>", "message": …, "metadata":
{"channel": "wechat"}} to Rasa's /webhooks/rest/webhook (a message over MAX_MESSAGE_CHARS
cut to its first part, the answer led by a kind note: the rule of bot/text.py). Voice
messages use WeChat's recognition text; a subscribe event greets; a menu click sends its
key (a key starting with "/" is a Rasa payload, any other is read as if typed). Rasa's
buttons become numbered choices ("回复 1：…") and a reply "1" sends that button's payload.

WeChat waits 5 seconds for an answer, then retries (3 times in all): each message is one
turn, a retry joins it. An answer within PASSIVE_SECONDS is the passive reply; a slower one
goes out through the customer-service API (/cgi-bin/message/custom/send). Operator
replies from the case desk (the service's bot-token /v1/conversations outbox) go out
through the same API within WeChat's 48-hour window; past it the desk is told and the
reply waits for the resident's next message. No domain logic lives here.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

# Re-exported (__all__): bot.channels.wechat stays the name others import the gateway's parts by.
from bot.channels.wechat_api import (  # noqa: F401
    API_TIMEOUT,
    DEFAULT_API_URL,
    MENU_FILE,
    TOKEN_ERRORS,
    WINDOW_CLOSED_ERRORS,
    WeChatAPI,
    WeChatError,
    set_menu,
)
from bot.channels.wechat_gateway import (  # noqa: F401
    BUTTONS_KEEP_SECONDS,
    CHANNEL,
    EMPTY_REPLY,
    MAX_POLLED_USERS,
    MAX_TURNS,
    NOT_TEXT_REPLY,
    OPERATOR_REPLY,
    PASSIVE_SECONDS,
    POLL_USERS_SECONDS,
    REPLY_POLL_SECONDS,
    REPLY_WINDOW_SECONDS,
    START_MESSAGE,
    TOO_LONG_NOTE,
    TURN_KEEP_SECONDS,
    VOICE_UNHEARD_REPLY,
    WELCOME,
    WINDOW_CLOSED_REASON,
    WINDOW_MARGIN_SECONDS,
    Resident,
    Residents,
    Turn,
    WeChatGateway,
    window_open,
)
from bot.channels.wechat_protocol import (  # noqa: F401
    CHOICE_LINE,
    MAX_TEXT_BYTES,
    REPLAY_WINDOW_SECONDS,
    Refused,
    Wire,
    message_key,
    render_answers,
    sender_id,
    split_text,
)
from bot.config import Settings, settings
from bot.log_masking import MaskingFilter

__all__ = [
    "API_TIMEOUT",
    "DEFAULT_API_URL",
    "MENU_FILE",
    "TOKEN_ERRORS",
    "WINDOW_CLOSED_ERRORS",
    "WeChatAPI",
    "WeChatError",
    "set_menu",
    "BUTTONS_KEEP_SECONDS",
    "CHANNEL",
    "EMPTY_REPLY",
    "MAX_POLLED_USERS",
    "MAX_TURNS",
    "NOT_TEXT_REPLY",
    "OPERATOR_REPLY",
    "PASSIVE_SECONDS",
    "POLL_USERS_SECONDS",
    "REPLY_POLL_SECONDS",
    "REPLY_WINDOW_SECONDS",
    "START_MESSAGE",
    "TOO_LONG_NOTE",
    "TURN_KEEP_SECONDS",
    "VOICE_UNHEARD_REPLY",
    "WELCOME",
    "WINDOW_CLOSED_REASON",
    "WINDOW_MARGIN_SECONDS",
    "Resident",
    "Residents",
    "Turn",
    "WeChatGateway",
    "window_open",
    "CHOICE_LINE",
    "MAX_TEXT_BYTES",
    "REPLAY_WINDOW_SECONDS",
    "Refused",
    "Wire",
    "message_key",
    "render_answers",
    "sender_id",
    "split_text",
    "PATH",
    "MAX_BODY_BYTES",
    "create_app",
    "configure_logging",
    "main",
]

log = logging.getLogger("bot.channels.wechat")

PATH = "/wechat"
MAX_BODY_BYTES = 64 * 1024


def create_app(cfg: Settings | None = None) -> FastAPI:
    cfg = cfg or settings()
    gateway = WeChatGateway(cfg)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        await gateway.start()
        yield
        await gateway.stop()

    app = FastAPI(
        title="社会救助助手 · 微信公众号接入", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.gateway = gateway

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict:
        return {"status": "ok"}

    @app.get(PATH)
    def verify_url(signature: str = "", timestamp: str = "", nonce: str = "", echostr: str = "") -> Response:
        """WeChat's server URL check: echo `echostr` when the signature is the token's."""
        if not gateway.verify(signature, timestamp, nonce):
            return PlainTextResponse("bad signature", status_code=403)
        return PlainTextResponse(echostr)

    async def receive(request: Request) -> Response:
        """A message pushed by WeChat. A plain Starlette route: every message passes here, and
        FastAPI's parameter machinery would only add to each answer's time."""
        try:
            declared = int(request.headers.get("content-length") or 0)
        except ValueError:
            return PlainTextResponse("bad request", status_code=400)
        if declared > MAX_BODY_BYTES:
            return PlainTextResponse("too large", status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return PlainTextResponse("too large", status_code=413)
        q = request.query_params
        return await gateway.on_post(
            body,
            q.get("signature", ""),
            q.get("timestamp", ""),
            q.get("nonce", ""),
            q.get("encrypt_type", "raw"),
            q.get("msg_signature", ""),
        )

    app.router.add_route(PATH, receive, methods=["POST"], include_in_schema=False)

    return app


def configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(MaskingFilter())  # phone and ID numbers never reach the log
    # httpx logs every request URL at INFO, and WeChat API URLs carry the access_token.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(
        prog="python -m bot.channels.wechat", description="WeChat official account gateway (serve), or set its menu"
    )
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "menu"])
    parser.add_argument("--menu-file", type=Path, default=MENU_FILE)
    args = parser.parse_args(argv)
    configure_logging()
    cfg = settings()
    if args.command == "menu":
        if not (cfg.wechat_app_id and cfg.wechat_app_secret):
            log.error("JZ_WECHAT_APP_ID and JZ_WECHAT_APP_SECRET are needed to set the menu")
            return 2
        try:
            asyncio.run(set_menu(cfg, args.menu_file))
        except (WeChatError, httpx.HTTPError) as exc:
            log.error("menu not set: %s", exc)
            return 1
        print(f"menu set from {args.menu_file}")
        return 0
    if not cfg.wechat_token:
        log.error("JZ_WECHAT_TOKEN is not set: nothing to do")
        return 2
    uvicorn.run(
        create_app(cfg), host=cfg.bind_host("wechat"), port=cfg.wechat_port, log_level="warning", access_log=False
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
