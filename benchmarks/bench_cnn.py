"""CNN reference workload on MNIST-5k, kerasnp vs PyTorch CPU, measured in one run.

Conv2D(32,3,relu) -> MaxPool(2) -> Conv2D(64,3,relu) -> MaxPool(2) -> Flatten -> Dense(128,relu)
-> Dense(10,softmax); batch 64, Adam 1e-3, 4,000 training images.

Each library runs in its own subprocess so that its peak memory (RSS) is its own. kerasnp runs
twice: first with an empty Numba cache directory (cold: the first epoch pays the compilation),
then again with the same directory (warm: machine code loaded from disk).
Printed: first-epoch seconds (cold/warm), steady-state seconds per epoch (median), predict time
for 1,000 images, peak RSS, and kerasnp's ratio to PyTorch (< 1 means kerasnp is faster).

Run: python benchmarks/bench_cnn.py [--epochs 3]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def worker_kerasnp(epochs):
    sys.path.insert(0, HERE)
    from _common import mnist5k, peak_rss_mb
    t_import = time.perf_counter()
    import kerasnp as keras
    from kerasnp import layers as L
    (x, y), (xt, yt) = mnist5k(flat=False)
    keras.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2),
        L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(2), L.Flatten(),
        L.Dense(128, activation="relu"), L.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    t0 = time.perf_counter()
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    first = time.perf_counter() - t0
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.fit(x, y, batch_size=64, epochs=1, verbose=0)
        times.append(time.perf_counter() - t0)
    model.predict(xt[:64], verbose=0)
    t0 = time.perf_counter()
    model.predict(xt, batch_size=1000, verbose=0)
    pred = time.perf_counter() - t0
    acc = model.evaluate(xt, yt, verbose=0)[1]
    return {"first": first, "import": t0 - t_import, "steady": sorted(times)[len(times) // 2],
            "predict": pred, "acc": acc, "rss": peak_rss_mb()}


def worker_torch(epochs):
    sys.path.insert(0, HERE)
    from _common import mnist5k, peak_rss_mb
    import torch
    (x, y), (xt, yt) = mnist5k(flat=False)
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3),
                        nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(),
                        nn.Linear(128, 10))
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    lossf = nn.CrossEntropyLoss()
    tx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    ty = torch.from_numpy(y)
    gen = torch.Generator().manual_seed(0)

    def epoch():
        perm = torch.randperm(len(tx), generator=gen)
        for i in range(0, len(tx), 64):
            idx = perm[i:i + 64]
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


def run(which, epochs, cache_dir=None):
    env = dict(os.environ)
    if cache_dir:
        env["NUMBA_CACHE_DIR"] = cache_dir
    out = subprocess.run([sys.executable, __file__, "--worker", which, "--epochs", str(epochs)],
                         env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        sys.stderr.write(out.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after the first")
    parser.add_argument("--worker", choices=["kerasnp", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        fn = worker_kerasnp if args.worker == "kerasnp" else worker_torch
        print(json.dumps(fn(args.epochs)))
        return
    with tempfile.TemporaryDirectory() as cache:
        cold = run("kerasnp", args.epochs, cache)
        warm = run("kerasnp", args.epochs, cache)
    peer = run("torch", args.epochs)
    print("CNN reference workload, MNIST-5k (4,000 train), batch 64, Adam 1e-3")
    print(f"{'':<28}{'kerasnp':>10}{'pytorch':>10}{'ratio':>8}")

    def row(label, ours, theirs, fmt="{:>10.3f}"):
        r = f"{ours / theirs:>8.2f}" if theirs else f"{'-':>8}"
        t = fmt.format(theirs) if theirs is not None else f"{'-':>10}"
        print(f"{label:<28}{fmt.format(ours)}{t}{r}")

    p = peer or {}
    row("first epoch, cold cache (s)", cold["first"], p.get("first"))
    row("first epoch, warm cache (s)", warm["first"], p.get("first"))
    row("steady epoch (s)", warm["steady"], p.get("steady"))
    row("predict 1,000 images (s)", warm["predict"], p.get("predict"), "{:>10.4f}")
    row("peak RSS (MB)", warm["rss"], p.get("rss"), "{:>10.0f}")
    row("test accuracy", warm["acc"], p.get("acc"))


if __name__ == "__main__":
    main()
