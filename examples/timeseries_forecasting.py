"""Forecast a multivariate time series with an LSTM, from sliding windows.

The script generates three related signals (a daily-like cycle, a slower weekly-like cycle, and
a noisy "temperature" driven by both), cuts them into windows of the past `--window` steps with
`keras.utils.timeseries_dataset_from_array`, and trains LSTM(32) -> Dense(1) to predict the
temperature `--horizon` steps after each window. The test error is compared with the naive
forecast "same as the last observed value", and the forecast is plotted against the truth.
Everything is generated: it runs offline in well under a minute.

Run:  python examples/timeseries_forecasting.py --epochs 6 --out timeseries_forecast.png
"""
import argparse

import numpy as np

import kerasnp as keras


def make_series(n, seed):
    """(n, 3) float32: cycle of period 24, cycle of period 24 * 7 / 4, noisy temperature."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    day = np.sin(2 * np.pi * t / 24)
    week = np.sin(2 * np.pi * t / 42)
    temperature = 0.8 * day + 0.5 * week + 0.1 * rng.standard_normal(n)
    return np.stack([day, week, temperature], axis=1).astype("float32")


def windows(series, start, end, window, horizon, batch_size, shuffle=False, seed=None):
    """Windows of `series[start:end]`; the target of the window starting at row s is the
    temperature (column 2) at row s + window + horizon - 1."""
    offset = window + horizon - 1
    return keras.utils.timeseries_dataset_from_array(
        series[:-offset], series[offset:, 2], sequence_length=window, batch_size=batch_size,
        shuffle=shuffle, seed=seed, start_index=start, end_index=end - offset)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--steps", type=int, default=2400, help="length of the series")
    parser.add_argument("--window", type=int, default=24, help="past steps the model sees")
    parser.add_argument("--horizon", type=int, default=6, help="steps ahead to forecast")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", type=int, default=2, choices=(0, 1, 2))
    parser.add_argument("--out", default="timeseries_forecast.png", help="where to save the plot")
    parser.add_argument("--show", action="store_true", help="also open the plot in a window")
    args = parser.parse_args()

    keras.utils.set_random_seed(args.seed)
    raw = make_series(args.steps, args.seed)
    n_train, n_val = int(0.7 * len(raw)), int(0.85 * len(raw))
    mean, std = raw[:n_train].mean(axis=0), raw[:n_train].std(axis=0)
    series = (raw - mean) / std                 # statistics of the training span only
    train = windows(series, 0, n_train, args.window, args.horizon, args.batch_size,
                    shuffle=True, seed=args.seed)
    val = windows(series, n_train, n_val, args.window, args.horizon, args.batch_size)
    test = windows(series, n_val, len(series) - 1, args.window, args.horizon, args.batch_size)
    print(f"{len(train)} training, {len(val)} validation and {len(test)} test batches of "
          f"windows {args.window} steps x {series.shape[1]} features")

    model = keras.Sequential([
        keras.Input(shape=(args.window, series.shape[1])),
        keras.layers.LSTM(32),
        keras.layers.Dense(1),
    ])
    model.summary()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3), loss="mse",
                  metrics=["mae"])
    history = model.fit(train, validation_data=val, epochs=args.epochs, verbose=args.verbose)

    x_test = np.concatenate([x for x, _ in test])
    y_test = np.concatenate([y for _, y in test])
    pred = model.predict(x_test, verbose=0)[:, 0]
    scale = std[2]
    mae = float(np.mean(np.abs(pred - y_test))) * scale
    naive = float(np.mean(np.abs(x_test[:, -1, 2] - y_test))) * scale   # "no change" forecast
    print(f"test MAE (temperature units): {mae:.4f}")
    print(f"naive last-value MAE: {naive:.4f}")

    import matplotlib
    if not args.show:
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    span = slice(0, min(200, len(pred)))
    ax1.plot(y_test[span] * scale + mean[2], label="truth")
    ax1.plot(pred[span] * scale + mean[2], label=f"LSTM forecast (+{args.horizon} steps)")
    ax1.set_xlabel("test time step")
    ax1.set_ylabel("temperature")
    ax1.set_title("Forecast vs truth")
    ax1.legend()
    ax2.plot(history.history["loss"], label="training")
    ax2.plot(history.history["val_loss"], label="validation")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("MSE (normalized)")
    ax2.set_title("Training history")
    ax2.legend()
    fig.savefig(args.out, dpi=100, bbox_inches="tight")
    print(f"saved forecast plot to {args.out}")
    if args.show:
        plt.show()


if __name__ == "__main__":
    main()
