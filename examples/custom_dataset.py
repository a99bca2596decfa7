"""A dataset of image files, read one sample at a time, batched by a DataLoader.

The PyTorch-style pattern: a `Dataset` class knows how to load sample `i` from disk; a
`DataLoader` shuffles and collates samples into batches; `fit` takes the loader directly. A
`Normalization` layer adapted to the training data standardises the pixels inside the model.

The script first writes a small folder of PNG images (16x16 squares, discs and crosses at random
places and sizes) if it is not there yet, so it runs offline.

Run: python examples/custom_dataset.py [--epochs 8] [--data shapes_data] [--out custom_dataset.png]
"""
import argparse
import os

import numpy as np

import kerasnp as keras
from kerasnp.data import DataLoader

CLASSES = ("square", "disc", "cross")


def draw(kind, rng, size=16):
    """One grayscale image of a shape at a random place and size."""
    img = np.zeros((size, size), "float32")
    r = rng.integers(3, 6)
    cy, cx = rng.integers(r, size - r, 2)
    yy, xx = np.mgrid[:size, :size]
    if kind == "square":
        img[cy - r:cy + r, cx - r:cx + r] = 1.0
    elif kind == "disc":
        img[(yy - cy) ** 2 + (xx - cx) ** 2 <= r * r] = 1.0
    else:
        img[cy - r:cy + r + 1, cx] = 1.0
        img[cy, cx - r:cx + r + 1] = 1.0
    return np.clip(img + rng.normal(0, 0.1, img.shape), 0, 1)


def write_images(folder, per_class, seed):
    """Save `per_class` PNG files per class under folder/<class>/ (skipped when present)."""
    import matplotlib.pyplot as plt
    rng = np.random.default_rng(seed)
    for kind in CLASSES:
        os.makedirs(os.path.join(folder, kind), exist_ok=True)
        for i in range(per_class):
            path = os.path.join(folder, kind, f"{i:04d}.png")
            if not os.path.exists(path):
                plt.imsave(path, draw(kind, rng), cmap="gray", vmin=0, vmax=1)


class ShapeFiles:
    """Dataset over image files: sample i is (image (16, 16, 1) float32, class index)."""

    def __init__(self, files):
        self.files = files

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        import matplotlib.pyplot as plt
        path, label = self.files[i]
        rgba = plt.imread(path)                       # PNG -> floats in [0, 1]
        return rgba[..., :1].astype("float32"), label


def list_files(folder):
    files = [(os.path.join(folder, kind, name), label)
             for label, kind in enumerate(CLASSES)
             for name in sorted(os.listdir(os.path.join(folder, kind)))]
    return files


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--per-class", type=int, default=200)
    parser.add_argument("--data", default="shapes_data", help="folder of the PNG files")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="custom_dataset.png", help="history plot file")
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    write_images(args.data, args.per_class, args.seed)
    files = list_files(args.data)
    order = np.random.default_rng(args.seed).permutation(len(files))
    cut = int(0.8 * len(files))
    train = ShapeFiles([files[i] for i in order[:cut]])
    val = ShapeFiles([files[i] for i in order[cut:]])
    train_loader = DataLoader(train, batch_size=32, shuffle=True, seed=args.seed)
    val_loader = DataLoader(val, batch_size=64, shuffle=False)

    norm = keras.layers.Normalization()
    norm.adapt(train_loader)                          # per-channel mean/variance, batch by batch
    model = keras.Sequential([
        keras.Input((16, 16, 1)), norm,
        keras.layers.Conv2D(8, 3, activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(16, 3, activation="relu"), keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(len(CLASSES), activation="softmax")])
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(train_loader, validation_data=val_loader, epochs=args.epochs, verbose=2)
    loss, accuracy = model.evaluate(val_loader, verbose=0)
    fig = history.plot()
    fig.savefig(args.out)
    print(f"saved {args.out}")
    if args.show:
        import matplotlib.pyplot as plt
        plt.show()
    print(f"validation accuracy: {accuracy:.4f}")


if __name__ == "__main__":
    main()
