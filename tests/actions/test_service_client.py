"""actions/api/service.py against a real HTTP server on loopback: what each kind of answer,
and each kind of silence, becomes for the actions (which turn ServiceUnavailable into the
hotline reply and never retry a ServiceRefused as it is)."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web

from actions.api.service import ServiceClient, ServiceRefused, ServiceUnavailable
from bot.http_sessions import close_sessions
from tests.support.json_http import serve_app


async def _served(routes: web.RouteTableDef, scenario) -> object:
    app = web.Application()
    app.add_routes(routes)
    runner, url = await serve_app(app)
    try:
        return await scenario(ServiceClient(base_url=url, timeout=0.5))
    finally:
        await close_sessions()
        await runner.cleanup()


def _run(handler, scenario):
    routes = web.RouteTableDef()
    routes.post("/v1/kb/answer")(handler)
    return asyncio.run(_served(routes, scenario))


def test_an_answer_comes_back_as_its_json_with_the_bearer_token(monkeypatch):
    monkeypatch.setenv("JZ_BOT_TOKEN", "secret-token")
    from bot.config import settings

    settings.cache_clear()
    seen = []

    async def answer(request):
        seen.append((request.headers.get("Authorization"), await request.json()))
        return web.json_response({"answer": "低保向户籍所在地乡镇申请", "sources": ["qu_county §3"]})

    try:
        result = _run(answer, lambda client: client.answer("低保怎么申请", "qu_county"))
    finally:
        settings.cache_clear()
    assert result == {"answer": "低保向户籍所在地乡镇申请", "sources": ["qu_county §3"]}
    assert seen == [("Bearer secret-token", {"question": "低保怎么申请", "jurisdiction": "qu_county"})]


def test_one_pooled_connection_serves_call_after_call():
    peers = set()

    async def answer(request):
        peers.add(request.transport.get_extra_info("peername"))
        return web.json_response({"n": len(peers)})

    async def many(client):
        return [await client.answer(f"问题{i}") for i in range(5)]

    assert _run(answer, many)[-1] == {"n": 1}
    assert len(peers) == 1


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_service_unavailable_with_its_status(status):
    async def answer(request):
        return web.Response(status=status, text="down")

    async def scenario(client):
        with pytest.raises(ServiceUnavailable) as err:
            await client.answer("低保怎么申请")
        return err.value.status

    assert _run(answer, scenario) == status


def test_a_refusal_is_service_refused_with_its_status_and_reason():
    async def answer(request):
        return web.json_response({"detail": "question too long"}, status=422)

    async def scenario(client):
        with pytest.raises(ServiceRefused) as err:
            await client.answer("长" * 5000)
        return err.value

    refusal = _run(answer, scenario)
    assert refusal.status == 422 and "question too long" in str(refusal)


def test_a_page_that_is_not_json_is_service_unavailable():
    async def answer(request):
        return web.Response(text="<html>502 Bad Gateway</html>", content_type="text/html")

    async def scenario(client):
        with pytest.raises(ServiceUnavailable, match="not JSON"):
            await client.answer("低保怎么申请")

    _run(answer, scenario)


def test_silence_past_the_timeout_is_service_unavailable():
    async def answer(request):
        await asyncio.sleep(3)
        return web.json_response({})

    async def scenario(client):
        started = asyncio.get_running_loop().time()
        with pytest.raises(ServiceUnavailable):
            await client.answer("低保怎么申请")
        return asyncio.get_running_loop().time() - started

    assert _run(answer, scenario) < 2


def test_nothing_listening_is_service_unavailable():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there

    async def scenario():
        try:
            with pytest.raises(ServiceUnavailable) as err:
                await ServiceClient(base_url=f"http://127.0.0.1:{port}", timeout=1).answer("低保怎么申请")
            return err.value.status
        finally:
            await close_sessions()

    assert asyncio.run(scenario()) is None
