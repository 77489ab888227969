"""The bot's own profile: getMe, commands per scope, descriptions, name and menu button."""

from __future__ import annotations

import copy
import re

from tests.botapi.records import bad_request


def _scope_key(scope: dict | str | None, language_code: str) -> str:
    if scope is None:
        scope = {"type": "default"}
    elif isinstance(scope, str):
        scope = {"type": scope}
    parts = [scope.get("type", "default")]
    for key in ("chat_id", "user_id"):
        if scope.get(key) is not None:
            parts.append(f"{key}={scope[key]}")
    return "|".join([*parts, language_code or ""])


class Profile:
    """Part of BotApiServer (server.py), whose state it uses."""

    @property
    def bot_user(self) -> dict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def my_commands(
        self, scope: dict | str | None = None, language_code: str = ""
    ) -> list[dict] | None:
        """Commands set for a scope ("default", "all_private_chats", {"type": "chat", …})."""
        with self._lock:
            commands = self._commands.get(_scope_key(scope, language_code))
            return copy.deepcopy(commands)

    def _api_getMe(self, params: dict, files: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_setMyCommands(self, params: dict, files: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = _scope_key(params.get("scope"), params.get("language_code") or "")
        self._commands[key] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    def _api_getMyCommands(self, params: dict, files: dict) -> list:
        key = _scope_key(params.get("scope"), params.get("language_code") or "")
        return copy.deepcopy(self._commands.get(key, []))

    def _api_deleteMyCommands(self, params: dict, files: dict) -> bool:
        self._commands.pop(_scope_key(params.get("scope"), params.get("language_code") or ""), None)
        return True

    def _api_setMyDescription(self, params: dict, files: dict) -> bool:
        return True

    def _api_setMyShortDescription(self, params: dict, files: dict) -> bool:
        return True

    def _api_setMyName(self, params: dict, files: dict) -> bool:
        return True

    def _api_setChatMenuButton(self, params: dict, files: dict) -> bool:
        return True
