"""Learn a circle with a tiny network: 2 inputs, 5 hidden units, 1 output.

Points are uniform in the unit square and labelled 1 inside a circle of area 0.5 centred at
(0.5, 0.5). The inputs are standardised (zero mean, unit variance), then five tanh units cut the
plane into half-planes that a sigmoid output blends into a round region. Binary cross-entropy,
SGD with momentum 0.8 and a cosine-decayed learning rate (large steps first to find a good
arrangement of the five units, small ones last to settle it); a second, independent sample
serves as validation data.

Run:  python examples/circle.py --epochs 300 --out circle_history.png
"""
import argparse

import kerasnp as keras


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="circle_history.png", help="where to save the plot")
    parser.add_argument("--show", action="store_true", help="also open the plot in a window")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    x_train, y_train = keras.datasets.make_circle(n_samples=1000)
    x_val, y_val = keras.datasets.make_circle(n_samples=1000)
    mean, std = x_train.mean(axis=0), x_train.std(axis=0)
    x_train, x_val = (x_train - mean) / std, (x_val - mean) / std

    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(5, activation="tanh"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    batch_size = 32
    steps = args.epochs * -(-len(x_train) // batch_size)  # total optimizer steps
    learning_rate = keras.optimizers.schedules.CosineDecay(0.3, decay_steps=steps, alpha=0.01)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=learning_rate, momentum=0.8),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x_train, y_train, batch_size=batch_size, epochs=args.epochs,
                        validation_data=(x_val, y_val), verbose=0)

    _, train_accuracy = model.evaluate(x_train, y_train, verbose=0)
    _, val_accuracy = model.evaluate(x_val, y_val, verbose=0)
    fig = history.plot(title="Circle in a square, 2-5-1 network")
    fig.savefig(args.out, dpi=100, bbox_inches="tight")
    print(f"saved training history to {args.out}")
    print(f"validation accuracy: {val_accuracy:.4f}")
    print(f"training accuracy: {train_accuracy:.4f}")
    if args.show:
        import matplotlib.pyplot as plt
        plt.show()


if __name__ == "__main__":
    main()
