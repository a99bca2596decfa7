"""Optimizer step cost on the MLP reference weights (784-256-128-10, float32), vs torch.optim.

Prints milliseconds per step for each kerasnp optimizer and the matching torch optimizer, and their
ratio, measured in this run. Run: python benchmarks/bench_optimizers.py
"""
import time

import numpy as np

from kerasnp import optimizers
from kerasnp.variables import Variable

SHAPES = [(784, 256), (256,), (256, 128), (128,), (128, 10), (10,)]


def best_ms(step, repeats=5, inner=50):
    for _ in range(5):
        step()
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        for _ in range(inner):
            step()
        best = min(best, (time.perf_counter() - t) / inner)
    return best * 1e3


def main():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    try:
        import torch
    except ImportError:
        torch = None
    pairs = {"SGD(momentum=0.9)": (lambda: optimizers.SGD(0.01, momentum=0.9),
                                   lambda p: torch.optim.SGD(p, 0.01, momentum=0.9)),
             "RMSprop": (lambda: optimizers.RMSprop(), lambda p: torch.optim.RMSprop(p, 1e-3)),
             "Adam": (lambda: optimizers.Adam(), lambda p: torch.optim.Adam(p, 1e-3)),
             "AdamW": (lambda: optimizers.AdamW(), lambda p: torch.optim.AdamW(p, 1e-3))}
    print(f"{'optimizer':<20}{'kerasnp ms':>12}{'torch ms':>10}{'ratio':>8}")
    for name, (ours, theirs) in pairs.items():
        variables = [Variable(a.copy(), "w") for a in arrays]
        for v in variables:
            v.grad[...] = rng.standard_normal(v.shape)
        opt = ours()
        ms = best_ms(lambda: opt.apply(variables))
        if torch is None:
            print(f"{name:<20}{ms:>12.3f}{'-':>10}{'-':>8}")
            continue
        params = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in arrays]
        for p in params:
            p.grad = torch.randn_like(p)
        topt = theirs(params)
        tms = best_ms(topt.step)
        print(f"{name:<20}{ms:>12.3f}{tms:>10.3f}{ms / tms:>8.2f}")


if __name__ == "__main__":
    main()
