"""The buttons of broadcasts: the audience menus, confirm under the preview, stop under the
progress message, and a notice's own link buttons."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.deadline.schemes import SCHEMES


def link_keyboard(buttons: tuple[tuple[str, str], ...] | list) -> InlineKeyboardMarkup | None:
    rows = [[InlineKeyboardButton(label, url=url)] for label, url in buttons]
    return InlineKeyboardMarkup(rows) if rows else None


def stop_keyboard(broadcast_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("⏹ 取消发送",
                                                       callback_data=f"bc:stop:{broadcast_id}")]])


def audience_keyboard(users: int, groups: int) -> InlineKeyboardMarkup:
    """The first menu, with how many subscribers and groups there are."""
    rows = [
        [InlineKeyboardButton(f"所有订阅用户（{users}）", callback_data="bc:a:users")],
        [InlineKeyboardButton(f"所有群（{groups}）", callback_data="bc:a:groups")],
        [InlineKeyboardButton(f"用户和群（{users + groups}）", callback_data="bc:a:everyone")],
        [InlineKeyboardButton("按城市", callback_data="bc:a:city"),
         InlineKeyboardButton("按待遇类型", callback_data="bc:a:scheme")],
        [InlineKeyboardButton("取消", callback_data="bc:x")],
    ]
    return InlineKeyboardMarkup(rows)


def values_keyboard(column: str, values: list[tuple[str, int]]) -> InlineKeyboardMarkup:
    """The most common cities or schemes (`column`) with their counts, and a way back."""
    prefix = "c" if column == "city" else "s"
    rows = []
    for value, n in values:
        name = SCHEMES[value].short if column == "scheme" and value in SCHEMES else value
        data = f"bc:a:{prefix}:{value}"
        if len(data.encode()) <= 64:
            rows.append([InlineKeyboardButton(f"{name}（{n}）", callback_data=data)])
    rows.append([InlineKeyboardButton("返回", callback_data="bc:a:menu")])
    return InlineKeyboardMarkup(rows)


def confirm_keyboard(for_group: bool) -> InlineKeyboardMarkup:
    first = [InlineKeyboardButton("✅ 立即发送", callback_data="bc:go")]
    if for_group:
        first.append(InlineKeyboardButton("📌 发送并置顶", callback_data="bc:pin"))
    return InlineKeyboardMarkup([first,
                                 [InlineKeyboardButton("⏰ 定时发送", callback_data="bc:when"),
                                  InlineKeyboardButton("❌ 取消", callback_data="bc:x")]])
