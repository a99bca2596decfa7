"""Where progress output goes: the terminal (interactive logging, the default) or Python logging.

Keras's switch, with Keras's names. With interactive logging on, progress bars and epoch lines are
written to `sys.stdout` (a live bar only when it is a terminal). Turned off, for jobs on a server,
every message becomes one `logging.INFO` record of the `"kerasnp"` logger, with no bars and no
carriage returns (Keras sends them to absl logging; plain `logging` is the NumPy-world
equivalent and what a server's log handlers already read).
"""
import logging
import sys

_STATE = {"interactive": True}
_LOGGER = logging.getLogger("kerasnp")


def enable_interactive_logging():
    """Send progress output to the terminal (`sys.stdout`); this is the default.

    Example:
        >>> import kerasnp as keras
        >>> keras.utils.enable_interactive_logging()
        >>> keras.utils.is_interactive_logging_enabled()
        True
    """
    _STATE["interactive"] = True


def disable_interactive_logging():
    """Send progress output to the `"kerasnp"` logger (`logging.INFO`): no bars, one record per
    finished line, for jobs whose output goes to a log collector.

    Example:
        >>> import logging, kerasnp as keras
        >>> logging.basicConfig(level=logging.INFO)
        >>> keras.utils.disable_interactive_logging()   # fit now logs one record per epoch
        >>> keras.utils.enable_interactive_logging()
    """
    _STATE["interactive"] = False


def is_interactive_logging_enabled():
    """True when progress output goes to the terminal, False when it goes to logging.

    Example:
        >>> import kerasnp as keras
        >>> keras.utils.is_interactive_logging_enabled()
        True
    """
    return _STATE["interactive"]


def print_msg(message, line_break=True, file=None):
    """Write `message` to `file` (default: the current `sys.stdout`) or, with interactive logging
    off, log it as one INFO record (trailing line breaks dropped)."""
    message = str(message)
    if not _STATE["interactive"]:
        message = message.rstrip("\n")
        if message:
            _LOGGER.info(message)
        return
    out = file if file is not None else sys.stdout
    text = message + "\n" if line_break else message
    try:
        out.write(text)
    except UnicodeEncodeError:     # a stream with a narrow encoding (cp1252...): drop what it lacks
        encoding = getattr(out, "encoding", None) or "ascii"
        out.write(text.encode(encoding, errors="replace").decode(encoding))
    flush = getattr(out, "flush", None)
    if flush is not None:
        flush()


def live_display(file=None):
    """How a live bar can be drawn on `file` (default `sys.stdout`): "terminal" (carriage
    return and cursor movement), "notebook" (a Jupyter output area: carriage return only, and it
    wraps long lines itself), or "" (a file, a pipe, or interactive logging off: no live bar)."""
    if not _STATE["interactive"]:
        return ""
    out = file if file is not None else sys.stdout
    isatty = getattr(out, "isatty", None)
    try:
        if isatty is not None and isatty():
            return "terminal"
    except ValueError:             # a closed stream
        return ""
    if "ipykernel" in sys.modules and out is sys.stdout:
        return "notebook"
    return ""
