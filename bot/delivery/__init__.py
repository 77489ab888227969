"""Delivery: what every bulk or paced send of the bot shares. Nothing here imports Telegram.

- `pacing`: the rate budgets (the one bulk budget, per chat, per group) and flood-control
  waits, shared by reminders, broadcasts and group replies;
- `sender`: the one durable sender of reminders and broadcasts: an outbox row written before
  each request and settled after it, the shared budget, and one retry policy (flood control,
  blocked, migrated, network errors, what a crash left in flight).
"""
