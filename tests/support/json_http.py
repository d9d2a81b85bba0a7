"""Small pieces the tests' fake HTTP servers share: a JSON answer from a stdlib handler, and an
aiohttp app served on a free loopback port."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler

from aiohttp import web


def send_json(handler: BaseHTTPRequestHandler, status: int, data, content_type: str = "application/json") -> None:
    raw = json.dumps(data, ensure_ascii=False).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(raw)))
    handler.end_headers()
    handler.wfile.write(raw)


async def serve_app(app: web.Application) -> tuple[web.AppRunner, str]:
    """(the runner, to clean up; the base URL) of `app` on 127.0.0.1 and a free port."""
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
