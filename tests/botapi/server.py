"""A local stand-in for the Telegram Bot API, for end-to-end tests and benchmarks.

The real bot (python-telegram-bot's HTTPXRequest) talks HTTP to this server exactly as it
would to api.telegram.org; tests inject updates as users would produce them, wait for what the
bot sends, and make the server fail the way Telegram fails (429, 403, ChatMigrated, dropped
connections, its own rate limiter). See README.md next to this file for a guide.

The server runs its own asyncio loop in a background thread, so synchronous and asynchronous
tests can drive it alike. All test-side helpers are thread-safe and never block on the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import re
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from aiohttp import ClientSession, web

from tests.botapi.chats import Chats
from tests.botapi.faults import Faults, RateLimit, _Fault
from tests.botapi.files import Files, _Upload
from tests.botapi.messages import Messages
from tests.botapi.profile import Profile
from tests.botapi.records import (
    CHAT_METHODS,
    DEFAULT_ALLOWED,
    SEND_METHODS,
    ApiError,
    Call,
    bad_request,
)
from tests.botapi.updates import Updates
from tests.botapi.users import Users
from tests.botapi.waiting import Waiting
from tests.botapi.wire import _envelope_error, _envelope_ok, decode_form_value

if TYPE_CHECKING:
    from tests.botapi.process import BotProcess


class BotApiServer(Faults, Chats, Users, Updates, Messages, Files, Profile, Waiting):
    """The fake Bot API. Use as a context manager or call start()/stop().

    This module holds its lifecycle and HTTP handling; each Bot API area is a mixin in its own
    module (chats, users, updates, messages, files, profile, faults, waiting).
    """

    def __init__(
        self,
        token: str | None = None,
        *,
        bot_username: str = "pension_cert_test_bot",
        bot_name: str = "养老金认证助手",
        privacy_mode: bool = True,
        rate_limit: RateLimit | bool | None = None,
        latency: float = 0.0,
        strict_chats: bool = False,
        webhook_concurrency: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.token = token or f"7000000001:AAE-local-test-{secrets.token_hex(10)}"
        self.bot_id = int(self.token.split(":", 1)[0])
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.strict_chats = strict_chats
        self.webhook_concurrency = max(1, webhook_concurrency)
        self.clock = clock
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._processes: list[BotProcess] = []
        self._defaults = {
            "privacy_mode": privacy_mode,
            "rate_limit": rate_limit,
            "latency": latency,
        }
        self._methods: dict[str, Callable[[dict, dict], Any]] = {}
        for name in dir(self):
            if name.startswith("_api_"):
                method = name.removeprefix("_api_")
                self._methods[method.lower()] = getattr(self, name)
        self._init_connection_state()
        self._reset_state()

    # ------------------------------------------------------------------ lifecycle

    def _init_connection_state(self) -> None:
        """What a running bot relies on across tests: reset() keeps all of it.

        Update ids only grow (a bot's offset would otherwise swallow new updates), long-poll
        bookkeeping stays true, and a webhook stays set.
        """
        self._next_update_id = 100_000_001
        self._webhook: dict[str, Any] = {}
        self._webhook_error: dict[str, Any] = {}
        self._in_flight: set[int] = set()
        self._poll_generation = 0
        self._poll_seq = 0
        self._active_polls = 0
        self._seq = 0
        self._closing = False

    def _reset_state(self) -> None:
        with self._lock:
            self.privacy_mode: bool = self._defaults["privacy_mode"]
            self._rate: RateLimit | None = None
            self.set_rate_limit(self._defaults["rate_limit"])
            self._latency: dict[str | None, float] = {None: self._defaults["latency"]}
            self._calls: list[Call] = []
            self._sent: list[tuple[int, dict]] = []
            self._downloads: list[str] = []  # file paths the bot fetched from the file URL
            self._updates: list[dict] = []
            self._filtered: list[dict] = []
            # PTB re-sends allowed_updates with every getUpdates, so a default is safe here
            self._allowed: frozenset[str] = DEFAULT_ALLOWED
            self._users: dict[int, dict] = {}
            self._chats: dict[int, dict] = {}
            self._messages: dict[tuple[int, int], dict] = {}
            self._message_ids: dict[int, int] = {}
            self._keyboards: dict[int, list[list[str]] | None] = {}
            self._pinned: dict[int, list[int]] = {}
            self._admins: dict[int, dict] = {}
            self._blocked: set[int | str] = set()
            self._kicked: set[int] = set()
            self._migrated: dict[int, int] = {}
            self._faults: list[_Fault] = []
            self._callbacks: dict[str, dict] = {}
            self._inline: dict[str, dict] = {}
            self._commands: dict[str, list[dict]] = {}
            self._files: dict[str, dict] = {}
            self._stats: Counter[str] = Counter()
            self._marks: dict[Any, int] = {}

    def start(self) -> BotApiServer:
        if self._thread is not None:
            return self
        self._closing = False
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run_loop, name="botapi-server", daemon=True)
        self._thread.start()
        future = asyncio.run_coroutine_threadsafe(self._astart(), self._loop)
        self._port = future.result(timeout=30)
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        for process in list(self._processes):
            process.stop()
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._astop(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()
        self._thread = None
        self._loop = None

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run_loop(self) -> None:
        assert self._loop is not None
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()

    async def _astart(self) -> int:
        self._event = asyncio.Event()
        self._webhook_tasks: list[asyncio.Task] = []
        self._session: ClientSession | None = None
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # Cancelling handlers whose client vanished lets a killed bot's long poll end at once.
        self._runner = web.AppRunner(
            app,
            handle_signals=False,
            access_log=None,
            handler_cancellation=True,
            shutdown_timeout=2.0,
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(self._runner, sock)
        await site.start()
        return sock.getsockname()[1]

    async def _astop(self) -> None:
        self._closing = True
        self._wake_in_loop()
        self._stop_webhook_workers_in_loop()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """For Application.builder().base_url(...) and TELEGRAM_BASE_URL."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For Application.builder().base_file_url(...)."""
        return f"{self.url}/file/bot"

    def bot_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """os.environ plus what a bot process needs to reach this server."""
        env = dict(os.environ)
        env.update(
            TELEGRAM_BOT_TOKEN=self.token,
            TELEGRAM_BASE_URL=self.base_url,
            TELEGRAM_BASE_FILE_URL=self.base_file_url,
            PYTHONUNBUFFERED="1",
        )
        env.update(extra or {})
        return env

    def make_bot(self, **kwargs: Any) -> Any:
        """A telegram.Bot wired to this server (use as `async with server.make_bot() as bot`).

        Plain HTTP to 127.0.0.1 needs no certificates; skipping the CA bundle makes a Bot
        ~20x cheaper to build, which matters when every test builds one.
        """
        from telegram import Bot
        from telegram.request import HTTPXRequest

        def request() -> HTTPXRequest:
            return HTTPXRequest(httpx_kwargs={"verify": False})

        kwargs.setdefault("request", request())
        kwargs.setdefault("get_updates_request", request())
        return Bot(self.token, base_url=self.base_url, base_file_url=self.base_file_url, **kwargs)

    def reset(self) -> None:
        """Forget what tests did: calls, pending updates, chats, messages, faults, limits.

        Keeps token, port and what a running bot depends on (update-id sequence, webhook,
        long polls), so one bot process can serve many tests; allowed_updates goes back to
        Telegram's default.
        """
        self._reset_state()
        self._notify()

    def clear(self) -> None:
        """Forget recorded calls and sent messages only."""
        with self._lock:
            self._calls = []
            self._sent = []
            self._marks = {}
            self._stats = Counter()

    # ------------------------------------------------------------------ method names

    def _method_set(self, method: str | Iterable[str] | None) -> frozenset[str] | None:
        if method is None or method == "*":
            return None
        names = [method] if isinstance(method, str) else list(method)
        return frozenset(self._canonical(m) for m in names)

    def _canonical(self, method: str) -> str:
        fn = self._methods.get(method.lower())
        if fn is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        return fn.__name__.removeprefix("_api_")

    # ------------------------------------------------------------------ HTTP plumbing

    def _notify(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake_in_loop)

    async def _read_params(self, request: web.Request) -> tuple[dict, dict[str, _Upload]]:
        params: dict[str, Any] = {k: decode_form_value(k, v) for k, v in request.query.items()}
        files: dict[str, _Upload] = {}
        if request.method != "POST" or not request.can_read_body:
            return params, files
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise bad_request("JSON object expected")
            params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = _Upload(value.filename, value.content_type, value.file.read())
                else:
                    params[key] = decode_form_value(key, str(value))
        return params, files

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        received, started = time.time(), time.monotonic()
        token = request.match_info["token"]
        if token != self.token:
            code, text = (
                (401, "Unauthorized") if re.fullmatch(r"\d+:[\w-]+", token) else (404, "Not Found")
            )
            return _envelope_error(ApiError(code, text))
        fn = self._methods.get(request.match_info["method"].lower())
        if fn is None:
            return _envelope_error(ApiError(404, "Not Found"))
        method = fn.__name__.removeprefix("_api_")
        try:
            params, files = await self._read_params(request)
        except ApiError as exc:
            return _envelope_error(exc)
        if method == "getUpdates":
            return await self._handle_get_updates(params, received, started)
        # Shielded: a client that gives up does not stop a call that reached "Telegram".
        outcome = await asyncio.shield(self._process(method, fn, params, files, received, started))
        if outcome is None:
            assert request.transport is not None
            request.transport.abort()
            return web.Response(status=500)
        return outcome

    async def _process(
        self,
        method: str,
        fn: Callable[[dict, dict], Any],
        params: dict,
        files: dict[str, _Upload],
        received: float,
        started: float,
    ) -> web.Response | None:
        latency = self._latency.get(method, self._latency.get(None, 0.0))
        if latency:
            await asyncio.sleep(latency)
        sizes = {name: len(upload.data) for name, upload in files.items()}
        chat_id = params.get("chat_id")
        fault = self._take_fault(method, chat_id)
        result: Any = None
        error: ApiError | None = None
        if fault is not None and not fault.disconnect:
            error = ApiError(fault.code, fault.description, fault.parameters)
            with self._lock:
                self._stats["injected_errors"] += 1
        elif fault is None or fault.processed:
            try:
                with self._lock:
                    if method in CHAT_METHODS and chat_id is not None:
                        self._check_chat(method, chat_id)
                    result = fn(params, files)
            except ApiError as exc:
                error = exc
        dropped = fault is not None and fault.disconnect
        if dropped and error is None and not fault.processed:
            error = ApiError(0, "connection dropped before processing")
        with self._cond:
            call = Call(
                index=len(self._calls),
                method=method,
                params=params,
                time=received,
                duration=time.monotonic() - started,
                ok=error is None,
                result=result,  # every _api_ method returns a fresh snapshot
                error_code=error.code if error else None,
                description=error.description if error else None,
                parameters=error.parameters if error else None,
                files=sizes,
                dropped=dropped,
            )
            self._calls.append(call)
            if error is None and method in SEND_METHODS:
                self._stats["sent"] += 1
                sent = self._sent_message_for(method, params, result)
                if sent is not None:
                    self._sent.append((call.index, sent))
            self._cond.notify_all()
        if dropped:
            return None
        if error is not None:
            return _envelope_error(error)
        return _envelope_ok(result)

    def _sent_message_for(self, method: str, params: dict, result: Any) -> dict | None:
        if isinstance(result, dict) and "chat" in result:
            return result  # a snapshot already; readers get copies via sent_messages()
        if method == "copyMessage" and isinstance(result, dict):
            chat_id = self._resolve_chat_id(params["chat_id"])
            return copy.deepcopy(self._messages.get((chat_id, result["message_id"])))
        return None

    # ------------------------------------------------------------------ Bot API methods
    # Each _api_<method>(params, files) runs under self._lock in the server loop and returns
    # the "result" or raises ApiError.

    def _api_logOut(self, params: dict, files: dict) -> bool:
        return True

    def _api_close(self, params: dict, files: dict) -> bool:
        return True
