"""Masking personal numbers in what a process logs or prints (bot/privacy.py's `mask_text`):
a filter for log handlers (the service, the action server, the gateways) and, for the Rasa
server, whose logging Rasa and Sanic set up themselves, every record as it is made and
sys.stdout and sys.stderr.

No framework imports; it runs on Python 3.10 (Rasa's environment) and 3.11.
"""

from __future__ import annotations

import logging
import sys

from bot.privacy import mask_text


def _mask_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a broken format string is not ours to fix here
        return
    masked = mask_text(message)
    if masked != message:
        record.msg = masked
        record.args = ()
    if record.exc_info and not record.exc_text:
        # Formatters use exc_text when it is set: the traceback is written masked.
        record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = mask_text(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_text(record.stack_info)


class MaskingFilter(logging.Filter):
    """A logging filter that masks ID, bank-card and phone numbers in every record
    (its message and its traceback). `handler.addFilter(MaskingFilter())`."""

    def filter(self, record: logging.LogRecord) -> bool:
        _mask_record(record)
        return True


def install_log_masking(
    logger_names: tuple[str, ...] = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "rasa_sdk", "sanic.root"),
) -> None:
    """Masks ID and phone numbers in everything these loggers' handlers write.

    A filter on a logger does not see records propagated from its children, so the
    filter goes on the handlers, where every record passes.
    """
    for name in logger_names:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, MaskingFilter) for f in handler.filters):
                handler.addFilter(MaskingFilter())


class MaskingStream:
    """A text stream that masks what is written to it (a process's stdout/stderr)."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text):
        return self._stream.write(mask_text(text) if isinstance(text, str) else text)

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def __getattr__(self, name):
        return getattr(self._stream, name)


def install_process_masking() -> None:
    """Masks personal numbers in everything this process logs or prints, whenever its
    log handlers are made: every log record as it is created (message and traceback),
    sys.stdout and sys.stderr, and the handlers that exist now. Used by the Rasa server
    (rasa_channels/), whose logging Rasa and Sanic set up themselves. Idempotent."""
    old = logging.getLogRecordFactory()
    if not getattr(old, "jz_masking", False):

        def factory(*args, **kwargs):
            record = old(*args, **kwargs)
            _mask_record(record)
            return record

        factory.jz_masking = True
        logging.setLogRecordFactory(factory)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, MaskingStream):
            setattr(sys, name, MaskingStream(stream))
    install_log_masking(("",))
