"""Time the reference-CNN kernels per batch of 64 (float32) against PyTorch CPU in the same run.

Workload (DESIGN.md): 28x28x1 -> Conv2D(32, 3) -> MaxPool(2) -> Conv2D(64, 3) -> MaxPool(2).
Each row is forward + backward of one op; the first conv's dx is included although a first layer
does not need it (the kernel always returns it). Run: `python benchmarks/bench_kernels.py`.
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kerasnp import kernels  # noqa: E402

BATCH, REPEATS = 64, 30
VALID, ONE, NONE = (0, 0, 0, 0), (1, 1), (0, 0, 0, 0)


def best_ms(fn, repeats=REPEATS):
    """Median of `repeats` timed calls, in milliseconds (after one untimed call)."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1e3 * float(np.median(times))


def kerasnp_cases(rng):
    x1 = rng.random((BATCH, 28, 28, 1), dtype=np.float32)
    w1 = rng.standard_normal((3, 3, 1, 32), dtype=np.float32)
    x2 = rng.random((BATCH, 13, 13, 32), dtype=np.float32)
    w2 = rng.standard_normal((3, 3, 32, 64), dtype=np.float32)
    p1 = rng.random((BATCH, 26, 26, 32), dtype=np.float32)
    p2 = rng.random((BATCH, 11, 11, 64), dtype=np.float32)

    def conv(x, w):
        def run():
            y = kernels.conv2d_forward(x, w, ONE, VALID, ONE, 1)
            kernels.conv2d_backward(x, w, y, ONE, VALID, ONE, 1)
        return run

    def pool(x):
        def run():
            y, idx = kernels.pool2d_forward(x, (2, 2), (2, 2), NONE, "max")
            kernels.pool2d_backward(y, idx, x.shape)
        return run

    return {"conv1 28x28x1->32": conv(x1, w1), "conv2 13x13x32->64": conv(x2, w2),
            "maxpool1 26x26x32": pool(p1), "maxpool2 11x11x64": pool(p2)}


def torch_cases(rng):
    try:
        import torch
    except ImportError:
        return None
    f = torch.nn.functional

    def conv(cin, cout, size):
        x = torch.tensor(rng.random((BATCH, cin, size, size), dtype=np.float32), requires_grad=True)
        w = torch.tensor(rng.standard_normal((cout, cin, 3, 3), dtype=np.float32),
                         requires_grad=True)

        def run():
            y = f.conv2d(x, w)
            y.backward(y.detach())
        return run

    def pool(c, size):
        x = torch.tensor(rng.random((BATCH, c, size, size), dtype=np.float32), requires_grad=True)

        def run():
            y = f.max_pool2d(x, 2)
            y.backward(y.detach())
        return run

    return {"conv1 28x28x1->32": conv(1, 32, 28), "conv2 13x13x32->64": conv(32, 64, 13),
            "maxpool1 26x26x32": pool(32, 26), "maxpool2 11x11x64": pool(64, 11)}


def main():
    rng = np.random.default_rng(0)
    print(f"warmup (compile or cache load): {kernels.warmup():.2f} s")
    ours = {k: best_ms(v) for k, v in kerasnp_cases(rng).items()}
    torch_fns = torch_cases(rng)
    theirs = {k: best_ms(v) for k, v in torch_fns.items()} if torch_fns else {}
    print(f"{'forward+backward, batch 64':<28}{'kerasnp ms':>11}{'torch ms':>10}{'ratio':>8}")
    for name, ms in ours.items():
        t = theirs.get(name)
        extra = f"{t:>10.2f}{ms / t:>8.2f}" if t else f"{'-':>10}{'-':>8}"
        print(f"{name:<28}{ms:>11.2f}{extra}")
    total, ttotal = sum(ours.values()), sum(theirs.values())
    print(f"{'total':<28}{total:>11.2f}" + (f"{ttotal:>10.2f}{total / ttotal:>8.2f}" if theirs else ""))


if __name__ == "__main__":
    main()
