"""Time the reference-CNN kernels per batch of 64 (float32) against PyTorch CPU in the same run.

Workload (DESIGN.md): 28x28x1 -> Conv2D(32, 3) -> MaxPool(2) -> Conv2D(64, 3) -> MaxPool(2).
Each row is forward + backward of one op, called the way the layers call it: the forward keeps
its im2col columns for the backward, and the first convolution skips its input gradient (so
does PyTorch, whose input does not require a gradient there). Rounds of kerasnp and PyTorch
alternate (with a pause, so one library's idle-spinning threads do not slow the other), so both
see the same machine load; medians are printed.

Run: `python benchmarks/bench_kernels.py [--rounds 15]`.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from kerasnp import kernels  # noqa: E402

BATCH = 64
ONE, VALID = (1, 1), (0, 0, 0, 0)
# name: (input (h, w, cin), cout or None for a 2x2 max pool, whether dx is needed)
CASES = {"conv1 28x28x1->32": ((28, 28, 1), 32, False),
         "conv2 13x13x32->64": ((13, 13, 32), 64, True),
         "maxpool 26x26x32": ((26, 26, 32), None, True),
         "maxpool 11x11x64": ((11, 11, 64), None, True)}


def kerasnp_case(rng, shape, cout, need_dx):
    x = rng.random((BATCH, *shape), dtype=np.float32)
    if cout is None:
        def run():
            y, idx = kernels.pool2d_forward(x, (2, 2), (2, 2), VALID, "max")
            kernels.pool2d_backward(y, idx, x.shape)
        return run
    w = rng.standard_normal((3, 3, shape[2], cout), dtype=np.float32)

    def run():
        y, cols = kernels.conv2d_forward(x, w, ONE, VALID, ONE, 1, keep_cols=True)
        kernels.conv2d_backward(x, w, y, ONE, VALID, ONE, 1, cols=cols, need_dx=need_dx)
    return run


def torch_case(torch, rng, shape, cout, need_dx):
    f = torch.nn.functional
    h, w_, cin = shape
    x = torch.tensor(rng.random((BATCH, cin, h, w_), dtype=np.float32), requires_grad=need_dx)
    if cout is None:
        def run():
            y = f.max_pool2d(x, 2)
            y.backward(y.detach())
        return run
    w = torch.tensor(rng.standard_normal((cout, cin, 3, 3), dtype=np.float32),
                     requires_grad=True)

    def run():
        y = f.conv2d(x, w)
        y.backward(y.detach())
    return run


def time_ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--repeats", type=int, default=5, help="calls per round")
    args = parser.parse_args()
    print(f"warmup (compile or cache load): {kernels.warmup():.2f} s")
    rng = np.random.default_rng(0)
    runners = {"kerasnp": {k: kerasnp_case(rng, *v) for k, v in CASES.items()}}
    try:
        import torch
        runners["torch"] = {k: torch_case(torch, rng, *v) for k, v in CASES.items()}
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    except ImportError:
        print("torch not installed: kerasnp only")
    times = {lib: {k: [] for k in CASES} for lib in runners}
    for lib in runners:                                   # one untimed call each
        for fn in runners[lib].values():
            fn()
    for _ in range(args.rounds):
        for lib, fns in runners.items():
            time.sleep(0.25)        # let the other library's spinning threads go to sleep
            for name, fn in fns.items():
                times[lib][name] += time_ms(fn, args.repeats)
    med = {lib: {k: 1e3 * float(np.median(v)) for k, v in t.items()} for lib, t in times.items()}
    print(f"{'forward+backward, batch 64':<28}{'kerasnp ms':>11}{'torch ms':>10}{'ratio':>8}")
    for name in [*CASES, "total"]:
        ours = med["kerasnp"].get(name, sum(med["kerasnp"].values()))
        line = f"{name:<28}{ours:>11.2f}"
        if "torch" in med:
            theirs = med["torch"].get(name, sum(med["torch"].values()))
            line += f"{theirs:>10.2f}{ours / theirs:>8.2f}"
        print(line)


if __name__ == "__main__":
    main()
