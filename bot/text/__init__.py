"""Text shared by every capability: normalising what users type, Chinese dates and times."""
