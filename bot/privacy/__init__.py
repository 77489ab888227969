"""What the bot keeps about a user, and forgetting it on request."""
