"""`kerasnp.ops.linalg`: Keras 3's `keras.ops.linalg` namespace (the same functions as
`kerasnp.ops.cholesky`, `kerasnp.ops.solve`...). `jvp` runs on the reverse-mode tape, one
backward pass per output element."""
from ._linalg_extra import (cholesky_inverse, det, inv, lstsq, matrix_rank, pinv, solve,  # noqa
                            solve_triangular)
from ._decomp_extra import cholesky, eig, eigh, lu_factor, qr, svd  # noqa: F401
from ._norms import norm  # noqa: F401
from ._jvp_extra import jvp  # noqa: F401

__all__ = ["cholesky", "cholesky_inverse", "det", "eig", "eigh", "inv", "jvp", "lstsq",
           "lu_factor", "matrix_rank", "norm", "pinv", "qr", "solve", "solve_triangular", "svd"]
