"""Run by tests/test_distribution_mpi.py under `mpiexec -n 2`: python agree.py <mode> <out>.

backup-*: a run stopped after epoch 2, resumed by BackupAndRestore, and one never stopped.
checkpoint: ModelCheckpoint, CSVLogger, BackupAndRestore and EarlyStopping on 2 processes.
nan: an overflowing row in process 1's shard of the first batch stops both processes.
killed: process 1 exits mid-fit; the job must end, not hang.
stuck: process 1 stops answering; process 0 must raise DistributionTimeoutError.
Each process writes what it saw to <out>/<mode><rank>.json."""
import json
import os
import sys
import time

import numpy as np

import kerasnp as keras
import kerasnp.distribution as dist
from kerasnp.errors import NonFiniteLossError

mode, out = sys.argv[1], sys.argv[2]
keras.config.set_floatx("float64")
keras.utils.set_random_seed(2)
d = dist.DataParallel(timeout=3 if mode == "stuck" else 60)
dist.set_distribution(d)
rng = np.random.default_rng(0)
x = rng.normal(size=(64, 4))
y = x @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="tanh"),
                          keras.layers.Dense(1)])
model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
saves = []
original_save = model.save
model.save = lambda path, **kw: (saves.append(path), original_save(path, **kw))[1]
seen = {"rank": d.process_id}
if mode == "checkpoint":
    cbs = [keras.callbacks.ModelCheckpoint(os.path.join(out, "best.kerasnp"),
                                           monitor="loss", save_best_only=True),
           keras.callbacks.CSVLogger(os.path.join(out, "log.csv")),
           keras.callbacks.BackupAndRestore(os.path.join(out, "backup"),
                                            delete_checkpoint=False),
           # the loss improves by less than 1e9 each epoch: stops after patience epochs
           keras.callbacks.EarlyStopping(monitor="loss", min_delta=1e9, patience=2)]
    hist = model.fit(x, y, batch_size=16, epochs=10, callbacks=cbs, verbose=0)
    seen.update(epochs=len(hist.history["loss"]), saves=len(saves),
                stopped=cbs[3].stopped_epoch, loss=hist.history["loss"])
elif mode.startswith("backup"):         # backup-crash, backup-resume, backup-full
    class Crash(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if mode == "backup-crash" and epoch == 2:
                raise KeyboardInterrupt("killed")     # after the backup of epoch 2
    folder = os.path.join(out, "backup-full" if mode == "backup-full" else "backup-run")
    try:
        hist = model.fit(x, y, batch_size=16, epochs=4, verbose=0,
                         callbacks=[Crash(), keras.callbacks.BackupAndRestore(
                             folder, delete_checkpoint=False)])
        seen["loss"] = hist.history["loss"]
    except KeyboardInterrupt:
        seen["loss"] = None
    seen["weights"] = np.concatenate([w.value.ravel() for w in model.weights]).tolist()
elif mode == "nan":
    y[15] = 1e300                       # process 1 holds rows 8..15 of the first batch
    w0 = [w.value.copy() for w in model.weights]
    try:
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        seen["error"] = None
    except NonFiniteLossError as err:
        seen["error"] = str(err)
    seen["unchanged"] = all(np.array_equal(a, w.value) for a, w in zip(w0, model.weights))
elif mode == "killed":
    def die(epoch, logs):
        if d.process_id == 1 and epoch == 1:
            os._exit(9)                 # killed: no error, no goodbye
    try:
        model.fit(x, y, batch_size=16, epochs=3, verbose=0,
                  callbacks=[keras.callbacks.LambdaCallback(on_epoch_begin=die)])
        seen["error"] = None
    except dist.DistributionTimeoutError as err:
        seen["error"] = str(err)
elif mode == "stuck":
    def hang(epoch, logs):
        if d.process_id == 1 and epoch == 1:
            time.sleep(60)              # stops answering (as a dead process would)
    try:
        model.fit(x, y, batch_size=16, epochs=3, verbose=0,
                  callbacks=[keras.callbacks.LambdaCallback(on_epoch_begin=hang)])
        seen["error"] = None
    except dist.DistributionTimeoutError as err:
        seen["error"] = str(err)
    with open(os.path.join(out, f"{mode}{d.process_id}.json"), "w") as f:
        json.dump(seen, f)
    sys.stdout.flush()
    os._exit(3)                         # leave the stuck process to mpiexec
with open(os.path.join(out, f"{mode}{d.process_id}.json"), "w") as f:
    json.dump(seen, f)
