"""The action server: rasa-sdk's server plus the spool drainer.

`python -m actions.server --actions actions --port 5055` takes rasa-sdk's own
arguments and serves the same app as `python -m rasa_sdk`; in addition each
server worker runs a `Drainer` (actions/delivery.py) from the moment it starts
listening until it stops, so spooled reports reach the service within seconds of
it coming back (and at start-up), with no resident traffic needed.

It listens on JZ_ACTION_HOST (else JZ_HOST; loopback by default), never on every
interface by accident, and refuses with 403, before any action runs, every call that
does not carry the shared action token (actions/access.py; Rasa sends it, endpoint.yml).
bot/stack.py starts the action server this way.
"""

from __future__ import annotations

import asyncio
import logging
import os
from functools import partial

from rasa_sdk import utils
from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME, DEFAULT_ENDPOINTS_PATH, DEFAULT_KEEP_ALIVE_TIMEOUT
from rasa_sdk.endpoint import create_app_for_serve, create_argument_parser, create_ssl_config
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic, response
from sanic.request import Request
from sanic.worker.loader import AppLoader

from actions.access import is_allowed
from bot.config import settings

log = logging.getLogger(__name__)


async def _start_drainer(app: Sanic) -> None:
    from actions.delivery import Drainer
    from bot.log_masking import install_log_masking

    if not logging.getLogger().handlers:  # a spawned worker: log like the main process, masked
        utils.configure_colored_logging(os.environ.get("JZ_ACTIONS_LOG_LEVEL") or None)
        install_log_masking()
    drainer = Drainer(interval=settings().spool_drain_seconds)
    app.ctx.spool_drainer = drainer
    app.ctx.spool_drainer_task = asyncio.get_running_loop().create_task(drainer.run(), name="spool-drainer")


async def _stop_drainer(app: Sanic) -> None:
    drainer = getattr(app.ctx, "spool_drainer", None)
    task = getattr(app.ctx, "spool_drainer_task", None)
    if drainer is None or task is None:
        return
    drainer.stop()
    try:
        await asyncio.wait_for(task, timeout=5)
    except (TimeoutError, asyncio.CancelledError):
        task.cancel()


async def _freeze_start_up(app: Sanic) -> None:
    from bot.start_up_objects import freeze_start_up_objects

    freeze_start_up_objects(log)


async def _close_service_clients(app: Sanic) -> None:
    from bot.http_sessions import close_sessions

    await close_sessions()


def require_action_token(app: Sanic, token: str) -> None:
    """Every route but the health check answers 403 unless the request carries `token`."""

    async def check(request: Request):
        if is_allowed(
            request.path, request.method, request.headers.get("authorization"), request.args.get("token"), token
        ):
            return None
        log.warning(
            "refused %s %s from %s: no valid action token",
            request.method,
            request.path,
            request.remote_addr or request.ip,
        )
        return response.json(
            {"error": "forbidden", "message": "this action server only serves its Rasa server"}, status=403
        )

    app.register_middleware(check, "request")


def create_app(action_executor: ActionExecutor, **kwargs) -> Sanic:
    """rasa-sdk's app for one worker: the token check first, the drainer tied to the server's life."""
    app = create_app_for_serve(action_executor, **kwargs)
    require_action_token(app, settings().resolved_action_token())
    app.register_listener(_start_drainer, "after_server_start")
    app.register_listener(_freeze_start_up, "after_server_start")
    app.register_listener(_stop_drainer, "before_server_stop")
    app.register_listener(_close_service_clients, "after_server_stop")
    return app


def run(
    action_executor: ActionExecutor,
    port: int,
    cors_origins=None,
    ssl_certificate=None,
    ssl_keyfile=None,
    ssl_password=None,
    auto_reload: bool = False,
    endpoints: str = DEFAULT_ENDPOINTS_PATH,
) -> None:
    """rasa_sdk.endpoint.run, with our app factory."""
    loader = AppLoader(
        factory=partial(
            create_app,
            action_executor,
            cors_origins=cors_origins,
            auto_reload=auto_reload,
            endpoints=endpoints,
            keep_alive_timeout=DEFAULT_KEEP_ALIVE_TIMEOUT,
        )
    )
    app = loader.load()
    host = settings().bind_host("action")  # not rasa-sdk's SANIC_HOST, which defaults to 0.0.0.0
    log.info("action server on %s:%s", host, port)
    app.prepare(
        host=host,
        port=port,
        ssl=create_ssl_config(ssl_certificate, ssl_keyfile, ssl_password),
        workers=utils.number_of_sanic_workers(),
    )
    Sanic.serve(primary=app, app_loader=loader)


def main(argv: list[str] | None = None) -> None:
    """As `python -m rasa_sdk` (rasa_sdk.__main__.main_from_args), HTTP only."""
    args = create_argument_parser().parse_args(argv)
    if args.loglevel:
        os.environ["JZ_ACTIONS_LOG_LEVEL"] = logging.getLevelName(args.loglevel)  # for the workers
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel, args.logging_config_file
    )
    utils.update_sanic_log_level()
    executor = ActionExecutor()
    executor.register_package(args.actions_module or args.actions)
    run(
        executor,
        args.port,
        args.cors,
        args.ssl_certificate,
        args.ssl_keyfile,
        args.ssl_password,
        args.auto_reload,
        args.endpoints,
    )


if __name__ == "__main__":
    # Through the importable module, so the workers can unpickle the app factory by name.
    from actions.server import main as _main

    _main()
