"""`Progbar`: Keras's progress bar, drawn so that people can read it.

Keras's arguments and averaging rules, with three differences in how it draws:
- a live bar (carriage-return updates) only on a terminal; written to a file, a pipe or CI
  output it prints one finished line when the bar completes, never a stream of `\\r` updates;
- on a terminal narrower than the line, the line wraps at the ` - ` between metrics (the bar
  shrinks first), so no metric, `val_*` included, is cut off at the terminal edge;
- no colour codes: `[=====>....]` reads the same in every terminal and log viewer.
"""
import numbers
import shutil
import sys
import time

import numpy as np

from .interactive_logging import live_display, print_msg, set_live_bar, write

_UP, _CLEAR_DOWN = "\x1b[{}A", "\x1b[J"      # cursor up n rows; erase to the end of the screen


def format_value(value):
    """A metric as Keras prints it: 4 decimals, scientific below 1e-3; arrays element-wise."""
    if isinstance(value, np.ndarray) and value.size != 1:
        return "[" + " ".join(format_value(v) for v in value.ravel()) + "]"
    try:
        v = float(np.asarray(value).reshape(()))
    except (TypeError, ValueError):
        return str(value)
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def format_time(seconds_per_unit, unit_name):
    """`12ms/step`, `850us/step`, `3s/step`."""
    t = seconds_per_unit
    if t >= 1 or t == 0:
        return f"{t:.0f}s/{unit_name}"
    if t >= 1e-3:
        return f"{t * 1e3:.0f}ms/{unit_name}"
    return f"{t * 1e6:.0f}us/{unit_name}"


def _eta(seconds):
    s = int(seconds)
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}" if s >= 60 else f"{s}s"


def wrap_pieces(head, pieces, columns):
    """Rows of at most `columns` characters: `head`, then ` - piece` while it fits; a piece
    that does not fit starts an indented row; a piece wider than a row is split."""
    rows, row = [], head
    for piece in pieces:
        if len(row) + 3 + len(piece) <= columns:
            row += " - " + piece
            continue
        rows.append(row)
        row = "  " + piece
        while len(row) > columns:
            rows.append(row[:columns])
            row = "  " + row[columns:]
    rows.append(row)
    return rows


class Progbar:
    """A progress bar with running metric averages, as `keras.utils.Progbar`.

    Args:
        target: total number of steps, or None when unknown.
        width: characters of the bar itself.
        verbose: 0 silent, 1 a live bar (one line at the end when not on a terminal), 2 one
            line when the bar completes.
        interval: minimum seconds between two redraws of the live bar.
        stateful_metrics: names whose values are shown as given; every other value is shown
            as its average over the steps so far, except in the last update (`finalize`),
            whose values are shown as given (as in Keras).
        stateless_metrics: the other way round (averaged names; the rest shown as given). Give
            at most one of the two.
        unit_name: what a step is called in `12ms/step`.
        file: where to write (keyword only, not in Keras); default: `sys.stdout` at each write.

    Example:
        >>> import kerasnp as keras
        >>> bar = keras.utils.Progbar(3, verbose=2)
        >>> for step in range(3):
        ...     bar.add(1, values=[("loss", 1.0 / (step + 1))])   # doctest: +ELLIPSIS
        3/3 - 0s - ...step - loss: 0.3333
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 stateless_metrics=None, unit_name="step", *, file=None):
        if target is not None and (not isinstance(target, numbers.Integral)
                                   or isinstance(target, bool) or target < 0):
            raise ValueError("Progbar: argument `target` must be a non-negative int or None "
                             f"(unknown). Received: target={target!r}")
        if not isinstance(width, numbers.Integral) or isinstance(width, bool) or width < 0:
            raise ValueError(f"Progbar: argument `width` must be an int >= 0. "
                             f"Received: width={width!r}")
        if isinstance(verbose, bool) or verbose not in (0, 1, 2):
            raise ValueError("Progbar: argument `verbose` must be 0 (silent), 1 (live bar) or 2 "
                             f"(one line at the end). Received: verbose={verbose!r}")
        if not isinstance(interval, numbers.Real) or interval < 0:
            raise ValueError(f"Progbar: argument `interval` must be a number of seconds >= 0. "
                             f"Received: interval={interval!r}")
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError("Progbar: give `stateful_metrics` (names shown as given) or "
                             "`stateless_metrics` (names averaged), not both.")
        self.target = None if target is None else int(target)
        self.width = int(width)
        self.verbose = verbose
        self.interval = float(interval)
        self.unit_name = str(unit_name)
        self.file = file
        if stateless_metrics is not None:
            self.stateful_metrics, self.stateless_metrics = None, set(stateless_metrics)
        else:
            self.stateful_metrics = set(stateful_metrics or ())
            self.stateless_metrics = None
        self._values = {}             # name -> [sum of value * steps, steps]
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._rows = 0                # rows of the live bar drawn last (to redraw in place)
        self._width_drawn = 0         # length of the notebook line drawn last

    # -- state ------------------------------------------------------------------------------
    def _averaged(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def _record(self, current, values, finalize):
        for name, value in values or ():
            if not self._averaged(name) or finalize:
                self._values[name] = [value, 1]
                continue
            steps = max(current - self._seen_so_far, 1)
            total = self._values.get(name)
            if total is None:
                self._values[name] = [value * steps, steps]
            else:
                total[0] = total[0] + value * steps
                total[1] += steps

    def _pieces(self):
        out = []
        for name, (total, count) in self._values.items():
            mean = total / max(count, 1)
            if isinstance(mean, np.ndarray) and mean.size == 1:
                mean = mean.reshape(())
            out.append(f"{name}: {format_value(mean)}")
        return out

    def _time_per_unit(self, current, now):
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            return (now - self._time_after_first_step) / (current - 1)
        if current == 1 and self._time_after_first_step is None:
            self._time_after_first_step = now     # the first step (compilation, caches) aside
        return (now - self._start) / current

    # -- drawing ----------------------------------------------------------------------------
    def _count(self, current):
        if self.target is None:
            return f"{current:7d}/Unknown"
        digits = len(str(self.target))
        return f"{current:{digits}d}/{self.target}"

    def _bar(self, current, width):
        if self.target is None or self.target <= 0 or width <= 0:
            return ""
        done = int(width * min(current / self.target, 1.0))
        arrow = ">" if 0 < done < width else ""
        body = "=" * max(done - len(arrow), 0) + arrow
        return " [" + body + "." * (width - len(body)) + "]"

    def _live_rows(self, current, now, per_unit, finalize, wrap=True):
        """The bar's head and metric pieces, wrapped to the terminal's rows when `wrap`."""
        if finalize or self.target is None or not self.target:
            timing = f"{now - self._start:.0f}s"
        else:
            timing = _eta(per_unit * (self.target - current))
        tail = f" {timing} {format_time(per_unit, self.unit_name)}"
        count = self._count(current)
        # the bar gives way first, so the count and timing always fit on the first row
        if not wrap:
            return [count + self._bar(current, self.width) + tail] + self._pieces()
        columns = max(shutil.get_terminal_size().columns - 1, 20)     # -1: no auto-wrap
        width = min(self.width, max(columns - len(count) - len(tail) - 3, 0))
        return wrap_pieces(count + self._bar(current, width) + tail, self._pieces(), columns)

    def _final_line(self, current, now, per_unit):
        parts = [self._count(current).strip(), f"{now - self._start:.0f}s",
                 format_time(per_unit, self.unit_name)] + self._pieces()
        return " - ".join(parts)

    def update(self, current, values=None, finalize=None):
        """Record step `current` (1-based count of steps done) and redraw.

        Args:
            current: steps done so far.
            values: list of `(name, value)` pairs for this step; averaged over the steps unless
                the name is stateful (see the class).
            finalize: whether this is the last update; default: `current >= target`.
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values, finalize)
        self._seen_so_far = current
        now = time.time()
        per_unit = self._time_per_unit(current, now)
        if self.verbose == 0 or (self.verbose == 1 and not finalize
                                 and now - self._last_update < self.interval):
            return
        live = live_display(self.file) if self.verbose == 1 else ""
        if live:
            out = self.file if self.file is not None else sys.stdout
            if live == "terminal":
                rows = self._live_rows(current, now, per_unit, finalize)
                erase = "\r" + (_UP.format(self._rows - 1) if self._rows > 1 else "")
                write(erase + _CLEAR_DOWN + "\n".join(rows), out)
                self._rows, self._width_drawn = len(rows), 0
            else:                    # one line, no cursor movement (a notebook wraps it)
                line = " - ".join(self._live_rows(current, now, per_unit, finalize, wrap=False))
                write("\r" + line + " " * max(self._width_drawn - len(line), 0), out)
                self._rows, self._width_drawn = 1, len(line)
            if finalize:
                write("\n", out)
                self._detach()
                set_live_bar(None, None)
            else:
                set_live_bar(self, out)
        elif finalize:           # not a terminal: one finished line, no `\r` updates
            print_msg(self._final_line(current, now, per_unit), file=self.file)
        self._last_update = now

    def _detach(self):
        """The rows drawn so far are final (a line break followed them): draw anew below."""
        self._rows, self._width_drawn = 0, 0

    def add(self, n, values=None):
        """Advance by `n` steps: `update(steps_so_far + n, values)`."""
        self.update(self._seen_so_far + n, values)

