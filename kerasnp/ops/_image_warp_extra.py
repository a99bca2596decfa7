"""`ops.image` warps (Keras 3 names): `perspective_transform`, the homography that maps the
four `end_points` onto the `start_points`, applied with `affine_transform`'s projective sampling
(so the gradient to the images is that op's VJP); `elastic_transform`, a smoothed random
displacement field sampled as `map_coordinates` does (one node, scatter VJP)."""
import numpy as np

from ._dispatch import op, value
from ._helpers import floating
from ._image_extra import image_format, image_rank
from ._image_sample_extra import _FILL_MODES, _blur_matrix, _warp_sampled, affine_transform


def homography(start, end):
    """The 8 coefficients `[a0, a1, a2, b0, b1, b2, c0, c1]` of the projective map taking each
    end point `(x, y)` to its start point: `x_s = (a0·x + a1·y + a2) / (c0·x + c1·y + 1)`,
    `y_s = (b0·x + b1·y + b2) / (c0·x + c1·y + 1)`. `start`, `end`: `(B, 4, 2)`."""
    rows, rhs = [], []
    for k in range(4):
        sx, sy = start[:, k, 0], start[:, k, 1]
        ex, ey = end[:, k, 0], end[:, k, 1]
        one, zero = np.ones_like(ex), np.zeros_like(ex)
        rows.append(np.stack([ex, ey, one, zero, zero, zero, -sx * ex, -sx * ey], -1))
        rows.append(np.stack([zero, zero, zero, ex, ey, one, -sy * ex, -sy * ey], -1))
        rhs += [sx, sy]
    a = np.stack(rows, axis=1)
    b = np.stack(rhs, axis=1)
    try:
        return np.linalg.solve(a, b[..., None])[..., 0]
    except np.linalg.LinAlgError:
        raise ValueError("perspective_transform: the points do not define a perspective map "
                         "(three of them are collinear).") from None


@op(name="image.perspective_transform")
def perspective_transform(images, start_points, end_points, interpolation="bilinear",
                          fill_value=0, data_format=None):
    """Warp images so that the four `start_points` (`(x, y)` pixel coordinates, shape `(4, 2)`
    or `(batch, 4, 2)`) move to `end_points`; outside the input reads `fill_value`.

    Example:
        >>> corners = np.array([[0, 0], [6, 0], [0, 4], [6, 4]], dtype=float)
        >>> y = ops.image.perspective_transform(np.ones((5, 7, 1)), corners, corners + 0.5)
    """
    image_format(data_format, "perspective_transform")
    s = np.asarray(value(start_points), dtype=np.float64)
    e = np.asarray(value(end_points), dtype=np.float64)
    for arr, arg in ((s, "start_points"), (e, "end_points")):
        if arr.shape[-2:] != (4, 2) or arr.ndim not in (2, 3):
            raise ValueError(f"perspective_transform: {arg} must have shape (4, 2) or "
                             f"(batch, 4, 2). Received: {arg}.shape={arr.shape}")
    if s.shape != e.shape:
        raise ValueError("perspective_transform: start_points and end_points must have the "
                         f"same shape. Received: {s.shape} and {e.shape}")
    t = homography(s.reshape(-1, 4, 2), e.reshape(-1, 4, 2))
    return affine_transform.raw(images, t if s.ndim == 3 else t[0], interpolation=interpolation,
                                fill_mode="constant", fill_value=fill_value,
                                data_format=data_format)


@op(name="image.elastic_transform")
def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear",
                      fill_mode="reflect", fill_value=0.0, seed=None, data_format=None):
    """Elastic distortion: per image, two N(0, sigma²) displacement fields smoothed by a
    Gaussian of `sigma` (kernel `int(6·sigma) | 1`, zero padding), scaled by `alpha`, move each
    output pixel's sampling point (`interpolation` `"bilinear"` or `"nearest"`, `fill_mode` as
    `map_coordinates`). `seed`: None, an int or a `kerasnp.random.SeedGenerator`; the draws
    come from kerasnp's generators, so values differ from Keras's for the same seed."""
    from ..random.seeding import generator_for      # late: random sits beside ops
    fmt = image_format(data_format, "elastic_transform")
    if interpolation not in ("bilinear", "nearest"):
        raise ValueError("elastic_transform: interpolation must be 'bilinear' or 'nearest'. "
                         f"Received: interpolation={interpolation!r}")
    if fill_mode not in _FILL_MODES:
        raise ValueError(f"elastic_transform: fill_mode must be one of {_FILL_MODES}. "
                         f"Received: fill_mode={fill_mode!r}")
    if not sigma > 0:
        raise ValueError(f"elastic_transform: sigma must be > 0. Received: sigma={sigma!r}")
    a, diff = floating(images)
    image_rank(a, "elastic_transform")
    single = a.ndim == 3
    x = a[None] if single else a
    x = np.moveaxis(x, 1, -1) if fmt == "channels_first" else x        # (N, H, W, C)
    h, w = x.shape[1:3]
    rng = generator_for(seed, "elastic_transform")
    size = int(6 * sigma) | 1
    mh, mw = _blur_matrix(h, size, sigma, np.float64), _blur_matrix(w, size, sigma, np.float64)
    yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    order = 1 if interpolation == "bilinear" else 0

    def coords(b):
        d_x, d_y = (mh @ (rng.standard_normal((h, w)) * sigma) @ mw.T for _ in range(2))
        return [yy + alpha * d_y, xx + alpha * d_x]
    return _warp_sampled(images, a, x, coords, order, fill_mode, fill_value, fmt, single, diff)


__all__ = ["elastic_transform", "perspective_transform"]
