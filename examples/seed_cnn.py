"""Compare max pooling with min pooling in a small regularised CNN on MNIST digits.

The network of the seed article, rebuilt from Keras layers:
Conv2D(4, 3) -> ReLU -> MaxPooling2D(2) -> Conv2D(8, 4) -> ReLU -> MaxPooling2D(2) -> Flatten ->
Dense(50) -> BatchNormalization -> ReLU -> Dense(10) (logits), with L1 + L2 penalties on every
kernel. It is trained twice from the same seed: once as written, once with MinPooling2D in place
of both MaxPooling2D layers (kerasnp's own layer; Keras has none). After a ReLU most windows
contain a zero, so min pooling passes on little signal and learns more slowly: the printed
accuracies and the saved plot of both validation curves show by how much. Data: MNIST (offline,
the 5,000-image subset, 4,000 train / 1,000 test); 10% of the training images validate.

Run:  python examples/seed_cnn.py --epochs 8 --out seed_cnn_pooling.png
"""
import argparse

import kerasnp as keras

L1, L2 = 1e-5, 1e-4      # penalty factors on the conv and dense kernels


def build_model(pooling):
    """The seed CNN with `pooling` (a pooling layer class) after each convolution."""
    def penalty():
        return keras.regularizers.L1L2(l1=L1, l2=L2)

    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)),
        keras.layers.Conv2D(4, 3, kernel_regularizer=penalty()),     # -> (26, 26, 4)
        keras.layers.ReLU(),
        pooling(2),                                                   # -> (13, 13, 4)
        keras.layers.Conv2D(8, 4, kernel_regularizer=penalty()),     # -> (10, 10, 8)
        keras.layers.ReLU(),
        pooling(2),                                                   # -> (5, 5, 8)
        keras.layers.Flatten(),                                       # -> 200
        keras.layers.Dense(50, kernel_regularizer=penalty()),
        keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.Dense(10, kernel_regularizer=penalty()),        # logits
    ], name=f"seed_cnn_{pooling.__name__.lower()}")


def train(pooling, data, args):
    """Fit a fresh seed CNN; print accuracy per epoch; return (history, test accuracy)."""
    (x_train, y_train), (x_test, y_test) = data
    keras.utils.set_random_seed(args.seed)      # both variants start from the same draw
    model = build_model(pooling)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=args.learning_rate),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    label = pooling.__name__
    report = keras.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: print(
        f"{label} epoch {epoch + 1}/{args.epochs}: accuracy {logs['accuracy']:.4f}, "
        f"val_accuracy {logs['val_accuracy']:.4f}", flush=True))
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_split=0.1, verbose=0, callbacks=[report])
    _, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    return history, test_accuracy


def plot(histories, path):
    """Validation accuracy and loss of every variant, one line each."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for name, history in histories.items():
        epochs = [e + 1 for e in history.epoch]
        for ax, key in zip(axes, ("val_accuracy", "val_loss")):
            ax.plot(epochs, history.history[key], marker="o", markersize=3, label=name)
    for ax, key in zip(axes, ("validation accuracy", "validation loss")):
        ax.set_xlabel("Epoch")
        ax.set_ylabel(key)
        ax.grid(True, alpha=0.3)
        ax.legend()
    fig.suptitle("Seed CNN on MNIST: max pooling vs min pooling")
    fig.tight_layout()
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return fig


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="seed_cnn_pooling.png", help="where to save the plot")
    parser.add_argument("--show", action="store_true", help="also open the plot in a window")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    x_train = x_train.astype("float32")[..., None] / 255.0   # (n, 28, 28, 1)
    x_test = x_test.astype("float32")[..., None] / 255.0
    print(f"{len(x_train)} training and {len(x_test)} test images")
    build_model(keras.layers.MaxPooling2D).summary()
    data = (x_train, y_train), (x_test, y_test)

    histories, results = {}, {}
    for name, pooling in (("max pooling", keras.layers.MaxPooling2D),
                          ("min pooling", keras.layers.MinPooling2D)):
        histories[name], results[name] = train(pooling, data, args)

    plot(histories, args.out)
    print(f"saved the validation curves to {args.out}")
    for name, accuracy in results.items():
        print(f"{name} test accuracy: {accuracy:.4f}")
    if args.show:
        import matplotlib.pyplot as plt
        plt.show()


if __name__ == "__main__":
    main()
