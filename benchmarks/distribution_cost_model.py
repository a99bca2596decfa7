"""A cost model of synchronous data-parallel training (kerasnp.distribution.DataParallel).

MODEL, NOT MEASUREMENT (unless --measure). Per step, each of p processes computes its shard
of the global batch B, then the gradients (P parameters, 4 or 8 bytes each) are summed by one
ring all-reduce, which sends 2·(p-1)/p · P·bytes per process (about 2x the parameter bytes) in
2·(p-1) messages. kerasnp does not overlap the all-reduce with the backward pass, so

    step(p) = F·B / (p·R)  +  2·(p-1)·α  +  2·(p-1)/p · P·bytes / W

with F the training FLOPs per sample (3x the forward pass), R the FLOP rate of one process,
α the per-message latency and W the link bandwidth. Efficiency = step(1) / (p·step(p)).
The assumptions (R, α, B) are printed with the table; change them with the flags.

Run:
    python benchmarks/distribution_cost_model.py [--rate-gflops 200] [--batch 256]
    mpiexec -n 2 python benchmarks/distribution_cost_model.py --measure
        (measures this machine's all-reduce time and the 2-process speedup of the MLP's fit,
        and prints them next to the model's prediction)
"""
import argparse
import os
import tempfile
import time

import numpy as np

# (name, parameters, training FLOPs per sample = 3 x forward)
MODELS = [
    # 784-256-128-10: 235,146 weights; forward 2 FLOPs per weight per sample
    ("MLP 784-256-128-10", 235_146, 3 * 2 * 235_146),
    # Conv(32,3)-Pool-Conv(64,3)-Pool-Dense(128)-Dense(10) on 28x28x1 (benchmarks/bench_cnn.py)
    ("reference CNN (MNIST)", 225_034, 3 * 2 * (26 * 26 * 32 * 9 + 11 * 11 * 64 * 288
                                                + 1600 * 128 + 128 * 10)),
    # ResNet-50 at 224x224: 25.6 M weights, 4.1 G multiply-adds forward
    ("ResNet-50 (224x224)", 25_557_032, 3 * 2 * 4.1e9),
]
RANKS = [2, 8, 32, 128, 256]
LINKS = [("10 Gbit/s", 10e9 / 8), ("100 Gbit/s", 100e9 / 8)]


def step_time(params, flops, batch, p, rate, latency, bandwidth, nbytes):
    compute = flops * batch / (p * rate)
    comm = 0.0 if p == 1 else 2 * (p - 1) * latency + 2 * (p - 1) / p * params * nbytes / bandwidth
    return compute, comm


def table(rate, batch, latency, nbytes):
    lines = [f"Assumed: {rate / 1e9:g} GFLOP/s per process, global batch {batch}, "
             f"{latency * 1e6:g} us per message, {nbytes}-byte gradients, no overlap.", "",
             "| model | ranks | compute/step | all-reduce 10 Gbit/s | efficiency | "
             "all-reduce 100 Gbit/s | efficiency |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for name, params, flops in MODELS:
        one = flops * batch / rate
        for p in RANKS:
            row = [name, str(p)]
            for k, (_, bw) in enumerate(LINKS):
                compute, comm = step_time(params, flops, batch, p, rate, latency, bw, nbytes)
                if k == 0:
                    row.append(_ms(compute))
                row += [_ms(comm), f"{one / (p * (compute + comm)):.0%}"]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def _ms(t):
    if t >= 1.0:
        return f"{t:.3g} s"
    return f"{t * 1e3:.3g} ms" if t >= 1e-3 else f"{t * 1e6:.3g} us"


def _mlp_epoch_seconds(keras, x, y, batch):
    """Seconds of the second of two MLP epochs (the first compiles and warms the caches)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), keras.layers.Dense(256, "relu"),
                              keras.layers.Dense(128, "relu"), keras.layers.Dense(10, "softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    t = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    return time.perf_counter() - t


def measure(batch):
    """Under `mpiexec -n p`: the all-reduce time of the MLP's gradients, the MLP's epoch on one
    process and on p processes (one BLAS thread per process, so that p processes on p cores do
    not oversubscribe them), and the model's prediction for p processes from the two
    measurements: compute(B/p) = compute(B)/p, plus one measured all-reduce per step."""
    from threadpoolctl import threadpool_limits   # scikit-learn's dependency; benchmarks only
    import kerasnp as keras
    import kerasnp.distribution as dist
    threadpool_limits(1, user_api="blas")
    d = dist.DataParallel()
    dist.set_distribution(d)
    params = MODELS[0][1]
    buf = np.ones(params, np.float32)
    for _ in range(3):
        d.all_reduce(buf)
    t0 = time.perf_counter()
    for _ in range(50):
        d.all_reduce(buf)
    t_ar = (time.perf_counter() - t0) / 50
    rng = np.random.default_rng(0)
    n = 8192
    x, y = rng.normal(size=(n, 784)).astype("float32"), rng.integers(0, 10, n)
    t_p = _mlp_epoch_seconds(keras, x, y, batch)
    dist.set_distribution(None)
    # The one-process epoch runs on process 0 alone: the others sleep (an MPI wait would poll
    # and take a core) until it has written its marker file.
    from mpi4py import MPI
    marker = MPI.COMM_WORLD.bcast(tempfile.mktemp(prefix="kerasnp-measure-") if d.is_chief
                                  else None)
    if not d.is_chief:
        while not os.path.exists(marker):
            time.sleep(0.05)
        MPI.COMM_WORLD.barrier()
        return
    t_1 = _mlp_epoch_seconds(keras, x, y, batch)
    open(marker, "w").close()
    MPI.COMM_WORLD.barrier()
    os.remove(marker)
    p, steps = d.num_processes, -(-n // batch)
    predicted = t_1 / p + steps * t_ar
    print(f"MLP 784-256-128-10, {n} samples, global batch {batch}, {steps} steps per epoch, "
          f"1 BLAS thread per process")
    print(f"all-reduce of {params:,} float32 gradients: {t_ar * 1e3:.3f} ms measured")
    print(f"epoch on 1 process: {t_1:.3f} s measured")
    print(f"epoch on {p} processes: {t_p:.3f} s measured, {predicted:.3f} s predicted "
          f"(= {t_1:.3f}/{p} + {steps} x {t_ar * 1e3:.3f} ms); measured/predicted "
          f"{t_p / predicted:.2f}")
    print(f"speedup on {p} processes: {t_1 / t_p:.2f}x measured, {t_1 / predicted:.2f}x "
          f"predicted")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate-gflops", type=float, default=200.0)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--latency-us", type=float, default=5.0)
    ap.add_argument("--bytes", type=int, default=4, choices=(4, 8))
    ap.add_argument("--measure", action="store_true")
    args = ap.parse_args()
    if args.measure:
        measure(args.batch)
        return
    print(table(args.rate_gflops * 1e9, args.batch, args.latency_us * 1e-6, args.bytes))


if __name__ == "__main__":
    main()
