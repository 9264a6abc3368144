"""Errors model/ raises for bad input. Callers map them: HTTP routes to problem bodies,
the batch command to error records. model/ never speaks HTTP."""

from __future__ import annotations


class InputError(ValueError):
    """Input that cannot be scored. `code` is stable and machine-readable."""

    code = "invalid_input"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class EmptyText(InputError):
    code = "empty_text"


class TextTooLong(InputError):
    code = "text_too_long"


class UnknownArticle(InputError):
    code = "unknown_article"


class CommentOwnedElsewhere(InputError):
    """A write to a comment whose current result another writer (an API key, the webhook,
    Coral) made: each keeps its own comments, so none can replace what another stored."""

    code = "comment_owned_elsewhere"
