"""A bot run as a child process against the local Bot API server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.botapi.records import REPO_ROOT

if TYPE_CHECKING:
    from tests.botapi.server import BotApiServer

class BotProcess:
    """A bot run as a child process against a BotApiServer, with its output in a log file.

    >>> with BotProcess(server, ["-m", "bot", "run"], env={"DATABASE_PATH": db}) as bot: ...
    start() waits until the bot long-polls; stop() sends SIGTERM (SIGKILL after `timeout`);
    kill() is the crash. Logs of attached processes appear in WaitTimeout messages.
    """

    def __init__(
        self,
        server: BotApiServer,
        args: list[str],
        *,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        log_path: str | Path | None = None,
        name: str | None = None,
        python: str = sys.executable,
    ) -> None:
        self.server = server
        self.args = [python, *args]
        self.env = env or {}
        self.cwd = Path(cwd) if cwd else REPO_ROOT
        self.name = name or " ".join(args)
        self._log_path = Path(log_path) if log_path else None
        self._log_file: Any = None
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        if self._log_path is None:
            import tempfile

            fd, path = tempfile.mkstemp(prefix="botproc-", suffix=".log")
            os.close(fd)
            self._log_path = Path(path)
        return self._log_path

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def returncode(self) -> int | None:
        return self.process.poll() if self.process else None

    def start(self, *, wait: bool = True, timeout: float = 60.0) -> BotProcess:
        after = self.server.poll_count
        self._log_file = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the child
        self.process = subprocess.Popen(
            self.args,
            cwd=self.cwd,
            env=self.server.bot_env(self.env),
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )
        if self not in self.server._processes:
            self.server._processes.append(self)
        if wait:
            self.server.wait_until_polling(timeout, after=after, process=self)
        return self

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM and wait; SIGKILL if it does not exit in time. Returns the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._close()
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL: the crash case (no cleanup, no final getUpdates)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._close()

    def wait(self, timeout: float | None = None) -> int:
        assert self.process is not None
        code = self.process.wait(timeout)
        self._close()
        return code

    def _close(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def log(self) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        return self._log_path.read_text(encoding="utf-8", errors="replace")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def __enter__(self) -> BotProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if self in self.server._processes:
            self.server._processes.remove(self)
