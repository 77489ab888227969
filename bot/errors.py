"""Small named exceptions shared by the core and the command line."""


class BotError(Exception):
    """Base class for errors this project raises on purpose."""


class UsageError(BotError):
    """Bad input on the command line: printed as one line, exit code 2."""


class StorageError(BotError):
    """The database could not be opened or written."""


class DateParseError(BotError, ValueError):
    """The text holds no date we can read; the message is polite Chinese for the user."""


class UnknownSchemeError(BotError, ValueError):
    """A scheme name that is neither a key nor a known Chinese name."""


class KnowledgeError(BotError):
    """A knowledge or region file failed validation; `problems` holds `file: entry: problem`
    lines."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class ImageError(BotError):
    """A picture that cannot be read: too large, animated, not an image, or corrupt."""


class ImageTooLarge(ImageError):
    """The file or its pixel count is over the limit (checked before decoding)."""
