"""Users, chats and members.

The chats the server knows, the bot joining, leaving and migrating groups, and the Bot API's
chat and member methods.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from tests.botapi.messages import _without_reply
from tests.botapi.records import MIGRATED, ApiError, bad_request
from tests.botapi.wire import _as_int


class Chats:
    """Part of BotApiServer (server.py), whose state it uses."""

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str | None = None,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
    ) -> dict:
        """Register (or update) a user; returns the User object as Telegram sends it."""
        with self._lock:
            user = self._users.get(user_id)
            if user is None:
                user = {
                    "id": user_id,
                    "is_bot": False,
                    "first_name": first_name or f"用户{user_id}",
                }
                if language_code:
                    user["language_code"] = language_code
                self._users[user_id] = user
            if first_name:
                user["first_name"] = first_name
            if last_name:
                user["last_name"] = last_name
            if username:
                user["username"] = username
            return copy.deepcopy(user)

    def add_chat(self, chat_id: int, chat_type: str = "group", *, title: str | None = None) -> dict:
        """Register a group/supergroup/channel chat; returns its Chat object."""
        with self._lock:
            chat = self._chats.setdefault(chat_id, {"id": chat_id, "type": chat_type})
            chat["type"] = chat_type
            if chat_type != "private":
                chat["title"] = title or chat.get("title") or f"测试群{abs(chat_id)}"
            return copy.deepcopy(chat)

    def set_chat_admins(
        self,
        chat_id: int,
        user_ids: Iterable[int],
        *,
        creator_id: int | None = None,
        bot_is_admin: bool = True,
    ) -> None:
        """Who getChatAdministrators/getChatMember report as admins of a group.

        creator_id (default: the first of user_ids) is the owner. An admin bot sees every
        group message even with privacy mode on, as on Telegram.
        """
        ids = list(user_ids)
        with self._lock:
            self._ensure_group(chat_id)
            for uid in ids:
                self.add_user(uid)
            if creator_id is None and ids:
                creator_id = ids[0]
            if creator_id is not None:
                self.add_user(creator_id)
            self._admins[chat_id] = {"ids": ids, "creator": creator_id, "bot": bot_is_admin}

    def _ensure_group(
        self, chat_id: int, chat_type: str | None = None, title: str | None = None
    ) -> dict:
        chat = self._chats.get(chat_id)
        if (
            chat is None
            or (chat_type and chat["type"] != chat_type)
            or (title and chat.get("title") != title)
        ):
            if chat_type is None:
                chat_type = (
                    chat["type"]
                    if chat
                    else ("supergroup" if str(chat_id).startswith("-100") else "group")
                )
            self.add_chat(chat_id, chat_type, title=title)
        return self._chats[chat_id]

    def _private_chat(self, user_id: int) -> dict:
        user = self._users.get(user_id) or self.add_user(user_id)
        chat = {"id": user_id, "first_name": user["first_name"], "type": "private"}
        for key in ("last_name", "username"):
            if key in user:
                chat[key] = user[key]
        self._chats[user_id] = chat
        return chat

    def _chat_for(self, chat_id: int) -> dict:
        """Chat object for a message in chat_id; unknown chats are invented unless strict."""
        chat = self._chats.get(chat_id)
        if chat is None:
            if self.strict_chats:
                raise bad_request("chat not found")
            chat = self._private_chat(chat_id) if chat_id > 0 else self._ensure_group(chat_id)
        return copy.deepcopy(chat)

    def add_bot_to_group(
        self,
        chat_id: int,
        *,
        title: str = "社区养老服务群",
        by_user_id: int = 1000,
        chat_type: str | None = None,
    ) -> dict:
        """A user adds the bot to a group: my_chat_member plus the new_chat_members message."""
        with self._lock:
            self._kicked.discard(chat_id)
            self._ensure_group(chat_id, chat_type, title)
        self._my_chat_member(chat_id, by_user_id, "left", "member")
        message = self._user_message(
            by_user_id,
            chat_id,
            None,
            fields={
                "new_chat_members": [self.bot_user],
                "new_chat_member": self.bot_user,
                "new_chat_participant": self.bot_user,
            },
        )
        return self._deliver_message(message)

    def join_group(self, chat_id: int, *, timeout: float = 10.0, **kwargs: Any) -> dict:
        """add_bot_to_group(), then wait for the bot's greeting there; returns the greeting.

        For bots that greet a group they are added to: later replies are then not mixed up
        with the greeting.
        """
        mark = self.mark()
        self.add_bot_to_group(chat_id, **kwargs)
        (greeting,) = self.wait_for_messages(chat_id, since=mark, timeout=timeout)
        return greeting

    def remove_bot_from_group(self, chat_id: int, *, by_user_id: int = 1000) -> None:
        """The bot is kicked: my_chat_member (kicked); later calls to the chat get 403."""
        with self._lock:
            self._kicked.add(chat_id)
        self._my_chat_member(chat_id, by_user_id, "member", "kicked")

    def _my_chat_member(self, chat_id: int, by_user_id: int, old: str, new: str) -> None:
        with self._lock:
            user = self.add_user(by_user_id)
            chat = self._chat_for(chat_id)

        def member(status: str) -> dict:
            body: dict[str, Any] = {"status": status, "user": self.bot_user}
            if status == "kicked":
                body["until_date"] = 0
            return body

        payload = {
            "chat": chat,
            "from": user,
            "date": int(self.clock()),
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        self.inject_update({"my_chat_member": payload}, chat_id=chat_id)

    def migrate_group(
        self, old_chat_id: int, new_chat_id: int, *, by_user_id: int = 1000
    ) -> tuple[dict, dict]:
        """Upgrade a group to a supergroup as Telegram does.

        Sends the migrate_to_chat_id service message in the old group and the
        migrate_from_chat_id one in the new supergroup; afterwards calls to the old id fail
        with ChatMigrated. Returns both messages.
        """
        with self._lock:
            title = self._ensure_group(old_chat_id).get("title")
        old_message = self._user_message(
            by_user_id, old_chat_id, None, fields={"migrate_to_chat_id": new_chat_id}
        )
        self._deliver_message(old_message)
        self.migrate(old_chat_id, new_chat_id)
        with self._lock:
            self.add_chat(new_chat_id, "supergroup", title=title)
        new_message = self._user_message(
            by_user_id, new_chat_id, "supergroup", fields={"migrate_from_chat_id": old_chat_id}
        )
        self._deliver_message(new_message)
        return old_message, new_message

    def _api_getChat(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        if chat_id in self._migrated:
            raise ApiError(400, MIGRATED, {"migrate_to_chat_id": self._migrated[chat_id]})
        chat = self._chat_for(chat_id)
        info = {
            **chat,
            "accent_color_id": abs(chat_id) % 7,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }
        pinned = self._pinned.get(chat_id)
        if pinned and (chat_id, pinned[-1]) in self._messages:
            info["pinned_message"] = _without_reply(self._messages[(chat_id, pinned[-1])])
        return info

    def _member(self, chat_id: int, user_id: int) -> dict:
        user = self.bot_user if user_id == self.bot_id else self.add_user(user_id)
        admins = self._admins.get(chat_id)
        if admins and user_id == admins["creator"]:
            return {"status": "creator", "user": user, "is_anonymous": False}
        if admins and (user_id in admins["ids"] or (user_id == self.bot_id and admins["bot"])):
            return {
                "status": "administrator",
                "user": user,
                "can_be_edited": False,
                "is_anonymous": False,
                "can_manage_chat": True,
                "can_delete_messages": True,
                "can_manage_video_chats": True,
                "can_restrict_members": True,
                "can_promote_members": False,
                "can_change_info": True,
                "can_invite_users": True,
                "can_post_stories": False,
                "can_edit_stories": False,
                "can_delete_stories": False,
                "can_pin_messages": True,
            }
        if user_id == self.bot_id and chat_id in self._kicked:
            return {"status": "kicked", "user": user, "until_date": 0}
        return {"status": "member", "user": user}

    def _api_getChatMember(self, params: dict, files: dict) -> dict:
        chat_id = self._target_chat(params)
        user_id = _as_int(params, "user_id")
        assert user_id is not None
        if chat_id in self._migrated:
            raise ApiError(400, MIGRATED, {"migrate_to_chat_id": self._migrated[chat_id]})
        self._chat_for(chat_id)
        return self._member(chat_id, user_id)

    def _api_getChatAdministrators(self, params: dict, files: dict) -> list:
        chat_id = self._target_chat(params)
        if chat_id in self._migrated:
            raise ApiError(400, MIGRATED, {"migrate_to_chat_id": self._migrated[chat_id]})
        if self._chat_for(chat_id)["type"] == "private":
            raise bad_request("there are no administrators in the private chat")
        admins = self._admins.get(chat_id)
        if not admins:
            return []
        ids = list(dict.fromkeys([admins["creator"], *admins["ids"]]))
        if admins["bot"]:
            ids.append(self.bot_id)
        return [self._member(chat_id, uid) for uid in ids if uid is not None]

    def _api_getChatMemberCount(self, params: dict, files: dict) -> int:
        chat_id = self._target_chat(params)
        senders = {
            m.get("from", {}).get("id") for (cid, _), m in self._messages.items() if cid == chat_id
        }
        return len(senders | {self.bot_id})

    def _api_pinChatMessage(self, params: dict, files: dict) -> bool:
        chat_id = self._target_chat(params)
        message_id = _as_int(params, "message_id")
        if (chat_id, message_id) not in self._messages:
            raise bad_request("message to pin not found")
        admins = self._admins.get(chat_id)
        if chat_id < 0 and admins is not None and not admins["bot"]:
            raise bad_request("not enough rights to manage pinned messages in the chat")
        assert message_id is not None
        self._pinned.setdefault(chat_id, []).append(message_id)
        return True

    def _api_unpinChatMessage(self, params: dict, files: dict) -> bool:
        chat_id = self._target_chat(params)
        pinned = self._pinned.get(chat_id, [])
        message_id = _as_int(params, "message_id", required=False)
        if message_id is None and pinned:
            pinned.pop()
        elif message_id in pinned:
            pinned.remove(message_id)
        return True

    def _api_unpinAllChatMessages(self, params: dict, files: dict) -> bool:
        self._pinned.pop(self._target_chat(params), None)
        return True

    def _api_leaveChat(self, params: dict, files: dict) -> bool:
        self._kicked.add(self._target_chat(params))
        return True
