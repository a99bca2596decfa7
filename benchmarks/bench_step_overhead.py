"""Per-step framework overhead: a tiny MLP (8-4-4-3, batch 32) whose arithmetic costs almost
nothing, so a training step's time is the framework's own Python (layer calls, tape, loss,
gradients, optimizer, metrics).

Prints microseconds per training step of kerasnp's `fit` and of a plain PyTorch training loop
(same model, same batches, same thread count), measured in this run, and their ratio.
Run: python benchmarks/bench_step_overhead.py [--epochs 5] [--threads 2]
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import steady_epoch_seconds  # noqa: E402

N, BATCH = 6400, 32


def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(N, 8)).astype("float32"), rng.integers(0, 3, N).astype("int64")


def bench_kerasnp(x, y, epochs):
    import kerasnp as keras
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return steady_epoch_seconds(lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0),
                                epochs)


def bench_torch(x, y, epochs):
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.ReLU(), torch.nn.Linear(4, 4),
                              torch.nn.ReLU(), torch.nn.Linear(4, 3))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    lossf = torch.nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(0)

    def epoch():
        order = torch.randperm(N, generator=gen)
        correct = 0
        for lo in range(0, N, BATCH):
            idx = order[lo:lo + BATCH]
            xb, yb = tx[idx], ty[idx]
            opt.zero_grad()
            out = net(xb)
            loss = lossf(out, yb)
            loss.backward()
            opt.step()
            correct += int((out.argmax(1) == yb).sum())   # the accuracy kerasnp's fit reports
    return steady_epoch_seconds(epoch, epochs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None,
                        help="threads for both libraries (default: as configured)")
    args = parser.parse_args()
    if args.threads:
        try:
            import torch
            torch.set_num_threads(args.threads)
        except ImportError:
            pass
    x, y = data()
    steps = -(-N // BATCH)
    k = bench_kerasnp(x, y, args.epochs) / steps * 1e6
    t = bench_torch(x, y, args.epochs)
    print(f"Training-step overhead: MLP 8-4-4-3, batch {BATCH}, {steps} steps per epoch, "
          f"Adam; median of {args.epochs} epochs")
    print(f"{'library':12s} {'us/step':>8s}  kerasnp ratio")
    print(f"{'kerasnp':12s} {k:8.1f}  1.00")
    if t is not None:
        t = t / steps * 1e6
        print(f"{'pytorch':12s} {t:8.1f}  {k / t:.2f}")


if __name__ == "__main__":
    main()
