"""The database deleted under the running bot: the admins are told, and nothing is lost."""

from __future__ import annotations

import sqlite3
import time

from tests.botapi import BotApiServer, BotProcess

ADMIN = 9001


def test_deleted_database_is_reported_and_rescued(tmp_path) -> None:
    path = tmp_path / "bot.db"
    env = {"DATABASE_PATH": str(path), "ADMIN_IDS": str(ADMIN), "DB_CHECK_SECONDS": "0.2"}
    with BotApiServer() as server, BotProcess(server, ["-m", "bot", "run"], env=env,
                                              log_path=tmp_path / "bot.log") as bot:
        (reply,) = server.ask(8600001, "认证要交钱吗")
        assert "免费" in reply["text"]
        time.sleep(0.5)  # the question row is written after the reply
        path.unlink()
        (alert,) = server.wait_for_messages(ADMIN, since=0, timeout=10,
                                            predicate=lambda m: "数据库" in m["text"])
        assert "被删除了" in alert["text"] and ".rescued-" in alert["text"]
        (again,) = server.ask(8600002, "刷脸失败怎么办")
        assert not again["text"].startswith("抱歉，刚才出了点问题")
        time.sleep(1.0)
        alerts = [m for m in server.sent_messages(ADMIN) if "数据库" in m["text"]]
        assert len(alerts) == 1  # once, not at every check
    assert "Traceback" not in bot.log()
    (rescue,) = tmp_path.glob("bot.db.rescued-*")
    copy = sqlite3.connect(rescue)
    assert copy.execute("select text from questions").fetchall() == [("认证要交钱吗",)]
    copy.close()
