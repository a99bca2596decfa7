"""Train a ResNet from kerasnp.applications on MNIST handwritten digits.

The 28x28 digits are zero-padded by 2 pixels to 32x32 (the smallest input Keras's ResNets accept)
and kept as one channel, so the network is `ResNet<depth>(input_shape=(32, 32, 1), classes=10)`
with random initial weights (kerasnp ships no pretrained weights), trained with Adam on a subset
of the training images. On 32x32 inputs the stem and four stride-2 stages shrink each image to
1x1x512 (ResNet18/34) or 1x1x2048 (ResNet50/101/152) before global average pooling.

The default (ResNet18, 5 epochs on 2,000 images, batch 32) takes about 30 seconds on two cores
and reaches a test accuracy of about 0.87-0.94 (depending on the seed) on the offline
5,000-image MNIST subset (4,000 train / 1,000 test). BatchNormalization's moving statistics lag
behind weights that change fast, so inference accuracy needs some 60 training steps before it
follows training accuracy; batch 32 gives that within the first epoch.
The deeper Keras models (50, 101, 152) keep Keras's BatchNormalization momentum 0.99, so their
moving statistics need more steps than a few short epochs give before inference is accurate.

Run:  python examples/resnet_mnist.py --depth 18 --epochs 5 --out resnet_mnist_history.png
"""
import argparse
import time

import numpy as np

import kerasnp as keras
from kerasnp import applications, kernels

MODELS = {18: applications.ResNet18, 34: applications.ResNet34, 50: applications.ResNet50,
          101: applications.ResNet101, 152: applications.ResNet152}


def prepare(x):
    """uint8 (n, 28, 28) -> float32 (n, 32, 32, 1) in [0, 1], padded with 2 zero pixels."""
    x = np.pad(x, ((0, 0), (2, 2), (2, 2)))
    return x.astype("float32")[..., None] / 255.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depth", type=int, default=18, choices=sorted(MODELS))
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--train-samples", type=int, default=2000,
                        help="train on the first N training images (0: all)")
    parser.add_argument("--test-samples", type=int, default=0,
                        help="evaluate on the first N test images (0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                        help="0 silent, 1 progress bar, 2 one line per epoch")
    parser.add_argument("--out", default="resnet_mnist_history.png", help="where to save the plot")
    parser.add_argument("--show", action="store_true", help="also open the plot in a window")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    if args.train_samples:
        x_train, y_train = x_train[:args.train_samples], y_train[:args.train_samples]
    if args.test_samples:
        x_test, y_test = x_test[:args.test_samples], y_test[:args.test_samples]
    x_train, x_test = prepare(x_train), prepare(x_test)
    y_train = keras.utils.to_categorical(y_train, 10)
    y_test = keras.utils.to_categorical(y_test, 10)
    print(f"{len(x_train)} training and {len(x_test)} test images of shape {x_train.shape[1:]}")

    model = MODELS[args.depth](input_shape=(32, 32, 1), classes=10)
    print(f"{model.name}: {len(model.layers)} layers, {model.count_params():,} parameters")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    kernels.warmup()  # compile (or load from the disk cache) now, so epoch 1 is timed fairly
    start = time.perf_counter()
    history = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
                        validation_split=0.1, verbose=args.verbose)
    seconds = time.perf_counter() - start

    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    fig = history.plot(title=f"MNIST {model.name}")
    fig.savefig(args.out, dpi=100, bbox_inches="tight")
    print(f"saved training history to {args.out}")
    print(f"seconds per epoch: {seconds / max(args.epochs, 1):.2f}")
    print(f"test loss: {test_loss:.4f}")
    print(f"test accuracy: {test_accuracy:.4f}")
    if args.show:
        import matplotlib.pyplot as plt
        plt.show()


if __name__ == "__main__":
    main()
