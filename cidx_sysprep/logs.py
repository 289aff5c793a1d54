"""Log lines with codes: `format_error_log(code, message, **context)` and a correlation id.

The correlation id ties every line of one run (one provision, one deployment) together
in a journal shared with other services.
"""
import contextvars
import logging
import uuid

from cidx_sysprep.errors import ERROR, lookup

_correlation_id = contextvars.ContextVar("cidx_sysprep_correlation_id", default=None)


def get_correlation_id():
    """The current run's id; the first call in a context starts one."""
    cid = _correlation_id.get()
    if cid is None:
        cid = new_correlation_id()
    return cid


def new_correlation_id():
    cid = uuid.uuid4().hex[:12]
    _correlation_id.set(cid)
    return cid


def format_error_log(code, message, **context):
    """`CODE: message [key=value ...]`; the code must be in the registry."""
    lookup(code)  # an unregistered code is a bug: fail loudly here, not in the field
    details = " ".join(f"{key}={value}" for key, value in context.items() if value is not None)
    return f"{code}: {message}" + (f" [{details}]" if details else "")


def log_code(logger, code, message, **context):
    """Log `message` under `code` at the level the registry gives that code."""
    level = logging.ERROR if lookup(code).level == ERROR else logging.WARNING
    logger.log(level, format_error_log(code, message, correlation_id=get_correlation_id(), **context))
