"""Regression in miniature: teach a small MLP to add two numbers, `y = x1 + x2`.

Trains on random pairs drawn from [-2, 2] x [-2, 2] with mean squared error, then predicts a few
pairs it has never seen and prints each prediction next to the true sum.

Run:  python examples/regression.py --epochs 100 --out regression_history.png
"""
import argparse

import numpy as np

import kerasnp as keras


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="regression_history.png", help="where to save the plot")
    parser.add_argument("--show", action="store_true", help="also open the plot in a window")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_train = rng.uniform(-2.0, 2.0, size=(1000, 2)).astype("float32")
    y_train = x_train.sum(axis=1, keepdims=True)

    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(1, activation="linear"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse",
                  metrics=["mae"])
    history = model.fit(x_train, y_train, batch_size=32, epochs=args.epochs,
                        validation_split=0.2, verbose=0)

    x_new = np.array([[0.3, 0.4], [1.5, -0.2], [-0.7, -0.25], [0.9, 0.8]], dtype="float32")
    y_pred = model.predict(x_new, verbose=0)
    print("   x1      x2   predicted  true sum   error")
    for (a, b), p in zip(x_new, y_pred[:, 0]):
        print(f"{a:6.2f}  {b:6.2f}  {p:9.4f}  {a + b:8.4f}  {abs(p - (a + b)):6.4f}")
    errors = np.abs(y_pred[:, 0] - x_new.sum(axis=1))

    fig = history.plot(title="y = x1 + x2")
    for ax in fig.axes:
        ax.set_yscale("log")  # the loss falls over several orders of magnitude
    fig.savefig(args.out, dpi=100, bbox_inches="tight")
    print(f"saved training history to {args.out}")
    print(f"final training loss: {history.history['loss'][-1]:.6f}")
    print(f"max prediction error: {errors.max():.4f}")
    if args.show:
        import matplotlib.pyplot as plt
        plt.show()


if __name__ == "__main__":
    main()
