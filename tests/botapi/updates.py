"""How updates reach the bot: privacy mode, the queue, long polling and webhook delivery."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import re
import time
from typing import Any

from aiohttp import ClientSession, ClientTimeout, web

from tests.botapi.messages import _entity_text
from tests.botapi.process import BotProcess
from tests.botapi.records import (
    CONFLICT_POLL,
    CONFLICT_WEBHOOK,
    DEFAULT_ALLOWED,
    SERVICE_FIELDS,
    ApiError,
    Call,
    WaitTimeout,
    bad_request,
)
from tests.botapi.wire import _as_int, _envelope_error, _envelope_ok


class Updates:
    """Part of BotApiServer (server.py), whose state it uses."""

    def set_privacy_mode(self, enabled: bool) -> None:
        with self._lock:
            self.privacy_mode = enabled

    def _deliver_message(self, message: dict, kind: str = "message") -> dict:
        chat_id = message["chat"]["id"]
        if kind == "message" and not self._bot_sees(message):
            with self._lock:
                self._filtered.append(message)
                self._mark(chat_id)
            return message
        self.inject_update({kind: message}, chat_id=chat_id)
        return message

    def _bot_sees(self, message: dict) -> bool:
        """Telegram's privacy mode: what a bot that is not an admin gets from a group."""
        chat = message["chat"]
        if chat["type"] not in ("group", "supergroup") or not self.privacy_mode:
            return True
        if self._admins.get(chat["id"], {}).get("bot"):
            return True
        if SERVICE_FIELDS & message.keys():
            return True
        if message.get("via_bot", {}).get("id") == self.bot_id:
            return True
        if message.get("reply_to_message", {}).get("from", {}).get("id") == self.bot_id:
            return True
        text = message.get("text") or message.get("caption") or ""
        for entity in message.get("entities") or message.get("caption_entities") or []:
            value = _entity_text(text, entity)
            if entity["type"] == "bot_command":
                target = value.partition("@")[2]
                if entity["offset"] == 0 and (
                    not target or target.lower() == self.bot_username.lower()
                ):
                    return True
            if entity["type"] == "mention" and value[1:].lower() == self.bot_username.lower():
                return True
        return False

    def inject_update(self, payload: dict, *, chat_id: int | None = None) -> dict | None:
        """Queue a raw update ({"message": {...}} etc.); update_id is assigned here.

        Returns the update, or None when the bot's allowed_updates excludes its type.
        """
        kind = next(iter(payload))
        with self._lock:
            self._mark(chat_id)
            self._stats["updates_injected"] += 1
            if kind not in self._allowed:
                self._stats["updates_not_allowed"] += 1
                return None
            update = {"update_id": self._next_update_id, **copy.deepcopy(payload)}
            self._next_update_id += 1
            self._updates.append(update)
        self._notify()
        return update

    def _mark(self, chat_id: Any) -> None:
        mark = len(self._calls)
        self._marks[None] = mark
        if chat_id is not None:
            self._marks[chat_id] = mark

    def pending_updates(self) -> list[dict]:
        with self._lock:
            return copy.deepcopy(self._updates)

    def webhook_info(self) -> dict:
        with self._lock:
            return copy.deepcopy({**self._webhook, **self._webhook_error})

    @property
    def polling(self) -> bool:
        """Whether a getUpdates long poll is waiting right now."""
        with self._lock:
            return self._active_polls > 0

    @property
    def poll_count(self) -> int:
        """How many getUpdates requests have started so far."""
        with self._lock:
            return self._poll_seq

    def wait_until_polling(
        self,
        timeout: float = 30.0,
        *,
        after: int | None = None,
        process: BotProcess | None = None,
    ) -> None:
        """Block until a bot is waiting in a long poll (or has set a webhook).

        after=poll_count taken before launching a bot ignores older pollers; a `process` that
        exits meanwhile fails fast with its log.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                polling = self._active_polls > 0 and (after is None or self._poll_seq > after)
                if polling or self._webhook.get("url"):
                    return
                if process is not None and process.returncode is not None:
                    raise WaitTimeout(
                        self._dump(f"bot process exited with {process.returncode} before polling")
                    )
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise WaitTimeout(self._dump(f"no bot started polling within {timeout}s"))
                self._cond.wait(min(remaining, 0.2))

    def _wake_in_loop(self) -> None:
        event = getattr(self, "_event", None)
        if event is None:
            return
        self._event = asyncio.Event()
        event.set()
        with self._lock:
            if self._webhook.get("url") and not self._webhook_tasks_alive():
                self._start_webhook_workers()

    async def _handle_get_updates(
        self, params: dict, received: float, started: float
    ) -> web.Response:
        def finish(result: Any = None, error: ApiError | None = None) -> web.Response:
            with self._cond:
                self._calls.append(
                    Call(
                        index=len(self._calls),
                        method="getUpdates",
                        params=params,
                        time=received,
                        duration=time.monotonic() - started,
                        ok=error is None,
                        result=result,
                        error_code=error.code if error else None,
                        description=error.description if error else None,
                    )
                )
                self._cond.notify_all()
            return _envelope_error(error) if error else _envelope_ok(result)

        try:
            offset = _as_int(params, "offset", required=False)
            limit = min(max(_as_int(params, "limit", required=False) or 100, 1), 100)
            timeout = float(params.get("timeout") or 0)
        except (ApiError, ValueError):
            return finish(error=bad_request("wrong parameter in getUpdates"))
        fault = self._take_fault("getUpdates", None)
        if fault is not None and not fault.disconnect:
            return finish(error=ApiError(fault.code, fault.description, fault.parameters))
        with self._cond:
            if self._webhook.get("url"):
                return finish(error=ApiError(409, CONFLICT_WEBHOOK))
            allowed = params.get("allowed_updates")
            if allowed is not None:
                self._allowed = frozenset(allowed) if allowed else DEFAULT_ALLOWED
            self._confirm(offset)
            self._poll_generation += 1
            self._poll_seq += 1
            generation = self._poll_generation
            self._active_polls += 1
            self._cond.notify_all()
        self._wake_in_loop()  # an older poller must now answer 409
        deadline = time.monotonic() + timeout
        try:
            while True:
                event = self._event
                with self._lock:
                    if generation != self._poll_generation:
                        return finish(error=ApiError(409, CONFLICT_POLL))
                    if self._webhook.get("url"):
                        return finish(error=ApiError(409, CONFLICT_WEBHOOK))
                    batch = copy.deepcopy(self._updates[:limit])
                if batch or self._closing:
                    return finish(batch)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return finish([])
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), remaining)
        finally:
            with self._cond:
                self._active_polls -= 1
                self._cond.notify_all()

    def _confirm(self, offset: int | None) -> None:
        """Telegram forgets updates once a getUpdates asks for a higher offset."""
        if offset is None:
            return
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    def _webhook_tasks_alive(self) -> bool:
        return any(not t.done() for t in getattr(self, "_webhook_tasks", []))

    def _start_webhook_workers(self) -> None:
        for _ in range(min(self.webhook_concurrency, self._webhook.get("max_connections", 40))):
            self._webhook_tasks.append(
                asyncio.get_running_loop().create_task(self._webhook_worker())
            )

    def _stop_webhook_workers(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._stop_webhook_workers_in_loop)

    def _stop_webhook_workers_in_loop(self) -> None:
        for task in getattr(self, "_webhook_tasks", []):
            task.cancel()
        self._webhook_tasks = []

    async def _webhook_worker(self) -> None:
        in_flight = self._in_flight
        failures = 0
        while not self._closing:
            event = self._event
            with self._lock:
                url = self._webhook.get("url")
                if not url:
                    return
                secret = self._webhook.get("secret_token")
                update = next((u for u in self._updates if u["update_id"] not in in_flight), None)
                if update is not None:
                    in_flight.add(update["update_id"])
            if update is None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), 1.0)
                continue
            headers = {"Content-Type": "application/json"}
            if secret:
                headers["X-Telegram-Bot-Api-Secret-Token"] = secret
            error = None
            try:
                if self._session is None:
                    self._session = ClientSession(timeout=ClientTimeout(total=30))
                body = json.dumps(update, ensure_ascii=False).encode()
                async with self._session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    if not 200 <= response.status < 300:
                        error = (
                            f"Wrong response from the webhook: {response.status} {response.reason}"
                        )
            except Exception as exc:
                error = f"Connection failed: {exc!r}"
            with self._lock:
                in_flight.discard(update["update_id"])
                if error is None:
                    self._updates = [
                        u for u in self._updates if u["update_id"] != update["update_id"]
                    ]
                    self._stats["webhook_delivered"] += 1
                    failures = 0
                else:
                    self._webhook_error = {
                        "last_error_date": int(self.clock()),
                        "last_error_message": error,
                    }
                    self._stats["webhook_errors"] += 1
                    failures += 1
            if error is not None:
                # Telegram backs off too; tests want quick recovery once the bot listens.
                await asyncio.sleep(min(0.05 * 2**failures, 1.0))

    def _api_getUpdates(self, params: dict, files: dict) -> list:  # pragma: no cover - routed
        raise AssertionError("getUpdates is handled by _handle_get_updates")

    def _api_setWebhook(self, params: dict, files: dict) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if url and not re.match(r"^https?://", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if params.get("drop_pending_updates"):
            self._updates = []
        if params.get("allowed_updates") is not None:
            self._allowed = frozenset(params["allowed_updates"]) or DEFAULT_ALLOWED
        self._webhook_error = {}
        if not url:
            self._webhook = {}
        else:
            self._webhook = {
                "url": url,
                "secret_token": secret,
                "max_connections": int(params.get("max_connections") or 40),
            }
        self._cond.notify_all()
        self._notify()
        return True

    def _api_deleteWebhook(self, params: dict, files: dict) -> bool:
        if params.get("drop_pending_updates"):
            self._updates = []
        self._webhook = {}
        self._webhook_error = {}
        self._stop_webhook_workers()
        return True

    def _api_getWebhookInfo(self, params: dict, files: dict) -> dict:
        info: dict[str, Any] = {
            "url": self._webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook.get("url"):
            info["max_connections"] = self._webhook["max_connections"]
            if self._allowed != DEFAULT_ALLOWED:
                info["allowed_updates"] = sorted(self._allowed)
        info.update(self._webhook_error)
        return info
