"""The Bot API on the wire: parameters (JSON, form, multipart, query) and answer envelopes."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from tests.botapi.records import ApiError, bad_request

# Telegram types these as strings; everything else PTB JSON-encodes in form bodies.
_STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_query_id",
        "inline_message_id",
        "url",
        "secret_token",
        "ip_address",
        "action",
        "next_offset",
        "switch_pm_text",
        "switch_pm_parameter",
        "description",
        "short_description",
        "name",
        "title",
        "language_code",
        "emoji",
        "file_id",
        "photo",
        "document",
        "voice",
        "sticker",
        "audio",
        "video",
        "animation",
        "thumbnail",
        "message_effect_id",
        "business_connection_id",
    }
)


_JSON_LIKE = re.compile(r'^(?:[{\["]|-?\d|true$|false$|null$)')


def decode_form_value(name: str, value: str) -> Any:
    """Undo PTB's form encoding: strings are sent raw, everything else as JSON."""
    if name in _STRING_PARAMS or not _JSON_LIKE.match(value):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _as_int(params: dict, name: str, *, required: bool = True) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise bad_request(f"{name} is empty")
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def _envelope_ok(result: Any) -> web.Response:
    body = json.dumps({"ok": True, "result": result}, ensure_ascii=False)
    return web.Response(text=body, content_type="application/json")


def _envelope_error(error: ApiError) -> web.Response:
    payload: dict[str, Any] = {
        "ok": False,
        "error_code": error.code,
        "description": error.description,
    }
    if error.parameters:
        payload["parameters"] = error.parameters
    return web.Response(
        status=error.code or 500,
        text=json.dumps(payload, ensure_ascii=False),
        content_type="application/json",
    )
