"""Reminders before a due date: subscriptions, plans, what is due, and their texts."""
