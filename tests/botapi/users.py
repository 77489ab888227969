"""What users do: messages, edits, media, button presses and inline queries.

Each is queued as the update Telegram would send.
"""

from __future__ import annotations

import copy
import secrets
from typing import Any

from tests.botapi.entities import auto_entities
from tests.botapi.messages import _without_reply

ANONYMOUS_ADMIN = 1087968824  # Telegram's GroupAnonymousBot, "from" of an anonymous admin


class Users:
    """Part of BotApiServer (server.py), whose state it uses."""

    def _next_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 0) + 1
        return self._message_ids[chat_id]

    def _user_message(
        self,
        user_id: int,
        chat_id: int | None,
        chat_type: str | None,
        *,
        reply_to_message_id: int | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        chat_title: str | None = None,
        fields: dict,
    ) -> dict:
        with self._lock:
            user = self.add_user(
                user_id, first_name=first_name, last_name=last_name, username=username
            )
            if chat_id is None:
                chat_id = user_id
            if chat_id in self._migrated:
                raise ValueError(f"chat {chat_id} was migrated to {self._migrated[chat_id]}")
            if chat_type == "private" or (chat_type is None and chat_id == user_id):
                if chat_id != user_id:
                    raise ValueError("a private chat's id is the user's id")
                chat = self._private_chat(user_id)
                self._blocked.discard(user_id)  # writing to the bot means it is unblocked
            else:
                chat = self._ensure_group(chat_id, chat_type, chat_title)
            message = {
                "message_id": self._next_message_id(chat_id),
                "from": user,
                "chat": copy.deepcopy(chat),
                "date": int(self.clock()),
                **fields,
            }
            if reply_to_message_id is not None:
                original = self._messages.get((chat_id, reply_to_message_id))
                if original is None:
                    raise ValueError(f"no message {reply_to_message_id} in chat {chat_id}")
                message["reply_to_message"] = _without_reply(original)
            self._messages[(chat_id, message["message_id"])] = message
            return copy.deepcopy(message)

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        chat_type: str | None = None,
        reply_to_message_id: int | None = None,
        entities: list[dict] | str | None = "auto",
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        chat_title: str | None = None,
        as_the_group: bool = False,
    ) -> dict:
        """A user writes `text` (private chat unless chat_id is a group). Returns the Message.

        entities="auto" detects /commands, @mentions, links and e-mails like Telegram.
        In groups with privacy mode on, messages the bot would not see are kept out of its
        updates (see filtered_messages()). as_the_group: an anonymous admin posts in the
        group's name (sender_chat is the group; Telegram shows GroupAnonymousBot as "from").
        """
        if entities == "auto":
            entities = auto_entities(text)
        fields: dict[str, Any] = {"text": text}
        if as_the_group:
            if chat_id is None:
                raise ValueError("only in a group can one post as the group")
            user_id, username, first_name = ANONYMOUS_ADMIN, "GroupAnonymousBot", "Group"
            with self._lock:
                fields["sender_chat"] = copy.deepcopy(self._ensure_group(chat_id, chat_type,
                                                                         chat_title))
        if entities:
            fields["entities"] = entities
        message = self._user_message(
            user_id,
            chat_id,
            chat_type,
            reply_to_message_id=reply_to_message_id,
            first_name=first_name,
            last_name=last_name,
            username=username,
            chat_title=chat_title,
            fields=fields,
        )
        return self._deliver_message(message)

    def edit_text(self, user_id: int, message: dict, text: str) -> dict:
        """The user edits one of their messages: an edited_message update."""
        with self._lock:
            key = (message["chat"]["id"], message["message_id"])
            stored = self._messages[key]
            stored["text"] = text
            stored["edit_date"] = int(self.clock())
            entities = auto_entities(text)
            stored.pop("entities", None)
            if entities:
                stored["entities"] = entities
            edited = copy.deepcopy(stored)
        return self._deliver_message(edited, "edited_message")

    def _media_message(
        self,
        user_id: int,
        chat_id: int | None,
        chat_type: str | None,
        caption: str | None,
        fields: dict,
    ) -> dict:
        if caption:
            fields["caption"] = caption
            caption_entities = auto_entities(caption)
            if caption_entities:
                fields["caption_entities"] = caption_entities
        return self._deliver_message(self._user_message(user_id, chat_id, chat_type, fields=fields))

    def _user_file(self, data: bytes, *, file_size: int | None = None, **extra: Any) -> dict:
        """A file a user sent. file_size is what Telegram reports (default: len(data)), so a
        test can stand for a huge file without moving its bytes."""
        size = len(data) if file_size is None else file_size
        with self._lock:
            self._seq += 1
            file_id = f"BQACAgUAAx{self._seq:08d}{secrets.token_hex(4)}"
            unique = f"AgAD{self._seq:06d}"
            self._files[file_id] = {
                "data": data,
                "size": size,
                "unique": unique,
                "path": f"user/file_{self._seq}",
            }
        return {"file_id": file_id, "file_unique_id": unique, "file_size": size, **extra}

    def send_voice(
        self,
        user_id: int,
        *,
        duration: int = 3,
        chat_id: int | None = None,
        chat_type: str | None = None,
        caption: str | None = None,
    ) -> dict:
        voice = self._user_file(b"OggS" + bytes(2000), duration=duration, mime_type="audio/ogg")
        return self._media_message(user_id, chat_id, chat_type, caption, {"voice": voice})

    def send_sticker(
        self,
        user_id: int,
        *,
        emoji: str = "👍",
        chat_id: int | None = None,
        chat_type: str | None = None,
        is_animated: bool = False,
    ) -> dict:
        sticker = self._user_file(
            b"RIFF\x00\x00\x00\x00WEBP" + bytes(1000),
            width=512,
            height=512,
            emoji=emoji,
            is_animated=is_animated,
            is_video=False,
            type="regular",
            set_name="TestStickers",
        )
        return self._media_message(user_id, chat_id, chat_type, None, {"sticker": sticker})

    def send_photo(
        self,
        user_id: int,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str | None = None,
        width: int = 1280,
        height: int = 960,
        data: bytes | None = None,
    ) -> dict:
        """A photo from a user; `data` is the picture the bot downloads (getFile + file URL).

        Without `data`, bytes that only look like a JPEG. The thumbnail is the same picture's
        first bytes: a bot should read the largest size."""
        data = b"\xff\xd8\xff\xe0" + bytes(3000) if data is None else data
        sizes = [
            self._user_file(data[:1000], width=max(1, width // 16), height=max(1, height // 16)),
            self._user_file(data, width=width, height=height),
        ]
        return self._media_message(user_id, chat_id, chat_type, caption, {"photo": sizes})

    def send_document(
        self,
        user_id: int,
        *,
        file_name: str = "证明.pdf",
        data: bytes = b"%PDF-1.4\n" + bytes(500),
        mime_type: str = "application/pdf",
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str | None = None,
        file_size: int | None = None,
    ) -> dict:
        document = self._user_file(data, file_name=file_name, mime_type=mime_type,
                                   file_size=file_size)
        return self._media_message(user_id, chat_id, chat_type, caption, {"document": document})

    def send_animation(
        self,
        user_id: int,
        *,
        data: bytes = b"\x00\x00\x00\x18ftypmp42" + bytes(2000),
        mime_type: str = "video/mp4",
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str | None = None,
    ) -> dict:
        """A GIF as Telegram delivers it: an `animation` (usually converted to MP4), and the
        same file as `document` too, as the Bot API does for backward compatibility."""
        animation = self._user_file(data, file_name="animation.gif.mp4", mime_type=mime_type,
                                    width=320, height=240, duration=2)
        document = {k: animation[k] for k in ("file_id", "file_unique_id", "file_size",
                                              "file_name", "mime_type")}
        return self._media_message(user_id, chat_id, chat_type, caption,
                                   {"animation": animation, "document": document})

    def send_contact(self, user_id: int, phone_number: str, *, chat_id: int | None = None) -> dict:
        with self._lock:
            first = (self._users.get(user_id) or self.add_user(user_id))["first_name"]
        contact = {"phone_number": phone_number, "first_name": first, "user_id": user_id}
        return self._media_message(user_id, chat_id, None, None, {"contact": contact})

    def press_button(
        self,
        user_id: int,
        message: dict | int,
        data: str | None = None,
        *,
        text: str | None = None,
        chat_id: int | None = None,
    ) -> str:
        """The user presses an inline button on a message the bot sent.

        message is the Message dict (or its message_id with chat_id); the button is chosen by
        callback `data` or by its visible `text`. Raises LookupError when the message (as it
        is now, after edits) has no such button. Returns the callback query id.
        """
        if isinstance(message, dict):
            chat_id, message_id = message["chat"]["id"], message["message_id"]
        else:
            message_id = message
        if chat_id is None:
            raise ValueError("press_button(message_id) needs chat_id")
        with self._lock:
            current = self._messages.get((chat_id, message_id))
            if current is None:
                raise LookupError(
                    f"message {message_id} in chat {chat_id} does not exist (deleted?)"
                )
            buttons = [
                b for row in current.get("reply_markup", {}).get("inline_keyboard", []) for b in row
            ]
            chosen = [
                b
                for b in buttons
                if "callback_data" in b
                and (data is None or b["callback_data"] == data)
                and (text is None or b["text"] == text)
            ]
            if not chosen or (data is None and text is None):
                listing = [(b.get("text"), b.get("callback_data")) for b in buttons]
                raise LookupError(
                    f"no button data={data!r} text={text!r} on message {message_id}; "
                    f"buttons: {listing}"
                )
            query = self._callback_query(user_id, chat_id, current, chosen[0]["callback_data"])
        self.inject_update({"callback_query": query}, chat_id=chat_id)
        return query["id"]

    def _callback_query(self, user_id: int, chat_id: int, message: dict, data: str) -> dict:
        """A new callback query from `user_id` on `message` (call with the lock held)."""
        user = self.add_user(user_id)
        self._seq += 1
        query_id = f"{self.bot_id % 10**6}{self._seq:012d}"
        self._callbacks[query_id] = {"answered": False, "user_id": user_id}
        return {
            "id": query_id,
            "from": user,
            "message": copy.deepcopy(message),
            "chat_instance": str(-(abs(chat_id) * 7919 % 10**18)),
            "data": data,
        }

    def forge_callback(self, user_id: int, message: dict, data: str) -> str:
        """A callback query with any `data`, as a modified client could send for `message`.

        Unlike press_button the data need not be on the message's buttons (ids out of range,
        garbage, old formats). Returns the callback query id.
        """
        chat_id, message_id = message["chat"]["id"], message["message_id"]
        with self._lock:
            current = self._messages.get((chat_id, message_id)) or message
            query = self._callback_query(user_id, chat_id, current, data)
        self.inject_update({"callback_query": query}, chat_id=chat_id)
        return query["id"]

    def inline_query(
        self, user_id: int, query: str, *, offset: str = "", chat_type: str = "sender"
    ) -> str:
        """The user types "@bot query" somewhere; returns the inline query id."""
        with self._lock:
            user = self.add_user(user_id)
            self._seq += 1
            query_id = f"{self.bot_id % 10**6}{self._seq:012d}"
            self._inline[query_id] = {"answered": False, "user_id": user_id, "query": query}
        payload = {
            "id": query_id,
            "from": user,
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        self.inject_update({"inline_query": payload}, chat_id=user_id)
        return query_id

    def inline_results(self, query_id: str) -> list[dict] | None:
        """What the bot answered to an inline query (None while unanswered)."""
        with self._lock:
            return copy.deepcopy(self._inline.get(query_id, {}).get("results"))

    def choose_inline_result(
        self, user_id: int, query_id: str, result_id: str, *, chat_id: int
    ) -> dict:
        """The user picks one of the bot's inline results and it is posted into chat_id.

        Returns the posted message (via_bot set); the bot receives it only when it is a member
        that would see it, as on Telegram.
        """
        with self._lock:
            results = self._inline.get(query_id, {}).get("results") or []
            result = next((r for r in results if r.get("id") == result_id), None)
            if result is None:
                raise LookupError(f"inline query {query_id} has no result {result_id!r}")
            content = result.get("input_message_content", {})
            text, entities = self._format(
                content.get("message_text", ""), content.get("parse_mode"), content.get("entities")
            )
        fields: dict[str, Any] = {"text": text, "via_bot": self.bot_user}
        if entities:
            fields["entities"] = entities
        if result.get("reply_markup"):
            fields["reply_markup"] = result["reply_markup"]
        message = self._user_message(user_id, chat_id, None, fields=fields)
        with self._lock:
            known = chat_id in self._chats and chat_id != user_id
        return self._deliver_message(message) if known else message
