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

Each library runs in its own subprocess, so that its peak memory (RSS) is its own, and the two
take turns: one epoch of kerasnp, a pause, one epoch of PyTorch, a pause, and so on, each
library's median over the rounds reported. A slow stretch of a shared machine then lands on
both libraries instead of on whichever ran during it (run back to back, the reference CNN's
ratio read anywhere from 0.69 to 1.59 on the same code). kerasnp's first epoch is measured
twice: in a process of its own with an empty Numba cache directory (cold: the epoch pays the
compilation), and in the timed process with the same directory (warm: machine code loaded from
disk).
Printed: first-epoch seconds (cold/warm), steady-state seconds per epoch (median), predict time
for 1,000 images (median of 3 turns), peak RSS, and kerasnp's ratio to PyTorch (< 1 means
kerasnp is faster).

Run: python benchmarks/bench_cnn.py [--epochs 5] [--workload mnist|cifar] [--threads 2 4 8 16]
     [--contention]
"""
import argparse
import json
import os
import statistics
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


def worker_kerasnp(workload, threads):
    """The kerasnp model's epoch, predict and accuracy callables."""
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
    return {"epoch": lambda: model.fit(x, y, batch_size=batch, epochs=1, verbose=0),
            "predict": lambda: model.predict(xt, batch_size=1000, verbose=0),
            "accuracy": lambda: model.evaluate(xt, yt, verbose=0)[1]}


def worker_torch(workload, threads):
    """The PyTorch model's epoch, predict and accuracy callables."""
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

    txt = torch.from_numpy(xt).permute(0, 3, 1, 2).contiguous()

    def predict():
        with torch.no_grad():
            return net(txt)

    def accuracy():
        return float((predict().argmax(1).numpy() == yt).mean())
    return {"epoch": epoch, "predict": predict, "accuracy": accuracy}


def serve(which, workload, threads):
    """Worker process: builds its library's model, then answers one command per stdin line
    ("epoch", "predict": the seconds it took; "finish": accuracy and peak RSS, then exits)."""
    sys.path.insert(0, HERE)
    from _common import peak_rss_mb
    fns = (worker_kerasnp if which == "kerasnp" else worker_torch)(workload, threads)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "finish":
            print(json.dumps({"acc": fns["accuracy"](), "rss": peak_rss_mb()}), flush=True)
            return
        t0 = time.perf_counter()
        fns[cmd]()
        print(json.dumps(time.perf_counter() - t0), flush=True)


class Worker:
    """One library's model in its own process, timed one command at a time."""

    def __init__(self, which, workload, threads, cache_dir=None):
        env = dict(os.environ)
        if cache_dir:
            env["NUMBA_CACHE_DIR"] = cache_dir
        cmd = [sys.executable, __file__, "--worker", which, "--workload", workload,
               "--threads", str(threads or 0)]
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def ask(self, cmd):
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {cmd!r} worker process failed (see its error above)")
        return json.loads(line)

    def finish(self):
        out = self.ask("finish")
        self.proc.wait()
        return out


def turns(workers, cmd, rounds):
    """Each worker's median seconds for `cmd` over `rounds` rounds, the workers taking turns,
    with a pause before each turn so the other library's spinning threads go idle first."""
    times = [[] for _ in workers]
    for _ in range(rounds):
        for w, t in zip(workers, times):
            time.sleep(0.3)
            t.append(w.ask(cmd))
    return [statistics.median(t) for t in times]


def busy_processes(n):
    """`n` processes that spin on a core each (the "shared machine" of --contention)."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]


def row(label, ours, theirs, fmt="{:>10.3f}"):
    r = f"{ours / theirs:>8.2f}" if theirs else f"{'-':>8}"
    t = fmt.format(theirs) if theirs is not None else f"{'-':>10}"
    print(f"{label:<34}{fmt.format(ours)}{t}{r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=5,
                        help="timed rounds after the first epoch (median reported)")
    parser.add_argument("--workload", choices=["mnist", "cifar"], default="mnist")
    parser.add_argument("--threads", type=int, nargs="*", default=[0],
                        help="thread counts to run (0: the CPUs this process may use)")
    parser.add_argument("--contention", action="store_true",
                        help="also time the epoch beside one busy process per thread")
    parser.add_argument("--worker", choices=["kerasnp", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        serve(args.worker, args.workload, args.threads[0])
        return
    title = ("CNN reference workload, MNIST-5k (4,000 train), batch 64" if args.workload == "mnist"
             else "CIFAR-shaped CNN, 3,000 x 32x32x3, batch 128")
    print(f"{title}, Adam 1e-3; ratio = kerasnp / PyTorch (< 1: kerasnp faster)")
    for threads in args.threads:
        n = threads or len(os.sched_getaffinity(0))
        with tempfile.TemporaryDirectory() as cache:
            cold = Worker("kerasnp", args.workload, threads, cache)
            cold_first = cold.ask("epoch")
            cold.finish()
            ours = Worker("kerasnp", args.workload, threads, cache)
            peer = Worker("torch", args.workload, threads)
            first = turns([ours, peer], "epoch", 1)
            steady = turns([ours, peer], "epoch", args.epochs)
            predict = turns([ours, peer], "predict", 3)
            if args.contention:
                spinners = busy_processes(n)
                try:
                    time.sleep(0.5)
                    turns([ours, peer], "epoch", 1)           # settle beside the spinners
                    busy = turns([ours, peer], "epoch", max(2, args.epochs // 2))
                finally:
                    for p in spinners:
                        p.kill()
                        p.wait()
            end = [ours.finish(), peer.finish()]
        print(f"\n{n} threads{'':<24}{'kerasnp':>10}{'pytorch':>10}{'ratio':>8}")
        row("first epoch, cold cache (s)", cold_first, first[1])
        row("first epoch, warm cache (s)", first[0], first[1])
        row(f"steady epoch (s), median of {args.epochs}", *steady)
        row("predict 1,000 images (s)", *predict, "{:>10.4f}")
        row("peak RSS (MB)", end[0]["rss"], end[1]["rss"], "{:>10.0f}")
        row("test accuracy", end[0]["acc"], end[1]["acc"])
        if args.contention:
            row(f"epoch beside {n} busy processes (s)", *busy)
            row("  ... over the quiet epoch", busy[0] / steady[0], busy[1] / steady[1],
                "{:>10.2f}")

if __name__ == "__main__":
    main()
