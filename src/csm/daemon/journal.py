"""The daemon's own log: one JSON object per line on stderr (the journal under systemd), each
with a stable ``msgid`` that says what happened, whatever the wording of ``msg``."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

LOGGER = "csm.daemon"


class JsonLines(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "msgid": getattr(record, "msgid", record.name),
            "msg": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def setup(stream: TextIO = sys.stderr, level: int = logging.INFO) -> logging.Logger:
    """The daemon's logger, writing JSON lines to ``stream``."""
    logger = logging.getLogger(LOGGER)
    logger.handlers.clear()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLines())
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
    return logger


def event(msgid: str, msg: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """Log one event: ``msgid`` (stable, e.g. ``watch.rotated``), a message, its fields."""
    extra = {"msgid": msgid, "fields": fields}
    logging.getLogger(LOGGER).log(level, msg, extra=extra)
