"""Global numeric settings: float type, fuzz factor and image layout.

`floatx()` is the dtype new weights and fed inputs take (float32 by default; float64 is supported
end to end and is what the gradient checks use).
"""
import numpy as np

_VALID_FLOATX = ("float16", "float32", "float64")
_state = {"floatx": "float32", "epsilon": 1e-7, "image_data_format": "channels_last"}


def floatx():
    """Return the default float type as a string, e.g. `'float32'`."""
    return _state["floatx"]


def set_floatx(value):
    """Set the default float type (`'float16'`, `'float32'` or `'float64'`)."""
    name = np.dtype(value).name if not isinstance(value, str) else value
    if name not in _VALID_FLOATX:
        raise ValueError(f"Unknown floatx {value!r}. Valid: {', '.join(_VALID_FLOATX)}. "
                         f"Received: value={value!r}")
    _state["floatx"] = name


def epsilon():
    """Return the fuzz factor used to keep logs and divisions finite (default 1e-7)."""
    return _state["epsilon"]


def set_epsilon(value):
    """Set the fuzz factor."""
    if not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"epsilon must be a positive float. Received: value={value!r}")
    _state["epsilon"] = float(value)


def image_data_format():
    """Return `'channels_last'`: kerasnp images are NHWC, as in Keras's default."""
    return _state["image_data_format"]


def set_num_threads(n):
    """Set how many threads kerasnp computes on (None: back to the default).

    The default is `KERASNP_NUM_THREADS` if set, else the CPUs this process may run on (its
    affinity mask and cgroup CPU quota, not the machine's count). The limit also applies to
    NumPy's BLAS and to Numba, so no library runs more threads than this. See the thread policy
    in the [design notes](../design.md#threads).

    Args:
        n: a positive integer, or None for the default.

    Example:
        >>> import kerasnp as keras
        >>> keras.config.set_num_threads(2)
        >>> keras.config.get_num_threads()
        2
        >>> keras.config.set_num_threads(None)
    """
    from .kernels import threads
    threads.set_num_threads(n)


def get_num_threads():
    """Return the number of threads kerasnp computes on (see `set_num_threads`)."""
    from .kernels import threads
    return threads.num_threads()


def enable_interactive_logging():
    """Progress bars and messages print to the terminal (the default); see
    `kerasnp.utils.enable_interactive_logging`."""
    from .utils.interactive_logging import enable_interactive_logging as enable
    enable()


def disable_interactive_logging():
    """Progress output goes to the `"kerasnp"` logger instead of the terminal; see
    `kerasnp.utils.disable_interactive_logging`."""
    from .utils.interactive_logging import disable_interactive_logging as disable
    disable()


def is_interactive_logging_enabled():
    """Whether progress output prints to the terminal (see `enable_interactive_logging`)."""
    from .utils.interactive_logging import is_interactive_logging_enabled as enabled
    return enabled()

