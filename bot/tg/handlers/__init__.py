"""Telegram handlers, one module per feature; wired in order in bot.tg.app."""
