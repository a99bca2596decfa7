"""Learn a circle with the smallest network that can: 2 inputs, 5 hidden units, 1 output.

Points are uniform in the unit square and labelled 1 inside a circle of area 0.5 centred at
(0.5, 0.5). Five tanh units form a pentagon of half-planes that a sigmoid output combines into
a round region, trained with binary cross-entropy and SGD with momentum 0.8.

Run:  python examples/circle.py --epochs 100 --out circle_history.png
"""
import argparse

import kerasnp as keras


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="circle_history.png", help="where to save the plot")
    parser.add_argument("--show", action="store_true", help="also open the plot in a window")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    x, y = keras.datasets.make_circle(n_samples=1000)

    model = keras.Sequential([
        keras.Input(shape=(2,)),
        keras.layers.Dense(5, activation="tanh"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.5, momentum=0.8),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(x, y, batch_size=32, epochs=args.epochs, validation_split=0.2,
                        verbose=0)

    loss, accuracy = model.evaluate(x, y, verbose=0)
    fig = history.plot(title="Circle, 2-5-1 network")
    fig.savefig(args.out, dpi=100, bbox_inches="tight")
    print(f"saved training history to {args.out}")
    print(f"loss: {loss:.4f}")
    print(f"accuracy: {accuracy:.4f}")
    if args.show:
        import matplotlib.pyplot as plt
        plt.show()


if __name__ == "__main__":
    main()
