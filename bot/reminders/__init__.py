"""Reminders before a due date, and groups' monthly notices.

plans (what to remind when; pure) ← store (the reminder tables) ← due (what is due now: the
outbox) and agenda (what a day holds); texts (what a reminder says). Nothing here talks to
Telegram: bot.tg.reminder_sender sends.
"""
