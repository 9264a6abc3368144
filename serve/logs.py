"""JSON logs, one object a line, that never carry comment text, SQL parameters or API keys.

rebut's own log lines name ids, routes, statuses and timings only. uvicorn's access log
is switched off because its lines carry the query string, where `?key=KEY` may be; the
metrics middleware (serve/metrics.py) writes an access line without it.

Tracebacks are where text leaks: a database error quotes the failing row (PostgreSQL's
"Failing row contains (...)"), the SQL parameters or the key it collided on, and pydantic's
errors quote the input. For those the traceback keeps its frames and loses the message
(StoreErrorRedactor); the engine hides parameters too (serve/store.py make_engine).
"""

from __future__ import annotations

import logging
import traceback

from pydantic import ValidationError
from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

LOGGERS = ("rebut", "uvicorn", "uvicorn.error", "sqlalchemy")


def describe_store_error(exc: BaseException) -> str:
    """A database error without its message or parameters: the driver's error class and,
    where it gives one, the database's own code (PostgreSQL's SQLSTATE, SQLite's name)."""
    original = exc.orig if isinstance(exc, DBAPIError) else None
    code = getattr(original, "sqlstate", None) or getattr(original, "sqlite_errorname", None)
    name = type(original or exc).__name__
    return f"{name} ({code})" if code else name


def _redacted(exc: BaseException) -> str | None:
    """What the log says of `exc` in place of its message, or None to keep the message."""
    if isinstance(exc, SQLAlchemyError):
        return describe_store_error(exc)
    if isinstance(exc, ValidationError):
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in exc.errors())
        return f"ValidationError ({where})"
    if exc.__class__.__module__.split(".")[0] in ("psycopg", "sqlite3"):
        return type(exc).__name__
    return None


def _chain(exc: BaseException | None) -> list[BaseException]:
    seen: list[BaseException] = []
    while exc is not None and exc not in seen:
        seen.append(exc)
        exc = exc.__cause__ or exc.__context__
    return seen


class StoreErrorRedactor(logging.Filter):
    """Rewrites a record whose exception (or any it was raised from) would quote data: the
    frames stay, each message becomes the error's class and code."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or record.exc_info[1] is None:
            return True
        chain = _chain(record.exc_info[1])
        if all(_redacted(e) is None for e in chain):
            return True
        parts = []
        for exc in reversed(chain):  # oldest first, as Python prints a chain
            frames = "".join(traceback.format_tb(exc.__traceback__))
            said = _redacted(exc) or f"{type(exc).__name__}: {exc}"
            parts.append(f"Traceback (most recent call last):\n{frames}{said}")
        record.exc_info = None
        record.exc_text = "\n\nDuring handling of the above exception:\n\n".join(parts)
        return True


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            # uvicorn adds an ANSI-coloured copy of its message; JSON readers want none.
            reserved_attrs=[*RESERVED_ATTRS, "color_message"],
        )
    )
    handler.addFilter(StoreErrorRedactor())
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        # SQLAlchemy logs each statement at INFO: only its warnings and errors are wanted
        logger.setLevel("WARNING" if name == "sqlalchemy" else level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True
