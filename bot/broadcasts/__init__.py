"""Admin broadcasts: audience, composing, the stored outbox and reports."""
