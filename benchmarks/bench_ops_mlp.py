"""The MLP reference workload with its Dense layers re-written by a user with `kerasnp.ops` in
`call()` (no fused op: matmul, add, relu and the softmax are separate tape nodes), against the
built-in Dense MLP and PyTorch, all in this run. Also prints the tape's per-op overhead.

Target of the autodiff engine: the ops-written MLP stays within 1.5x of the built-in one.
Run: python benchmarks/bench_ops_mlp.py [--epochs 5]
"""
import argparse
import os
import sys
import timeit

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _common import mnist5k, steady_epoch_seconds  # noqa: E402
from bench_mlp import bench_kerasnp, bench_torch  # noqa: E402


def ops_dense_class():
    import kerasnp as keras
    from kerasnp import ops

    class OpsDense(keras.layers.Layer):
        """What a user writes from the Keras guide: weights in build, call() with ops."""

        def __init__(self, units, activation=None, **kwargs):
            super().__init__(**kwargs)
            self.units, self.activation = units, activation

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

        def call(self, x):
            z = ops.matmul(x, self.w) + self.b
            if self.activation == "relu":
                return ops.relu(z)
            if self.activation == "softmax":
                return ops.softmax(z)
            return z

    return OpsDense


def bench_ops(x, y, xt, yt, epochs):
    import kerasnp as keras
    OpsDense = ops_dense_class()
    keras.set_random_seed(0)
    model = keras.Sequential([keras.Input((784,)), OpsDense(256, "relu"), OpsDense(128, "relu"),
                              OpsDense(10, "softmax")])
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    sec = steady_epoch_seconds(lambda: model.fit(x, y, batch_size=64, epochs=1, verbose=0),
                               epochs)
    return sec, model.evaluate(xt, yt, verbose=0)[1]


def per_op_overhead():
    """Microseconds one `ops.add` of two (64, 128) float32 arrays costs beyond NumPy's `+`,
    outside a tape and recording inside one: the best of 7 repeats of 200 batches of 100 calls,
    each batch in a fresh tape (as in a training step, whose tape is freed after it)."""
    from kerasnp import GradientTape, Variable, ops
    a = np.ones((64, 128), "float32")
    v = Variable(np.ones((64, 128), "float32"), "v")

    def plain():
        for _ in range(100):
            a + a

    def outside():
        for _ in range(100):
            ops.add(a, a)

    def inside():
        with GradientTape():
            for _ in range(100):
                ops.add(v, a)

    def kept():                      # NumPy, keeping every result alive as a tape does
        out = []
        for _ in range(100):
            out.append(a + a)

    def best(fn):
        return min(timeit.repeat(fn, number=200, repeat=7)) / 20000 * 1e6

    base, alive = best(plain), best(kept)
    return base, best(outside) - base, best(inside) - alive, alive - base


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs (median reported)")
    args = parser.parse_args()
    (x, y), (xt, yt) = mnist5k()
    results = {"built-in Dense": bench_kerasnp(x, y, xt, yt, args.epochs),
               "Dense with ops": bench_ops(x, y, xt, yt, args.epochs),
               "pytorch": bench_torch(x, y, xt, yt, args.epochs)}
    base = results["built-in Dense"][0]
    print(f"MLP 784-256-128-10, MNIST-5k (4,000 train), batch 64, Adam 1e-3; "
          f"median of {args.epochs} epochs after 1 warm-up")
    print(f"{'model':<16}{'s/epoch':>10}{'test acc':>10}{'/ built-in':>12}{'/ pytorch':>11}")
    torch_sec = results["pytorch"][0]
    for name, (sec, acc) in results.items():
        if sec is None:
            print(f"{name:<16}{'not installed':>10}")
            continue
        vs_torch = f"{sec / torch_sec:>11.2f}" if torch_sec else f"{'-':>11}"
        print(f"{name:<16}{sec:>10.4f}{acc:>10.3f}{sec / base:>12.2f}{vs_torch}")
    plain, outside, inside, alive = per_op_overhead()
    print(f"\nper-op overhead, ops.add of (64, 128) float32 (NumPy's + takes {plain:.2f} us): "
          f"{outside:.2f} us outside a tape; {inside:.2f} us of tape bookkeeping when recording, "
          f"plus {alive:.2f} us that NumPy itself takes to allocate results that stay alive "
          f"until the backward pass")


if __name__ == "__main__":
    main()
