"""MLP reference workload: 784-256-128-10 (relu, softmax) on MNIST-5k, batch 64, Adam 1e-3.

Prints steady-state seconds per epoch of kerasnp, scikit-learn's MLPClassifier and PyTorch (CPU),
all measured in this run on this machine, and kerasnp's ratio to each (< 1 means kerasnp is
faster). Run: python benchmarks/bench_mlp.py [--epochs 5]
"""
import argparse
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import mnist5k, steady_epoch_seconds  # noqa: E402


def bench_kerasnp(x, y, xt, yt, epochs):
    import kerasnp as keras
    keras.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)),
                              keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    sec = steady_epoch_seconds(lambda: model.fit(x, y, batch_size=64, epochs=1, verbose=0),
                               epochs)
    acc = model.evaluate(xt, yt, verbose=0)[1]
    return sec, acc


def bench_sklearn(x, y, xt, yt, epochs):
    try:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier
    except ImportError:
        return None, None
    clf = MLPClassifier(hidden_layer_sizes=(256, 128), batch_size=64, learning_rate_init=1e-3,
                        solver="adam", random_state=0, alpha=0.0)
    classes = np.arange(10)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sec = steady_epoch_seconds(lambda: clf.partial_fit(x, y, classes=classes), epochs)
    return sec, clf.score(xt, yt)


def bench_torch(x, y, xt, yt, epochs):
    try:
        import torch
    except ImportError:
        return None, None
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

    sec = steady_epoch_seconds(epoch, epochs)
    with torch.no_grad():
        acc = (net(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean()
    return sec, float(acc)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs (median reported)")
    args = parser.parse_args()
    (x, y), (xt, yt) = mnist5k()
    results = {"kerasnp": bench_kerasnp(x, y, xt, yt, args.epochs),
               "scikit-learn": bench_sklearn(x, y, xt, yt, args.epochs),
               "pytorch": bench_torch(x, y, xt, yt, args.epochs)}
    ours = results["kerasnp"][0]
    print(f"MLP 784-256-128-10, MNIST-5k (4,000 train), batch 64, Adam 1e-3; "
          f"median of {args.epochs} epochs after 1 warm-up")
    print(f"{'library':<14}{'s/epoch':>10}{'test acc':>10}{'kerasnp ratio':>15}")
    for name, (sec, acc) in results.items():
        if sec is None:
            print(f"{name:<14}{'not installed':>10}")
            continue
        print(f"{name:<14}{sec:>10.4f}{acc:>10.3f}{ours / sec:>15.2f}")


if __name__ == "__main__":
    main()
