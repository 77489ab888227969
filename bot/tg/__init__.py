"""The Telegram adapter: handlers, keyboards and the application that wires them."""
