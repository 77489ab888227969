"""Admin broadcasts: `audience` (who), `compose` (what and when), `store` (the audit log,
outbox rows and reports) and `runner` (the paced run over bot.delivery's sender)."""
