"""3x3 stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3).

Each 2x2 tile of the output is computed from the 4x4 tile of the input under it as
`Y = Aᵀ [U ⊙ V] A`, with `V = Bᵀ d B` (the input tile, transformed) and `U = G g Gᵀ` (the 3x3
filter, transformed once per call). Summed over the input channels, the 16 element-wise
products become 16 matrix products `M[e] = V[e]·U[e]` of shape `(tiles, cin)·(cin, cout)`: 16
multiply-adds per 4 outputs and channel pair, where im2col + GEMM spends 36, so the BLAS work
falls to 4/9 of the direct convolution's (plus the tiles' overhang on odd output sizes).

The backward pass is the exact adjoint of that forward pass (not a second convolution):
`dM = A dY Aᵀ` (the output gradient, transformed, tile by tile), then
- `dU[e] = V[e]ᵀ·dM[e]` and `dW = Gᵀ dU G` (the kernel gradient), and
- `dV[e] = dM[e]·U[e]ᵀ` and `dX += B dV Bᵀ`, tile by tile (the input gradient; the 4x4 input
  tiles overlap by two rows and columns, so this is a scatter-add, as col2im is).
So forward, kernel gradient and input gradient each run 16 products of the same `tiles` rows.

The four tile transforms (Bᵀ d B, Aᵀ M A and their adjoints) run through one Numba kernel,
`_tiles`: gather each tile's rows (zeros in the padding), run a short program of row
operations whose inner loop runs over the channels (contiguous in NHWC, so it vectorises), and
write or add the result rows (nothing past the output's edge, on odd output sizes). The fused
bias + ReLU and its backward mask are `epilogue.py`'s kernels, over each block's rows.

The batch runs in blocks of whole images sized so that a block's `V` and `M` (16 planes each)
stay in L2 while its products read them, and with a thread budget above one each pool thread
gets its own range of images, as in `conv_threads.py`.

Arithmetic: F(2x2, 3x3)'s transforms only add, subtract and halve, so float32 results differ
from the direct convolution's by float rounding (~1e-6 relative).
"""
import numpy as np

from ._jit import PARALLEL, jit
from . import conv_threads
from .epilogue import _bias_relu, _mask_and_sum, as_bias
from .threads import num_threads

# The filter transform G (4x3). Bᵀ = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0],
# [0, 1, 0, -1]] and Aᵀ = [[1, 1, 1, 0], [0, 1, -1, -1]] are in TABLES below, row by row.
G = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0.0, 0.0, 1.0]])


def applies(n, oh, ow, w_shape, strides, dilation, groups):
    """Whether this convolution (batch `n`, output `oh x ow`) runs as Winograd F(2x2, 3x3): a
    3x3 kernel, stride 1, no dilation, one group, `MIN_CHANNELS` to `MAX_CHANNELS` input and
    output channels, and enough output pixels per kernel weight (`MIN_SAVING`)."""
    kh, kw, cg, cout = w_shape
    if (kh, kw) != (3, 3) or tuple(strides) != (1, 1) or tuple(dilation) != (1, 1) \
            or groups != 1:
        return False
    if not (MIN_CHANNELS <= cg <= MAX_CHANNELS and MIN_CHANNELS <= cout <= MAX_CHANNELS):
        return False
    th, tw = tiles(oh, ow)
    return n * (9 * oh * ow - 16 * th * tw) >= MIN_SAVING


# Where the Winograd path is used (see `applies`); forward + backward, 2 threads, against
# im2col's time, 'same' convolutions (batch, size, channels in -> out):
# - Few channels: the transforms cost more than the products save. 16 -> 16 and 16 -> 32
#   channels 0.77-0.84x, 8 -> 32 and 8 -> 64 0.99-1.03x, 3 -> 32 1.7x.
# - Many channels: the weight-side work (the transformed kernel and its gradient, 16 planes of
#   cin x cout, per block of images) outgrows the cache and the products run on few tiles. (32,
#   8, 64 -> 64) 0.42x, but (32, 8, 128 -> 128) 0.94x, (32, 4, 128 -> 128) 1.62x, (32, 8/16,
#   256 -> 256) 1.28/1.05x, (32, 1, 512 -> 512) 5.5x (ResNet-50's last stage on 32x32 images).
# - Few output pixels per weight: multiply-adds saved per kernel weight, n·(9·oh·ow - 16·tiles),
#   of 2,560 (32, 4, 64 -> 64) gave 0.88x and (8, 8, 64 -> 64) 0.87x; 1,280 (16, 4, 64 -> 64)
#   1.02x, 544 (32, 3, 64 -> 64) 0.95x.
MIN_CHANNELS = 16
MAX_CHANNELS = 64
MIN_SAVING = 2048


def tiles(oh, ow):
    """Tile rows and columns covering an `oh x ow` output (2x2 output tiles)."""
    return (oh + 1) // 2, (ow + 1) // 2


def filter_transform(w):
    """`U` `(16, cin, cout)` = G g Gᵀ for each input/output channel pair of `w` `(3, 3, cin,
    cout)`: two matrix products (`tensordot` cost 50 us a call, mostly Python)."""
    _, _, cin, cout = w.shape
    g = G.astype(w.dtype)
    rows = (g @ w.reshape(3, -1)).reshape(4, 3, cin * cout)      # [a, j] = Σᵢ G[a, i] g[i, j]
    return (g @ rows).reshape(16, cin, cout)                      # [a, b] = Σⱼ G[b, j] [a, j]


def filter_transform_adjoint(du):
    """`dW` `(3, 3, cin, cout)` = Gᵀ dU G: the adjoint of `filter_transform`."""
    _, cin, cout = du.shape
    gt = G.T.astype(du.dtype)
    rows = (gt @ du.reshape(4, -1)).reshape(3, 4, cin * cout)    # [i, b] = Σₐ G[a, i] dU[a, b]
    return (gt @ rows).reshape(3, 3, cin, cout)                   # [i, j] = Σ_b G[b, j] [i, b]


# The transforms are separable (a 1-D transform over the tile's rows, then over its columns),
# and each 1-D transform is a table: output row k is the sum of up to three input rows with
# signs ±1 (TABLES: the input rows, -1 for none, and the signs). `program` unrolls a 2-D
# transform into a list of row operations on a workspace `(rows, channels)`, each the signed sum
# of four rows, a missing term reading the workspace's zero row; `_tiles` runs the list
# as one loop nest whose inner loop runs over the channels, which LLVM vectorises. Written out
# term by term the transforms ran ~1.5x faster but took 4-7 s to compile (LLVM vectorising
# ~50 separate loops), a cost every user pays on the first epoch; written as one loop storing
# into all 16 planes they stayed scalar (1.7 ns per store, more than the products saved).
TABLES = {                                      # name -> (terms, signs)
    "BT": ([[0, 2, -1], [1, 2, -1], [2, 1, -1], [1, 3, -1]],      # Bᵀ: the input transform
           [[1, -1, 0], [1, 1, 0], [1, -1, 0], [1, -1, 0]]),
    "B": ([[0, -1, -1], [1, 2, 3], [1, 2, 0], [3, -1, -1]],       # B: its adjoint
          [[1, 0, 0], [1, -1, 1], [1, 1, -1], [-1, 0, 0]]),
    "AT": ([[0, 1, 2], [1, 2, 3]],                                 # Aᵀ: the output transform
           [[1, 1, 1], [1, -1, -1]]),
    "A": ([[0, -1, -1], [0, 1, -1], [0, 1, -1], [1, -1, -1]],     # A: its adjoint
          [[1, 0, 0], [1, 1, 0], [1, -1, 0], [-1, 0, 0]]),
}
_PROGRAMS = {}


def program(name, q, dtype):
    """`(ops, signs, rows)` computing `out = T src Tᵀ` for table `name` (p outputs from q
    inputs) on a q x q grid. The workspace holds src in rows `[0, q²)`, a zero row at q², then
    (for tables with three-term rows) the row pass's p·q results, and last out's p·p rows.
    `ops` `(n, 5)` is `(o, i, j, k, l)`: `ws[o] = Σ signs·ws[i, j, k, l]` (`signs` `(n, 4)` in
    `dtype`). Tables with at most two terms a row (Bᵀ, A) give each output directly as its
    (at most four) products of terms; the others (Aᵀ, B) pass over rows, then columns."""
    key = (name, q, np.dtype(dtype))
    if key not in _PROGRAMS:
        terms, sg = TABLES[name]
        p, zero = len(terms), q * q
        ops, signs = [], []

        def op(o, pairs):                    # pairs: (input row, sign); padded with zeros
            pairs = [(i, sgn) for i, sgn in pairs if i is not None]
            pairs += [(zero, 0)] * (4 - len(pairs))
            ops.append([o] + [i for i, _ in pairs])
            signs.append([sgn for _, sgn in pairs])

        def row(a):                          # [(input index, sign)] of table row a
            return [(i, sgn) for i, sgn in zip(terms[a], sg[a]) if i >= 0]
        if max(len(row(a)) for a in range(p)) <= 2:
            out = zero + 1
            for a in range(p):               # out[a, b] = Σ T[a, i] T[b, j] src[i, j]
                for b in range(p):
                    op(out + a * p + b, [(i * q + j, si * sj) for i, si in row(a)
                                         for j, sj in row(b)])
        else:
            mid = zero + 1
            out = mid + p * q
            for a in range(p):               # rows: mid[a, b] = Σ T[a, i] src[i, b]
                for b in range(q):
                    op(mid + a * q + b, [(i * q + b, si) for i, si in row(a)])
            for a in range(p):               # columns: out[a, b] = Σ T[b, j] mid[a, j]
                for b in range(p):
                    op(out + a * p + b, [(mid + a * q + j, sj) for j, sj in row(b)])
        _PROGRAMS[key] = (np.array(ops, dtype=np.int64), np.array(signs, dtype=dtype),
                          out + p * p)
    return _PROGRAMS[key]


# Tiles per pass of a program: the workspace's rows then hold `CHUNK_VALUES` values each (8
# tiles of 32 channels), so each row operation runs one loop long enough to vectorise well, and
# the workspace (up to 49 rows) stays in L1. With one tile per pass, 16- and 32-channel rows
# left loops too short for the vector units: forward + backward, 2 threads, against im2col's
# time, a (64, 13, 13, 16 -> 32) convolution took 1.36x, the reference CNN's second 1.14x (0.88x
# and 0.83x with 8 tiles per pass and the unsigned indices below).
CHUNK_VALUES = 256


@jit
def _tiles(src, src_base, gather, ops, signs, rows, dst, dst_base, scatter, add, c, chunk):
    """One transform over a block of tiles, `chunk` tiles per pass: each tile's rows of `src`
    go into the workspace, the program runs, and its last rows go to `dst` (added with `add`).

    An NHWC side (`src` or `dst` viewed as `(n·h·w, c)`) is addressed through its index array:
    row `base + index[t, e]` for tile t's element e, -1 for none (padding reads zeros, positions
    past the output's edge are not written). A planes side (16 planes of tiles, viewed as
    `(16, tiles·c)`) has an empty index array `(0, 16)`: tile t's element e is
    `[e, t·c:(t + 1)·c]`, so a pass copies each plane's run of tiles in one loop (`c` is the
    channel count). All four transforms run through this
    one kernel: written out one by one they took 4-7 s to compile (LLVM vectorising each of
    their loops), this takes a fraction of that."""
    src_planes, dst_planes = gather.shape[0] == 0, scatter.shape[0] == 0
    nt = scatter.shape[0] if src_planes else gather.shape[0]
    nin, nout = gather.shape[1], scatter.shape[1]
    ws = np.zeros((rows, chunk * c), dtype=dst.dtype)     # the zero row is never written
    out = rows - nout
    # (Indices inside the copy loops are unsigned: Numba tests a signed index for negative
    # values, to wrap it around, on every element, and that test stops LLVM from vectorising
    # the copy: 3.5x slower with row slices, 6x with signed offsets.)
    cu = np.uint64(c)
    for t0 in range(0, nt, chunk):
        tn = min(chunk, nt - t0)
        width = np.uint64(tn) * cu
        if src_planes:
            base = np.uint64(t0) * cu
            for e in range(nin):
                for j in range(width):
                    ws[e, j] = src[e, base + j]
        else:
            for tt in range(tn):
                off = np.uint64(tt) * cu
                for e in range(nin):
                    r = gather[t0 + tt, e]
                    if r >= 0:
                        row = np.uint64(src_base + r)
                        for k in range(cu):
                            ws[e, off + k] = src[row, k]
                    else:
                        for k in range(cu):
                            ws[e, off + k] = 0.0
        for r in range(ops.shape[0]):                    # the program, over tn·c values
            o, i, j, k, l = ops[r, 0], ops[r, 1], ops[r, 2], ops[r, 3], ops[r, 4]
            si, sj, sk, sl = signs[r, 0], signs[r, 1], signs[r, 2], signs[r, 3]
            for v in range(width):
                ws[o, v] = (si * ws[i, v] + sj * ws[j, v]) + (sk * ws[k, v] + sl * ws[l, v])
        if dst_planes:
            base = np.uint64(t0) * cu
            for e in range(nout):
                for j in range(width):
                    dst[e, base + j] = ws[out + e, j]
        else:
            for tt in range(tn):
                off = np.uint64(tt) * cu
                for e in range(nout):
                    r = scatter[t0 + tt, e]
                    if r >= 0:
                        row = np.uint64(dst_base + r)
                        for k in range(cu):
                            dst[row, k] = ws[out + e, off + k] + (dst[row, k] if add else 0.0)


_INDEX = {}


def tile_rows(nb, h, w, size, pt, pl, limit_h, limit_w):
    """`(nb·th·tw, size²)` rows, within a block of `nb` images of `h x w` pixels, of each
    tile's `size x size` window (top-left at `(2ty - pt, 2tx - pl)`, tiles covering a
    `limit_h x limit_w` output), -1 outside the image; cached per geometry."""
    key = (nb, h, w, size, pt, pl, limit_h, limit_w)
    rows = _INDEX.get(key)
    if rows is None:
        th, tw = tiles(limit_h, limit_w)
        i, ty, tx, a, b = np.ix_(range(nb), range(th), range(tw), range(size), range(size))
        iy, ix = 2 * ty - pt + a, 2 * tx - pl + b
        rows = np.where((iy >= 0) & (iy < h) & (ix >= 0) & (ix < w), (i * h + iy) * w + ix, -1)
        rows = np.ascontiguousarray(rows.reshape(nb * th * tw, size * size), dtype=np.int64)
        if len(_INDEX) > 64:
            _INDEX.clear()
        _INDEX[key] = rows
    return rows


PLANES = np.zeros((0, 16), dtype=np.int64)   # `_tiles`'s index for a planes side


def _chunk(channels):
    """Tiles per pass of `_tiles` for rows of `channels` values."""
    return max(1, CHUNK_VALUES // channels)


def plan(n, oh, ow, cin, cout, itemsize):
    """Per thread, its list of `(i0, i1)` image blocks: one thread when the budget is one
    (or Numba's own pool is in use, or the work is small), else one contiguous range of images
    per thread; blocks sized so a block's `V` and `M` planes fit in `conv_threads.BLOCK_BYTES`."""
    th, tw = tiles(oh, ow)
    t = 1 if PARALLEL else max(1, min(num_threads(), n))
    if n * oh * ow * 9 * cin * cout < conv_threads.MIN_WORK:
        t = 1
    return conv_threads.image_blocks(
        n, t, conv_threads.BLOCK_BYTES // (th * tw * 16 * (cin + cout) * itemsize))


def forward(x, w, padding, oh, ow, bias, relu):
    """`y` `(n, oh, ow, cout)` of the 3x3 stride-1 convolution of `x` (C-contiguous float32 or
    float64) with `w` `(3, 3, cin, cout)`, padded `(top, left)` = `padding` (bias and ReLU
    applied when given)."""
    n, h, wd, cin = x.shape
    cout = w.shape[3]
    th, tw = tiles(oh, ow)
    pt, pl = padding
    u = filter_transform(w)
    bt, at = program("BT", 4, x.dtype), program("AT", 4, x.dtype)
    y = np.empty((n, oh, ow, cout), dtype=x.dtype)
    x2, y2 = x.reshape(-1, cin), y.reshape(-1, cout)
    has_bias = bias is not None
    bias_vector = as_bias(bias, cout, x.dtype)
    blocks = plan(n, oh, ow, cin, cout, x.itemsize)

    def run(my_blocks):
        most = conv_threads.largest(my_blocks) * th * tw
        vs = np.empty(16 * most * cin, dtype=x.dtype)
        ms = np.empty(16 * most * cout, dtype=x.dtype)
        for i0, i1 in my_blocks:
            nb = i1 - i0
            nt = nb * th * tw
            v = vs[:16 * nt * cin].reshape(16, nt, cin)
            m = ms[:16 * nt * cout].reshape(16, nt, cout)
            _tiles(x2, i0 * h * wd, tile_rows(nb, h, wd, 4, pt, pl, oh, ow), *bt,
                   v.reshape(16, -1), 0, PLANES, False, cin, _chunk(cin))  # V = Bᵀ d B
            np.matmul(v, u, out=m)                                         # M[e] = V[e]·U[e]
            _tiles(m.reshape(16, -1), 0, PLANES, *at, y2, i0 * oh * ow,
                   tile_rows(nb, oh, ow, 2, 0, 0, oh, ow), False, cout, _chunk(cout))
            if has_bias or relu:                                           # Y = max(Y + b, 0)
                _bias_relu(y2[i0 * oh * ow:i1 * oh * ow], bias_vector, has_bias, relu)
    conv_threads.parallel([(lambda mine=mine: run(mine)) for mine in blocks])
    return y


def backward(x, w, dy, padding, y=None, need_db=False, need_dx=True):
    """`(dx or None, dw, db or None)` of `forward` given `dy`: `y` is the forward's output when
    it applied a ReLU (its mask is applied to `dy` first); db (float64) with `need_db`."""
    n, h, wd, cin = x.shape
    _, oh, ow, cout = dy.shape
    th, tw = tiles(oh, ow)
    pt, pl = padding
    u = filter_transform(w)
    ut = np.ascontiguousarray(u.transpose(0, 2, 1))
    bt, b_ = program("BT", 4, x.dtype), program("B", 4, x.dtype)
    a_ = program("A", 2, x.dtype)
    dx = np.empty_like(x) if need_dx else None
    x2, dy2 = x.reshape(-1, cin), dy.reshape(-1, cout)
    dx2 = dx.reshape(-1, cin) if need_dx else None
    relu = y is not None
    y2 = dy2 if y is None else y.reshape(-1, cout)
    epilogue = relu or need_db
    blocks = plan(n, oh, ow, cin, cout, x.itemsize)

    def run(my_blocks):
        most = conv_threads.largest(my_blocks)
        vs = np.empty(16 * most * th * tw * cin, dtype=x.dtype)
        ms = np.empty(16 * most * th * tw * cout, dtype=x.dtype)
        zs = np.empty(most * oh * ow * cout, dtype=x.dtype) if epilogue else None
        acc = np.zeros(cout, np.float64)
        du = np.zeros((16, cin, cout), dtype=x.dtype)
        part = np.empty_like(du)
        for i0, i1 in my_blocks:
            nb = i1 - i0
            nt = nb * th * tw
            v = vs[:16 * nt * cin].reshape(16, nt, cin)
            dm = ms[:16 * nt * cout].reshape(16, nt, cout)
            windows = tile_rows(nb, h, wd, 4, pt, pl, oh, ow)
            rows = slice(i0 * oh * ow, i1 * oh * ow)
            src, base = dy2, i0 * oh * ow
            if epilogue:                                   # dZ = dY·[Y > 0], db += Σ dZ
                src, base = zs[:nb * oh * ow * cout].reshape(-1, cout), 0
                _mask_and_sum(dy2[rows], y2[rows], relu, src, acc)
            _tiles(src, base, tile_rows(nb, oh, ow, 2, 0, 0, oh, ow), *a_,
                   dm.reshape(16, -1), 0, PLANES, False, cout, _chunk(cout))  # A dZ Aᵀ
            _tiles(x2, i0 * h * wd, windows, *bt, v.reshape(16, -1), 0, PLANES, False, cin,
                   _chunk(cin))                                            # V again
            np.matmul(v.transpose(0, 2, 1), dm, out=part)                 # dU += Vᵀ·dM
            du += part
            if need_dx:
                np.matmul(dm, ut, out=v)                                   # dV = dM·Uᵀ
                dx2[i0 * h * wd:i1 * h * wd] = 0
                _tiles(v.reshape(16, -1), 0, PLANES, *b_, dx2, i0 * h * wd, windows, True,
                       cin, _chunk(cin))                                   # dX += B dV Bᵀ
        return du, acc
    parts = conv_threads.parallel([(lambda mine=mine: run(mine)) for mine in blocks])
    du = conv_threads.sum_in_order([p[0] for p in parts])     # in thread order
    acc = conv_threads.sum_in_order([p[1] for p in parts])
    return dx, filter_transform_adjoint(du), (acc if need_db else None)
