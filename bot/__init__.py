"""养老金认证助手: answers questions about 养老金资格认证 on Telegram and the command line."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
KNOWLEDGE_DIR = PROJECT_DIR / "knowledge"
