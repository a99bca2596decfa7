"""Classify a 3-arm spiral with a one-hidden-layer MLP and plot its decision boundary.

The classic CS231n toy problem: three interleaved spiral arms in the plane, which no linear model
can separate. A Dense(100, relu) hidden layer trained with SGD (momentum 0.9, weight decay) bends
the boundary around the arms.

Run:  python examples/spiral.py --epochs 300 --out spiral_boundary.png
"""
import argparse

import kerasnp as keras


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="spiral_boundary.png", help="where to save the plot")
    parser.add_argument("--show", action="store_true", help="also open the plot in a window")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    x, y = keras.datasets.make_spiral(n_samples=300, n_classes=3)

    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(100, activation="relu"),
        keras.layers.Dense(3, activation="softmax"),
    ])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, weight_decay=1e-4),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(x, y, batch_size=32, epochs=args.epochs, verbose=0)

    loss, accuracy = model.evaluate(x, y, verbose=0)
    fig = keras.utils.plot_decision_boundary(model, x, y)
    ax = fig.axes[0]
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_title(f"Spiral, 3 classes: training accuracy {accuracy:.3f}")
    fig.savefig(args.out, dpi=100, bbox_inches="tight")
    print(f"saved decision boundary to {args.out}")
    print(f"training loss: {loss:.4f}")
    print(f"training accuracy: {accuracy:.4f}")
    if args.show:
        import matplotlib.pyplot as plt
        plt.show()


if __name__ == "__main__":
    main()
