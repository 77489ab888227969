"""The bot's messages.

Sending text, formatting and keyboards, copies and forwards, edits, deletions, and answers to
callback and inline queries.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from tests.botapi.entities import _trim, parse_html, parse_markdown, parse_markdown_v2, utf16_len
from tests.botapi.records import BUTTON_ACTIONS, CHAT_ACTIONS, MAX_CAPTION, MAX_TEXT, bad_request
from tests.botapi.wire import _as_int


def _without_reply(message: dict) -> dict:
    """Telegram nests reply_to_message only one level deep."""
    return copy.deepcopy({k: v for k, v in message.items() if k != "reply_to_message"})


def _entity_text(text: str, entity: dict) -> str:
    encoded = text.encode("utf-16-le")
    start, end = entity["offset"] * 2, (entity["offset"] + entity["length"]) * 2
    return encoded[start:end].decode("utf-16-le", errors="replace")


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise bad_request(
            "can't parse inline keyboard button: InlineKeyboardButton must be an Object"
        )
    if not str(button.get("text", "")).strip():
        raise bad_request("BUTTON_TEXT_INVALID")
    actions = [a for a in BUTTON_ACTIONS if a in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = str(button["callback_data"])
        if not 1 <= len(data.encode()) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not re.match(r"^(https?|tg)://[^\s]+$", str(button["url"])):
        raise bad_request(
            f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL"
        )


class Messages:
    """Part of BotApiServer (server.py), whose state it uses."""

    def _resolve_chat_id(self, value: Any) -> int:
        if isinstance(value, str) and value.startswith("@"):
            for chat in self._chats.values():
                if chat.get("username", "").lower() == value[1:].lower():
                    return chat["id"]
            raise bad_request("chat not found")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request("chat not found") from None

    def _target_chat(self, params: dict) -> int:
        if params.get("chat_id") in (None, ""):
            raise bad_request("chat_id is empty")
        return self._resolve_chat_id(params["chat_id"])

    def _format(
        self, text: str, parse_mode: str | None, entities: list | None
    ) -> tuple[str, list[dict]]:
        mode = (parse_mode or "").lower()
        if mode == "html":
            text, found = parse_html(text)
        elif mode == "markdownv2":
            text, found = parse_markdown_v2(text)
        elif mode == "markdown":
            text, found = parse_markdown(text)
        elif mode:
            raise bad_request(f"unsupported parse_mode {parse_mode}")
        else:
            found = list(entities or [])
        return _trim(text, found)

    def _check_markup(self, markup: Any, chat_id: int | None) -> dict | None:
        """Validate reply_markup; returns what a Message carries (inline keyboards only)."""
        if markup in (None, ""):
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows = markup["inline_keyboard"]
            if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
                raise bad_request(
                    'field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays'
                )
            for row in rows:
                for button in row:
                    _check_inline_button(button)
            return {"inline_keyboard": rows}
        if "keyboard" in markup:
            rows = markup["keyboard"]
            texts = []
            for row in rows:
                texts.append([b if isinstance(b, str) else b.get("text", "") for b in row])
                if any(not t for t in texts[-1]):
                    raise bad_request("BUTTON_TEXT_INVALID")
            if chat_id is not None:
                self._keyboards[chat_id] = texts
            return None
        if markup.get("remove_keyboard"):
            if chat_id is not None:
                self._keyboards[chat_id] = None
            return None
        if markup.get("force_reply"):
            return None
        raise bad_request("can't parse reply keyboard markup JSON object")

    def _reply_target(self, params: dict, chat_id: int) -> dict | None:
        reply = params.get("reply_parameters")
        message_id = None
        allow_missing = bool(params.get("allow_sending_without_reply"))
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = allow_missing or bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") not in (None, chat_id):
                chat_id = self._resolve_chat_id(reply["chat_id"])
        elif params.get("reply_to_message_id") is not None:
            message_id = params["reply_to_message_id"]
        if message_id is None:
            return None
        original = self._messages.get((chat_id, int(message_id)))
        if original is None and not allow_missing:
            raise bad_request("message to be replied not found")
        return _without_reply(original) if original else None

    def _bot_message(
        self, chat_id: int, params: dict, fields: dict, markup_chat: bool = True
    ) -> dict:
        chat = self._chat_for(chat_id)
        reply = self._reply_target(params, chat_id)
        markup = self._check_markup(params.get("reply_markup"), chat_id if markup_chat else None)
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "from": self.bot_user,
            "chat": chat,
            "date": int(self.clock()),
        }
        if reply:
            message["reply_to_message"] = reply
        message.update(fields)
        if markup:
            message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        return copy.deepcopy(message)

    def _api_sendMessage(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        raw = params.get("text")
        if raw is None or raw == "":
            raise bad_request("message text is empty")
        text, entities = self._format(str(raw), params.get("parse_mode"), params.get("entities"))
        if not text:
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        fields: dict[str, Any] = {"text": text}
        if entities:
            fields["entities"] = entities
        if isinstance(params.get("link_preview_options"), dict):
            fields["link_preview_options"] = params["link_preview_options"]
        return self._bot_message(chat_id, params, fields)

    def _caption_fields(self, params: dict) -> dict:
        raw = params.get("caption")
        if not raw:
            return {}
        text, entities = self._format(
            str(raw), params.get("parse_mode"), params.get("caption_entities")
        )
        if utf16_len(text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        fields: dict[str, Any] = {"caption": text} if text else {}
        if entities:
            fields["caption_entities"] = entities
        return fields

    def _api_sendChatAction(self, params: dict, files: dict) -> bool:
        self._target_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _source_message(self, params: dict) -> dict:
        if params.get("from_chat_id") in (None, ""):
            raise bad_request("from_chat_id is empty")
        from_chat = self._resolve_chat_id(params["from_chat_id"])
        message_id = _as_int(params, "message_id")
        original = self._messages.get((from_chat, message_id))
        if original is None:
            raise bad_request("message to copy not found")
        return original

    _CONTENT_FIELDS = (
        "text",
        "entities",
        "photo",
        "document",
        "voice",
        "sticker",
        "caption",
        "caption_entities",
        "contact",
    )

    def _api_copyMessage(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        original = self._source_message(params)
        fields = {k: copy.deepcopy(v) for k, v in original.items() if k in self._CONTENT_FIELDS}
        if "caption" in params:
            fields.pop("caption", None)
            fields.pop("caption_entities", None)
            fields.update(self._caption_fields(params))
        message = self._bot_message(chat_id, params, fields)
        return {"message_id": message["message_id"]}

    def _api_forwardMessage(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        original = self._source_message(params)
        fields = {k: copy.deepcopy(v) for k, v in original.items() if k in self._CONTENT_FIELDS}
        sender = original.get("from", {})
        fields["forward_origin"] = {"type": "user", "sender_user": sender, "date": original["date"]}
        params = {k: v for k, v in params.items() if k != "reply_markup"}
        return self._bot_message(chat_id, params, fields)

    def _edit_target(self, params: dict) -> dict | None:
        """The stored message an edit refers to; None for inline messages."""
        if params.get("inline_message_id"):
            return None
        chat_id = self._target_chat(params)
        message_id = _as_int(params, "message_id")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise bad_request("message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise bad_request("message can't be edited")
        return message

    def _apply_edit(
        self, message: dict | None, changes: dict, markup: dict | None, params: dict
    ) -> dict | bool:
        if message is None:
            return True
        before = {k: message.get(k) for k in (*changes, "reply_markup")}
        after = {**changes, "reply_markup": markup}
        if before == after:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for key, value in after.items():
            if value is None:
                message.pop(key, None)
            else:
                message[key] = value
        message["edit_date"] = int(self.clock())
        return copy.deepcopy(message)

    def _api_editMessageText(self, params: dict, files: dict) -> dict | bool:
        message = self._edit_target(params)
        raw = params.get("text")
        if not raw:
            raise bad_request("message text is empty")
        text, entities = self._format(str(raw), params.get("parse_mode"), params.get("entities"))
        if not text:
            raise bad_request("message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise bad_request("MESSAGE_TOO_LONG")
        if message is not None and "text" not in message:
            raise bad_request("there is no text in the message to edit")
        markup = self._check_markup(params.get("reply_markup"), None)
        return self._apply_edit(
            message, {"text": text, "entities": entities or None}, markup, params
        )

    def _api_editMessageCaption(self, params: dict, files: dict) -> dict | bool:
        message = self._edit_target(params)
        fields = self._caption_fields(params)
        markup = self._check_markup(params.get("reply_markup"), None)
        changes = {
            "caption": fields.get("caption"),
            "caption_entities": fields.get("caption_entities"),
        }
        return self._apply_edit(message, changes, markup, params)

    def _api_editMessageReplyMarkup(self, params: dict, files: dict) -> dict | bool:
        message = self._edit_target(params)
        markup = self._check_markup(params.get("reply_markup"), None)
        return self._apply_edit(message, {}, markup, params)

    def _api_deleteMessage(self, params: dict, files: dict) -> bool:
        chat_id = self._target_chat(params)
        message_id = _as_int(params, "message_id")
        if self._messages.pop((chat_id, message_id), None) is None:
            raise bad_request("message to delete not found")
        return True

    def _api_deleteMessages(self, params: dict, files: dict) -> bool:
        chat_id = self._target_chat(params)
        for message_id in params.get("message_ids") or []:
            self._messages.pop((chat_id, int(message_id)), None)
        return True

    def _api_answerCallbackQuery(self, params: dict, files: dict) -> bool:
        query = self._callbacks.get(str(params.get("callback_query_id", "")))
        if query is None or query["answered"]:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text") or "")) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        query["answered"] = True
        return True

    def _api_answerInlineQuery(self, params: dict, files: dict) -> bool:
        query = self._inline.get(str(params.get("inline_query_id", "")))
        if query is None or query["answered"]:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params.get("results")
        if not isinstance(results, list):
            raise bad_request("can't parse inline query results JSON object")
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        seen: set[str] = set()
        for result in results:
            result_id = str(result.get("id", ""))
            if not result.get("type") or not result_id or len(result_id.encode()) > 64:
                raise bad_request("RESULT_ID_INVALID")
            if result_id in seen:
                raise bad_request("RESULT_ID_DUPLICATE")
            seen.add(result_id)
            if result["type"] == "article" and not result.get("title"):
                raise bad_request("RESULT_TITLE_EMPTY")
            content = result.get("input_message_content")
            if content is not None and "message_text" in content:
                text, _ = self._format(
                    content["message_text"], content.get("parse_mode"), content.get("entities")
                )
                if not text:
                    raise bad_request("MESSAGE_EMPTY")
                if utf16_len(text) > MAX_TEXT:
                    raise bad_request("MESSAGE_TOO_LONG")
            if result.get("reply_markup"):
                self._check_markup(result["reply_markup"], None)
        query["answered"] = True
        query["results"] = copy.deepcopy(results)
        return True
