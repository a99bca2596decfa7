"""The one place that sets Numba flags for kerasnp kernels.

Every kernel is decorated with `jit` (serial) or `jit_parallel` (`prange` over the batch). Both
use `cache=True`, so a second run of a script loads machine code from disk instead of compiling.
`fastmath` stays off: the kernels are gathers, scatters and comparisons whose cost is memory, so
reassociation buys nothing measurable and would change results bit for bit between runs.

Cache location: Numba writes next to the source (`kernels/__pycache__`). When that directory is
not writable (site-packages owned by root, a read-only image) and the user has not chosen a
location, `NUMBA_CACHE_DIR` is pointed at `~/.cache/kerasnp/numba` (or `$XDG_CACHE_HOME`). This
happens at import of this module, before any kernel is decorated, because Numba picks a cache
locator at decoration time.

`NUMBA_DISABLE_JIT=1` runs every kernel as plain Python (slow, but debuggable); `prange` is then
`range`. Without Numba installed at all, `HAVE_NUMBA` is False and `kerasnp.kernels` serves the
NumPy reference implementations instead.
"""
import os

_HERE = os.path.dirname(os.path.abspath(__file__))


def _package_dir_writable():
    target = os.path.join(_HERE, "__pycache__")
    if not os.path.isdir(target):
        target = _HERE
    return os.access(target, os.W_OK)


def _user_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "kerasnp", "numba")


def configure_cache_dir(environ=os.environ, writable=None):
    """Point `NUMBA_CACHE_DIR` at the user cache when the package dir is read-only.

    Leaves a user's own `NUMBA_CACHE_DIR` alone. Returns the directory it set, or None.
    """
    if environ.get("NUMBA_CACHE_DIR"):
        return None
    if writable is None:
        writable = _package_dir_writable()
    if writable:
        return None
    environ["NUMBA_CACHE_DIR"] = _user_cache_dir()
    return environ["NUMBA_CACHE_DIR"]


configure_cache_dir()

try:
    import numba
    from numba import prange
except ImportError:  # pragma: no cover - exercised only on machines without numba
    numba = None
    prange = range

HAVE_NUMBA = numba is not None
# True when kernels are real compiled dispatchers (Numba present and NUMBA_DISABLE_JIT unset).
JIT_ENABLED = HAVE_NUMBA and not numba.config.DISABLE_JIT

if HAVE_NUMBA:
    # Numba reads the environment at its own import; reload so a NUMBA_CACHE_DIR set above
    # (or by the user after importing numba) is seen by the decorators below.
    numba.config.reload_config()

_FLAGS = {"cache": True, "nogil": True, "fastmath": False}


def jit(func):
    """Compile `func` as a serial nopython kernel (cached, GIL released)."""
    if not HAVE_NUMBA:
        return func
    return numba.njit(**_FLAGS)(func)


def jit_inline(func):
    """Compile `func` into each kernel that calls it (Numba's `inline='always'`) instead of as a
    function of its own: a small helper then adds no compilation of its own to a cold start."""
    if not HAVE_NUMBA:
        return func
    return numba.njit(inline="always", **_FLAGS)(func)


# Threads: the matrix products around these kernels already run on all cores in OpenBLAS, whose
# threads keep spinning for a while after each product. A Numba thread pool started next to them
# fights for the same cores: on the 2-core reference machine the CNN epoch was 4x slower with
# both pools active (4.6 s) than with either one alone (1.14 s). So the `prange` kernels compile
# serial by default and BLAS keeps the cores; KERASNP_PARALLEL_KERNELS=1 opts into Numba threads
# (worth trying on many-core machines where BLAS is limited to fewer threads).
PARALLEL = os.environ.get("KERASNP_PARALLEL_KERNELS", "0") == "1"


def jit_parallel(func):
    """Compile `func` with its `prange` loop (over the batch) parallel when PARALLEL is set,
    serial otherwise (see the note on threads above)."""
    if not HAVE_NUMBA:
        return func
    # Numba's on-disk cache is keyed by the function's qualified name, not by the `parallel`
    # flag, so a build cached in one mode would be loaded in the other (including caches left by
    # older versions): the two modes get distinct names, and both are cached.
    func.__qualname__ += "__parallel" if PARALLEL else "__serial"
    return numba.njit(parallel=PARALLEL, **_FLAGS)(func)


__all__ = ["HAVE_NUMBA", "JIT_ENABLED", "PARALLEL", "jit", "jit_inline", "jit_parallel", "prange"]
