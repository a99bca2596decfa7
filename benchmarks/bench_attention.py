"""Self-attention block, forward + backward, kerasnp's MultiHeadAttention vs PyTorch's
`torch.nn.MultiheadAttention` (CPU, float32), measured in the same run.

Workload: batch 32, sequence 64, model dim 128, 4 heads of 32 (`MultiHeadAttention(4, 32)` and
`nn.MultiheadAttention(128, 4, batch_first=True)`: the same 66,048 weights); one step is the
self-attention forward and the backward to the input and every weight (`sum(y * dy)`), with no
attention weights returned. Rounds of the two libraries alternate with a pause (so one
library's idle-spinning threads do not slow the other) and medians are printed; PyTorch runs
with as many threads as the machine has cores, as NumPy's BLAS does by default.

Run: `python benchmarks/bench_attention.py [--rounds 10] [--repeats 5]`.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

BATCH, STEPS, DIM, HEADS = 32, 64, 128, 4


def kerasnp_step(rng, masked):
    import kerasnp as keras
    from kerasnp.autodiff import GradientTape
    keras.set_random_seed(0)
    x = rng.standard_normal((BATCH, STEPS, DIM), dtype=np.float32)
    dy = rng.standard_normal((BATCH, STEPS, DIM), dtype=np.float32)
    mha = keras.layers.MultiHeadAttention(num_heads=HEADS, key_dim=DIM // HEADS)
    mha(x, x)
    weights = mha.trainable_weights
    kw = {"use_causal_mask": True} if masked else {}

    def run():
        with GradientTape() as tape:
            tape.watch(x)
            y = mha(x, x, training=True, **kw)
        tape.gradient(y, [x] + weights, output_gradients=dy)
    return run, mha.count_params()


def torch_step(torch, rng, masked):
    torch.manual_seed(0)
    x = torch.tensor(rng.standard_normal((BATCH, STEPS, DIM), dtype=np.float32),
                     requires_grad=True)
    dy = torch.tensor(rng.standard_normal((BATCH, STEPS, DIM), dtype=np.float32))
    mha = torch.nn.MultiheadAttention(DIM, HEADS, batch_first=True)
    mask = torch.triu(torch.ones(STEPS, STEPS, dtype=torch.bool), 1) if masked else None

    def run():
        mha.zero_grad(set_to_none=True)
        x.grad = None
        y, _ = mha(x, x, x, need_weights=False, attn_mask=mask)
        y.backward(dy)
    return run, sum(p.numel() for p in mha.parameters())


def time_calls(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5, help="steps per round")
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    cases = {"self-attention": False, "causal self-attention": True}
    runners = {"kerasnp": {k: kerasnp_step(rng, m) for k, m in cases.items()}}
    threads = os.cpu_count()
    try:
        import torch
        torch.set_num_threads(threads)
        runners["torch"] = {k: torch_step(torch, rng, m) for k, m in cases.items()}
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; NumPy's BLAS "
              f"default threads ({threads} cores)")
    except ImportError:
        print("torch not installed: kerasnp only")
    params = {lib: next(iter(r.values()))[1] for lib, r in runners.items()}
    print(f"batch {BATCH}, sequence {STEPS}, dim {DIM}, {HEADS} heads; parameters: "
          + ", ".join(f"{lib} {n:,}" for lib, n in params.items()))
    times = {lib: {k: [] for k in cases} for lib in runners}
    for lib in runners:                                   # warm-up calls, untimed
        for fn, _ in runners[lib].values():
            fn()
            fn()
    for _ in range(args.rounds):
        for lib, fns in runners.items():
            time.sleep(0.25)
            for name, (fn, _) in fns.items():
                times[lib][name] += time_calls(fn, args.repeats)
    med = {lib: {k: 1e3 * float(np.median(v)) for k, v in t.items()} for lib, t in times.items()}
    print(f"{'forward+backward':<24}{'kerasnp ms':>11}{'torch ms':>10}{'ratio':>8}")
    for name in cases:
        line = f"{name:<24}{med['kerasnp'][name]:>11.2f}"
        if "torch" in med:
            theirs = med["torch"][name]
            line += f"{theirs:>10.2f}{med['kerasnp'][name] / theirs:>8.2f}"
        print(line)


if __name__ == "__main__":
    main()
