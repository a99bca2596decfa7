"""MLP reference workload: 784-256-128-10 (relu, softmax) on MNIST-5k, batch 64, Adam 1e-3.

Prints steady-state seconds per epoch of kerasnp, scikit-learn's MLPClassifier and PyTorch (CPU),
all measured in this run on this machine, and kerasnp's ratio to each (< 1 means kerasnp is
faster). The libraries take turns, one epoch each per round, and each one's median over the
rounds is reported: an epoch lasts about 0.1 s, so a slow minute on a shared machine would
otherwise land on whichever library happened to be running. A pause before each turn lets the
previous library's spinning BLAS/OpenMP worker threads go to sleep first.
Run: python benchmarks/bench_mlp.py [--epochs 9]
"""
import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import statistics  # noqa: E402
import time  # noqa: E402

from _common import mnist5k  # noqa: E402


def bench_kerasnp(x, y, xt, yt):
    """(run one epoch, test accuracy) callables; the other two likewise, None if not installed."""
    import kerasnp as keras
    keras.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)),
                              keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return (lambda: model.fit(x, y, batch_size=64, epochs=1, verbose=0),
            lambda: model.evaluate(xt, yt, verbose=0)[1])


def bench_sklearn(x, y, xt, yt):
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None
    clf = MLPClassifier(hidden_layer_sizes=(256, 128), batch_size=64, learning_rate_init=1e-3,
                        solver="adam", random_state=0, alpha=0.0)
    classes = np.arange(10)
    def epoch():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.partial_fit(x, y, classes=classes)
    return epoch, lambda: clf.score(xt, yt)


def bench_torch(x, y, xt, yt):
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                              torch.nn.Linear(256, 128), torch.nn.ReLU(),
                              torch.nn.Linear(128, 10))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    lossf = torch.nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(0)

    def epoch():
        perm = torch.randperm(len(tx), generator=gen)
        for i in range(0, len(tx), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = lossf(net(tx[idx]), ty[idx])
            loss.backward()
            opt.step()

    def accuracy():
        with torch.no_grad():
            return float((net(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean())
    return epoch, accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=9,
                        help="timed rounds, one epoch per library each (median reported)")
    args = parser.parse_args()
    (x, y), (xt, yt) = mnist5k()
    runs = {"kerasnp": bench_kerasnp(x, y, xt, yt), "scikit-learn": bench_sklearn(x, y, xt, yt),
            "pytorch": bench_torch(x, y, xt, yt)}
    runs = {name: r for name, r in runs.items() if r is not None}
    times = {name: [] for name in runs}
    for epoch, _ in runs.values():                  # warm-up epoch, untimed
        epoch()
    for _ in range(args.epochs):
        for name, (epoch, _) in runs.items():
            time.sleep(0.3)         # the last library's spinning BLAS/OpenMP workers go idle
            t0 = time.perf_counter()
            epoch()
            times[name].append(time.perf_counter() - t0)
    secs = {name: statistics.median(t) for name, t in times.items()}
    ours = secs["kerasnp"]
    print(f"MLP 784-256-128-10, MNIST-5k (4,000 train), batch 64, Adam 1e-3; median of "
          f"{args.epochs} epochs after 1 warm-up, the libraries taking turns")
    print(f"{'library':<14}{'s/epoch':>10}{'test acc':>10}{'kerasnp ratio':>15}")
    for name in ("kerasnp", "scikit-learn", "pytorch"):
        if name not in runs:
            print(f"{name:<14}{'not installed':>10}")
            continue
        print(f"{name:<14}{secs[name]:>10.4f}{runs[name][1]():>10.3f}{ours / secs[name]:>15.2f}")


if __name__ == "__main__":
    main()
