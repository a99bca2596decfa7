"""Recurrent reference workload: LSTM(64) (and GRU(64)) over 3,000 sequences of 50 steps x 32
features, then Dense(10, softmax), batch 64, Adam 1e-3; kerasnp vs PyTorch (CPU, float32).

Prints the steady seconds per training epoch of kerasnp (`model.fit`, one epoch per call) and of
PyTorch (`nn.LSTM`/`nn.GRU` + `nn.Linear`, cross-entropy, Adam, the same data and batch size,
a shuffled order each epoch), measured in this run, and kerasnp's ratio (< 1: kerasnp faster).
Epochs of the two libraries alternate, with a pause between them so one library's idle-spinning
threads do not slow the other, and medians are reported; PyTorch runs with as many threads as
the machine has cores, as NumPy's BLAS does by default.

Run: `python benchmarks/bench_rnn.py [--epochs 5] [--layers LSTM GRU]`.
"""
import argparse
import os
import statistics
import sys
import time

import numpy as np

N, STEPS, FEATURES, UNITS, CLASSES, BATCH = 3000, 50, 32, 64, 10, 64


def data():
    """Random sequences whose class depends on the data (so the loss can fall)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, STEPS, FEATURES), dtype=np.float32)
    y = (np.argmax(x[:, -10:, :CLASSES].mean(axis=1), axis=1)).astype("int64")
    return x, y


def kerasnp_epoch(kind, x, y):
    import kerasnp as keras
    keras.set_random_seed(0)
    model = keras.Sequential([keras.Input((STEPS, FEATURES)), getattr(keras.layers, kind)(UNITS),
                              keras.layers.Dense(CLASSES, activation="softmax")])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")

    def epoch():
        return model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0).history["loss"][-1]
    return epoch, model.count_params()


def torch_epoch(torch, kind, x, y):
    torch.manual_seed(0)

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(torch.nn, kind)(FEATURES, UNITS, batch_first=True)
            self.fc = torch.nn.Linear(UNITS, CLASSES)

        def forward(self, t):
            out, _ = self.rnn(t)
            return self.fc(out[:, -1])

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    lossf = torch.nn.CrossEntropyLoss()
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(0)

    def epoch():
        perm = torch.randperm(len(tx), generator=gen)
        total = 0.0
        for i in range(0, len(tx), BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad()
            loss = lossf(net(tx[idx]), ty[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        return total / len(tx)
    # torch's GRU/LSTM hold two biases per gate block: 2 x 4u (LSTM) or 2 x 3u more than Keras
    return epoch, sum(p.numel() for p in net.parameters())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs per library")
    parser.add_argument("--layers", nargs="+", default=["LSTM", "GRU"], choices=["LSTM", "GRU"])
    args = parser.parse_args()
    x, y = data()
    threads = os.cpu_count()
    try:
        import torch
        torch.set_num_threads(threads)
        print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; NumPy's BLAS "
              f"default threads ({threads} cores)")
    except ImportError:
        torch = None
        print("torch not installed: kerasnp only")
    print(f"{N:,} sequences x {STEPS} steps x {FEATURES} features, {UNITS} units, "
          f"Dense({CLASSES}, softmax), batch {BATCH}, Adam 1e-3; median of {args.epochs} epochs "
          "after 1 warm-up, the libraries alternating")
    print(f"{'layer':<6}{'kerasnp s/epoch':>17}{'torch s/epoch':>15}{'ratio':>8}"
          f"{'params (kerasnp/torch)':>25}{'last loss (k/t)':>18}")
    for kind in args.layers:
        runs = {"kerasnp": kerasnp_epoch(kind, x, y)}
        if torch is not None:
            runs["torch"] = torch_epoch(torch, kind, x, y)
        times = {lib: [] for lib in runs}
        losses = {}
        for lib, (epoch, _) in runs.items():                  # warm-up (compiles kernels)
            losses[lib] = epoch()
        for _ in range(args.epochs):
            for lib, (epoch, _) in runs.items():
                time.sleep(0.25)
                t = time.perf_counter()
                losses[lib] = epoch()
                times[lib].append(time.perf_counter() - t)
        med = {lib: statistics.median(t) for lib, t in times.items()}
        params = "/".join(f"{n:,}" for _, n in runs.values())
        loss = "/".join(f"{v:.3f}" for v in losses.values())
        if torch is not None:
            print(f"{kind:<6}{med['kerasnp']:>17.3f}{med['torch']:>15.3f}"
                  f"{med['kerasnp'] / med['torch']:>8.2f}{params:>25}{loss:>18}")
        else:
            print(f"{kind:<6}{med['kerasnp']:>17.3f}{'-':>15}{'-':>8}{params:>25}{loss:>18}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
