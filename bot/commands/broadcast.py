"""`python -m bot broadcast list|status ID [--json]`: the broadcast audit log, read-only."""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.commands.args import database_id, limit_count
from bot.errors import UsageError

if TYPE_CHECKING:
    import sqlite_utils

STATUS_NAMES = {"scheduled": "定时", "running": "发送中", "done": "已完成",
                "cancelled": "已取消"}


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("broadcast", help="查看群发通知记录")
    actions = parser.add_subparsers(dest="broadcast_command", required=True)
    listing = actions.add_parser("list", help="最近的群发通知")
    listing.add_argument("--limit", type=limit_count, default=20, help="最多列出几条（默认 20）")
    status = actions.add_parser("status", help="一条群发通知的详情")
    status.add_argument("id", type=database_id, help="通知编号")
    for sub in (listing, status):
        sub.add_argument("--json", action="store_true", help="输出 JSON")
        sub.add_argument("--db", type=Path, default=None,
                         help="数据库文件（默认 $DATABASE_PATH 或 data/bot.db）")
    listing.set_defaults(func=run_list)
    status.set_defaults(func=run_status)


def _database(path: Path | None) -> sqlite_utils.Database:
    import sqlite_utils  # here, not at the top: `python -m bot ask` should not pay for it

    if path is None:
        from bot.config import database_path

        path = database_path()
    if not path.is_file():
        raise UsageError(f"数据库文件不存在：{path}")
    try:  # read-only: the CLI never changes what the bot is doing
        conn = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True, timeout=10)
        conn.execute("select count(*) from sqlite_master").fetchone()
    except sqlite3.Error as exc:
        raise UsageError(f"无法读取数据库 {path}：{exc}") from None
    return sqlite_utils.Database(conn)


def _public(row: dict[str, Any]) -> dict[str, Any]:
    keys = ("id", "status", "created_at", "created_by", "audience", "audience_label",
            "scheduled_at", "started_at", "finished_at", "total", "sent", "failed", "blocked",
            "unconfirmed", "pin", "cancelled_by", "note", "text")
    out = {key: row.get(key) for key in keys}
    out["buttons"] = [{"text": label, "url": url} for label, url in row.get("buttons", [])]
    out["pin"] = bool(out["pin"])
    return out


def run_list(args: argparse.Namespace) -> int:
    from bot.broadcasts.store import list_broadcasts

    if args.limit < 1:
        raise UsageError("--limit 至少为 1")
    rows = [_public(r) for r in list_broadcasts(_database(args.db), args.limit)]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("还没有群发通知。")
        return 0
    for row in rows:
        when = row["started_at"] or row["scheduled_at"] or row["created_at"]
        preview = row["text"].replace("\n", " ")[:30]
        print(f"#{row['id']}  {STATUS_NAMES.get(row['status'], row['status'])}  {when}  "
              f"{row['audience_label']}  已送达 {row['sent']}/{row['total']}  "
              f"失败 {row['failed']}  屏蔽 {row['blocked']}  "
              f"不确定 {row['unconfirmed']}  {preview}")
    return 0


def run_status(args: argparse.Namespace) -> int:
    from bot.broadcasts.store import get_broadcast, progress

    db = _database(args.db)
    row = get_broadcast(db, args.id)
    if row is None:
        raise UsageError(f"没有编号为 {args.id} 的群发通知")
    counts = progress(db, args.id)
    failures = [{"chat_id": r[0], "status": r[1], "error": r[2]} for r in db.execute(
        "select chat_id, status, error from broadcast_outbox where broadcast_id = ? and "
        "status in ('failed', 'blocked', 'unknown') order by id limit 20", [args.id]).fetchall()]
    data = {**_public(row), "progress": counts.as_dict(), "problems": failures}
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"通知 #{row['id']}：{STATUS_NAMES.get(row['status'], row['status'])}")
    print(f"发起：用户 {row['created_by']}，{row['created_at']}")
    if row["scheduled_at"]:
        print(f"定时：{row['scheduled_at']}")
    print(f"对象：{row['audience_label']}（{row['audience']}）")
    print(f"进度：共 {counts.total}，已送达 {counts.sent}"
          f"（其中后来确认 {counts.confirmed}，崩溃后重发 {counts.resent}），"
          f"未送达 {counts.not_delivered}"
          f"（失败 {counts.failed}，屏蔽 {counts.blocked}），不确定 {counts.unconfirmed}，"
          f"剩余 {counts.remaining}，已取消 {counts.cancelled}")
    if row["finished_at"]:
        print(f"结束：{row['finished_at']}")
    if row["note"]:
        print(f"备注：{row['note']}")
    print("内容：")
    print(row["text"])
    for label, url in row["buttons"]:
        print(f"[{label}] {url}")
    for item in failures:
        print(f"  {item['chat_id']}: {item['status']} {item['error'] or ''}")
    return 0
