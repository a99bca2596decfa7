"""Run by tests/test_distribution.py, alone or under `mpiexec -n 2`: a float64 MLP with
BatchNormalization trained with DataParallel; each process saves its weights, History,
evaluate and predict results to <out>/rank<r>.npz."""
import os
import sys

import numpy as np

import kerasnp as keras
import kerasnp.distribution as dist

keras.config.set_floatx("float64")
keras.utils.set_random_seed(1)
dist.set_distribution(dist.DataParallel(timeout=60))
rng = np.random.default_rng(0)
x = rng.normal(size=(203, 6))
y = (x[:, :3].sum(1) + 0.3 * x[:, 4] > 0).astype("float64")
w = rng.uniform(0.5, 1.5, size=len(x))
model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"),
                          keras.layers.BatchNormalization(momentum=0.9),
                          keras.layers.Dense(8, activation="tanh",
                                             kernel_regularizer=keras.regularizers.L2(1e-3)),
                          keras.layers.BatchNormalization(),
                          keras.layers.Dense(1, activation="sigmoid")])
model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
              metrics=["accuracy", keras.metrics.AUC(name="auc")])
hist = model.fit(x, y, sample_weight=w, batch_size=24, epochs=4, validation_split=0.25,
                 verbose=2)
ev = model.evaluate(x, y, batch_size=50, verbose=0, return_dict=True)
pred = model.predict(x, batch_size=40, verbose=0)
d = dist.distribution()
out = {f"w{i}": v.value for i, v in enumerate(model.weights)}
out.update({"h_" + k: np.array(v) for k, v in hist.history.items()})
out.update({"ev_" + k: np.array(v) for k, v in ev.items()})
out["pred"] = pred
out["size"] = np.array(d.num_processes)
# train_on_batch: the same whole batch on every process equals one process's step
out["tob_loss"] = np.array(model.train_on_batch(x[:10], y[:10])[0])
out["tob_w"] = np.concatenate([v.value.ravel() for v in model.weights])
np.savez(os.path.join(sys.argv[1], f"rank{d.process_id}.npz"), **out)
