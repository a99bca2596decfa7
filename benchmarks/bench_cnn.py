"""CNN workloads, kerasnp vs PyTorch CPU with the same thread count, measured in one run.

`--workload mnist` (the reference CNN): Conv2D(32,3,relu) -> MaxPool(2) -> Conv2D(64,3,relu) ->
MaxPool(2) -> Flatten -> Dense(128,relu) -> Dense(10,softmax); batch 64, Adam 1e-3, 4,000
training images (MNIST-5k).
`--workload cifar` (CIFAR-shaped): 3,000 random 32x32x3 images, 'same' Conv2D 32-32 -> MaxPool
-> Conv2D 64-64 -> MaxPool (relu) -> Flatten -> Dense(10,softmax); batch 128, Adam 1e-3.

`--threads N [N ...]` runs both libraries with N threads each (kerasnp through
`keras.config.set_num_threads`, PyTorch through `torch.set_num_threads`), one row per N (a
sweep); the default is the CPUs this process may use. `--contention` adds, for each library,
the steady epoch measured while one busy process per thread spins beside it, over the quiet
epoch (a fair share of the cores makes that 2x).

Each library runs in its own subprocess so that its peak memory (RSS) is its own. kerasnp runs
twice: first with an empty Numba cache directory (cold: the first epoch pays the compilation),
then again with the same directory (warm: machine code loaded from disk).
Printed: first-epoch seconds (cold/warm), steady-state seconds per epoch (median), predict time
for 1,000 images, peak RSS, and kerasnp's ratio to PyTorch (< 1 means kerasnp is faster).

Run: python benchmarks/bench_cnn.py [--epochs 3] [--workload mnist|cifar] [--threads 2 4 8 16]
     [--contention]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def data(workload):
    """((x, y), (x_test, y_test), batch): channels-last float32 images, int64 labels."""
    if workload == "mnist":
        from _common import mnist5k
        return (*mnist5k(flat=False), 64)
    import numpy as np
    rng = np.random.default_rng(0)
    x = rng.random((4000, 32, 32, 3), dtype=np.float32)
    y = (x[:, :16].mean(axis=(1, 2, 3)) * 40).astype("int64") % 10   # learnable labels
    return (x[:3000], y[:3000]), (x[3000:], y[3000:]), 128


def worker_kerasnp(epochs, workload, threads):
    sys.path.insert(0, HERE)
    from _common import peak_rss_mb
    t_import = time.perf_counter()
    import kerasnp as keras
    from kerasnp import layers as L
    if threads:
        keras.config.set_num_threads(threads)
    (x, y), (xt, yt), batch = data(workload)
    keras.set_random_seed(0)
    if workload == "mnist":
        body = [keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
                L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                L.Dense(128, activation="relu")]
    else:
        body = [keras.Input((32, 32, 3)),
                L.Conv2D(32, 3, padding="same", activation="relu"),
                L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                L.Conv2D(64, 3, padding="same", activation="relu"),
                L.Conv2D(64, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                L.Flatten()]
    model = keras.Sequential(body + [L.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
    first = time.perf_counter() - t0
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        times.append(time.perf_counter() - t0)
    model.predict(xt[:64], verbose=0)
    t0 = time.perf_counter()
    model.predict(xt, batch_size=1000, verbose=0)
    pred = time.perf_counter() - t0
    acc = model.evaluate(xt, yt, verbose=0)[1]
    return {"first": first, "import": t0 - t_import, "steady": sorted(times)[len(times) // 2],
            "predict": pred, "acc": acc, "rss": peak_rss_mb()}


def worker_torch(epochs, workload, threads):
    sys.path.insert(0, HERE)
    from _common import peak_rss_mb
    import torch
    if threads:
        torch.set_num_threads(threads)
    (x, y), (xt, yt), batch = data(workload)
    torch.manual_seed(0)
    nn = torch.nn
    if workload == "mnist":
        net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                            nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128),
                            nn.ReLU(), nn.Linear(128, 10))
    else:
        net = nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(),
                            nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
                            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                            nn.Flatten(), nn.Linear(4096, 10))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    lossf = nn.CrossEntropyLoss()
    tx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    ty = torch.from_numpy(y)
    gen = torch.Generator().manual_seed(0)

    def epoch():
        perm = torch.randperm(len(tx), generator=gen)
        for i in range(0, len(tx), batch):
            idx = perm[i:i + batch]
            opt.zero_grad()
            lossf(net(tx[idx]), ty[idx]).backward()
            opt.step()

    t0 = time.perf_counter()
    epoch()
    first = time.perf_counter() - t0
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        epoch()
        times.append(time.perf_counter() - t0)
    txt = torch.from_numpy(xt).permute(0, 3, 1, 2).contiguous()
    with torch.no_grad():
        net(txt[:64])
        t0 = time.perf_counter()
        out = net(txt)
        pred = time.perf_counter() - t0
    acc = float((out.argmax(1).numpy() == yt).mean())
    return {"first": first, "steady": sorted(times)[len(times) // 2], "predict": pred,
            "acc": acc, "rss": peak_rss_mb()}


def run(which, args, threads, cache_dir=None):
    env = dict(os.environ)
    if cache_dir:
        env["NUMBA_CACHE_DIR"] = cache_dir
    cmd = [sys.executable, __file__, "--worker", which, "--epochs", str(args.epochs),
           "--workload", args.workload, "--threads", str(threads or 0)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        sys.stderr.write(out.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def busy_processes(n):
    """`n` processes that spin on a core each (the "shared machine" of --contention)."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def contended(which, args, threads):
    spinners = busy_processes(threads or len(os.sched_getaffinity(0)))
    try:
        time.sleep(0.5)
        return run(which, args, threads)
    finally:
        for p in spinners:
            p.kill()
            p.wait()


def row(label, ours, theirs, fmt="{:>10.3f}"):
    r = f"{ours / theirs:>8.2f}" if theirs else f"{'-':>8}"
    t = fmt.format(theirs) if theirs is not None else f"{'-':>10}"
    print(f"{label:<34}{fmt.format(ours)}{t}{r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after the first")
    parser.add_argument("--workload", choices=["mnist", "cifar"], default="mnist")
    parser.add_argument("--threads", type=int, nargs="*", default=[0],
                        help="thread counts to run (0: the CPUs this process may use)")
    parser.add_argument("--contention", action="store_true",
                        help="also time the epoch beside one busy process per thread")
    parser.add_argument("--worker", choices=["kerasnp", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        fn = worker_kerasnp if args.worker == "kerasnp" else worker_torch
        print(json.dumps(fn(args.epochs, args.workload, args.threads[0])))
        return
    title = ("CNN reference workload, MNIST-5k (4,000 train), batch 64" if args.workload == "mnist"
             else "CIFAR-shaped CNN, 3,000 x 32x32x3, batch 128")
    print(f"{title}, Adam 1e-3; ratio = kerasnp / PyTorch (< 1: kerasnp faster)")
    for threads in args.threads:
        n = threads or len(os.sched_getaffinity(0))
        with tempfile.TemporaryDirectory() as cache:
            cold = run("kerasnp", args, threads, cache)
            warm = run("kerasnp", args, threads, cache)
        peer = run("torch", args, threads) or {}
        print(f"\n{n} threads{'':<24}{'kerasnp':>10}{'pytorch':>10}{'ratio':>8}")
        row("first epoch, cold cache (s)", cold["first"], peer.get("first"))
        row("first epoch, warm cache (s)", warm["first"], peer.get("first"))
        row("steady epoch (s)", warm["steady"], peer.get("steady"))
        row("predict 1,000 images (s)", warm["predict"], peer.get("predict"), "{:>10.4f}")
        row("peak RSS (MB)", warm["rss"], peer.get("rss"), "{:>10.0f}")
        row("test accuracy", warm["acc"], peer.get("acc"))
        if args.contention:
            ours, theirs = contended("kerasnp", args, threads), contended("torch", args, threads)
            row(f"epoch beside {n} busy processes (s)", ours["steady"],
                theirs and theirs["steady"])
            q_ours = ours["steady"] / warm["steady"]
            q_theirs = theirs["steady"] / peer["steady"] if theirs and peer else None
            row("  ... over the quiet epoch", q_ours, q_theirs, "{:>10.2f}")


if __name__ == "__main__":
    main()
