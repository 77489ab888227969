"""Delivery: what every bulk or paced send of the bot shares. Nothing here imports Telegram."""
