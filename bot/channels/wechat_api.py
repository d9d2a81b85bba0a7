"""The few WeChat server APIs the WeChat gateway (bot/channels/wechat.py) calls.

The customer-service message API (/cgi-bin/message/custom/send: answers slower than a
passive reply allows, and operator replies) and the menu API (/cgi-bin/menu/create, for
`python -m bot.channels.wechat menu`). access_tokens come from /cgi-bin/token, cached and
refreshed before they expire, or at once when WeChat says one is invalid; one fetch at a
time, since each fetch invalidates the previous token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import httpx

from bot.config import Settings

log = logging.getLogger("bot.channels.wechat")

DEFAULT_API_URL = "https://api.weixin.qq.com"
MENU_FILE = Path(__file__).with_name("wechat_menu.json")
API_TIMEOUT = 10.0
TOKEN_ERRORS = {40001, 40014, 42001}  # invalid / expired access_token: fetch a new one, once
WINDOW_CLOSED_ERRORS = {45015, 45047}  # out of the 48-hour window / too many messages after it


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str = ""):
        super().__init__(f"errcode {errcode}: {errmsg}")
        self.errcode = errcode


class WeChatAPI:
    """The WeChat server APIs the gateway calls, with a cached access_token."""

    def __init__(self, cfg: Settings, http: httpx.AsyncClient):
        self.cfg = cfg
        self.base = (cfg.wechat_api_url or DEFAULT_API_URL).rstrip("/")
        self.http = http
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()

    async def access_token(self, force: bool = False) -> str:
        async with self._lock:  # one fetch at a time: each fetch invalidates the previous token
            if not force and self._token and time.monotonic() < self._expires:
                return self._token
            r = await self.http.get(
                f"{self.base}/cgi-bin/token",
                timeout=API_TIMEOUT,
                params={
                    "grant_type": "client_credential",
                    "appid": self.cfg.wechat_app_id,
                    "secret": self.cfg.wechat_app_secret,
                },
            )
            data = r.json()
            if not data.get("access_token"):
                raise WeChatError(int(data.get("errcode") or -1), str(data.get("errmsg") or ""))
            lifetime = int(data.get("expires_in") or 7200)
            # Refreshed well before it expires (WeChat: 7200 s), never sooner than a minute.
            self._token, self._expires = data["access_token"], time.monotonic() + max(60, lifetime - 300)
            return self._token

    async def post(self, path: str, body: dict) -> dict:
        """POSTs JSON (Chinese unescaped: WeChat would show \\uXXXX) and returns WeChat's answer."""
        content = json.dumps(body, ensure_ascii=False).encode()
        for attempt in (0, 1):
            token = await self.access_token(force=attempt > 0)
            r = await self.http.post(
                f"{self.base}{path}",
                params={"access_token": token},
                content=content,
                headers={"Content-Type": "application/json; charset=utf-8"},
                timeout=API_TIMEOUT,
            )
            data = r.json()
            errcode = int(data.get("errcode") or 0)
            if errcode in TOKEN_ERRORS and attempt == 0:
                log.info("access_token refused (%s): fetching a new one", errcode)
                continue
            if errcode:
                raise WeChatError(errcode, str(data.get("errmsg") or ""))
            return data
        raise AssertionError("unreachable")

    async def send_text(self, openid: str, text: str) -> None:
        await self.post(
            "/cgi-bin/message/custom/send", {"touser": openid, "msgtype": "text", "text": {"content": text}}
        )

    async def create_menu(self, menu: dict) -> None:
        await self.post("/cgi-bin/menu/create", menu)


async def set_menu(cfg: Settings, menu_file: Path = MENU_FILE) -> None:
    """Posts the menu file as the account's menu (`python -m bot.channels.wechat menu`)."""
    async with httpx.AsyncClient() as http:
        await WeChatAPI(cfg, http).create_menu(json.loads(menu_file.read_text(encoding="utf-8")))
