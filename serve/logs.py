"""JSON logs, one object a line, that never carry comment text or API keys.

rebut's own log lines name ids, routes, statuses and timings only. uvicorn's access log
is switched off because its lines carry the query string, where `?key=KEY` may be; the
metrics middleware (serve/metrics.py) writes an access line without it.
"""

from __future__ import annotations

import logging

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

LOGGERS = ("rebut", "uvicorn", "uvicorn.error")


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
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(level.upper())
        logger.propagate = False
    logging.getLogger("uvicorn.access").disabled = True
