"""Run by tests/test_distribution_mpi.py under mpiexec -n 2: each process seeds differently,
yet after fit both hold process 0's model (weights and shuffle synchronised at fit start)."""
import os
import sys

import numpy as np

import kerasnp as keras
import kerasnp.distribution as dist

d = dist.DataParallel(timeout=60)
dist.set_distribution(d)
keras.utils.set_random_seed(100 + d.process_id)       # different on each process
x = np.random.default_rng(0).normal(size=(48, 3))
model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(1)])
model.compile("sgd", "mse")
model.fit(x, x.sum(1), batch_size=8, epochs=2, verbose=0)
np.save(os.path.join(sys.argv[1], f"unseeded{d.process_id}.npy"),
        np.concatenate([w.value.ravel() for w in model.weights]))
