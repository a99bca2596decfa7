"""Where progress output goes: the terminal (interactive logging, the default) or Python logging.

Keras's switch, with Keras's names. With interactive logging on, progress bars and epoch lines are
written to `sys.stdout` (a live bar only when it is a terminal). Turned off, for jobs on a server,
every message becomes one `logging.INFO` record of the `"kerasnp"` logger, with no bars and no
carriage returns (Keras sends them to absl logging; plain `logging` is the NumPy-world
equivalent and what a server's log handlers already read).
"""
import logging
import os
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
    off, log it as one INFO record (trailing line breaks dropped). A message written while a live
    progress bar is drawn on the same stream goes on the row below it (the bar is redrawn under
    the message at its next update), as a callback's message during an epoch does."""
    message = str(message)
    if not _STATE["interactive"]:
        message = message.rstrip("\n")
        if message:
            _LOGGER.info(message)
        return
    out = file if file is not None else sys.stdout
    end_live_bar(out)
    write(message + "\n" if line_break else message, out)


def write(text, out):
    """Write and flush, degrading characters that the stream's encoding lacks."""
    try:
        out.write(text)
    except UnicodeEncodeError:     # a stream with a narrow encoding (cp1252...)
        encoding = getattr(out, "encoding", None) or "ascii"
        out.write(text.encode(encoding, errors="replace").decode(encoding))
    flush = getattr(out, "flush", None)
    if flush is not None:
        flush()


# The live bar whose last row has no line break yet, and its stream: (bar, stream) or None.
_LIVE = {"bar": None}


def set_live_bar(bar, out):
    """Called by Progbar: `bar` is drawn on `out` and its row is open (None when closed)."""
    _LIVE["bar"] = None if bar is None else (bar, out)


def end_live_bar(out=None):
    """End the open row of a live bar drawn on `out` (any stream when None) with a line break;
    the bar then redraws below whatever is written next."""
    live = _LIVE["bar"]
    if live is None or (out is not None and live[1] is not out):
        return
    _LIVE["bar"] = None
    live[0]._detach()
    write("\n", live[1])


def live_display(file=None):
    """How a live bar can be drawn on `file` (default `sys.stdout`): "terminal" (carriage
    return and cursor movement), "line" (carriage return only: a Jupyter output area, which wraps
    long lines itself, or a Windows console without escape codes), or "" (a file, a pipe, or
    interactive logging off: no live bar)."""
    if not _STATE["interactive"]:
        return ""
    out = file if file is not None else sys.stdout
    isatty = getattr(out, "isatty", None)
    try:
        if isatty is not None and isatty():
            return "terminal" if _escape_codes_work() else "line"
    except ValueError:             # a closed stream
        return ""
    if "ipykernel" in sys.modules and out is sys.stdout:
        return "line"
    return ""


def _escape_codes_work():
    """True except on a Windows console that cannot be switched to escape-code processing."""
    if os.name != "nt":
        return True
    if "vt" not in _STATE:
        try:
            import ctypes
            kernel32 = ctypes.windll.kernel32
            handle = kernel32.GetStdHandle(-11)          # the standard output's console
            mode = ctypes.c_uint32()
            enable = 0x0004                              # ENABLE_VIRTUAL_TERMINAL_PROCESSING
            _STATE["vt"] = bool(kernel32.GetConsoleMode(handle, ctypes.byref(mode))) and (
                bool(mode.value & enable) or bool(kernel32.SetConsoleMode(handle,
                                                                          mode.value | enable)))
        except (AttributeError, OSError):
            _STATE["vt"] = False
    return _STATE["vt"]
