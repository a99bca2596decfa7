"""ResNet-50 training step, kerasnp vs PyTorch CPU, measured in one run.

Keras's ResNet50 (`kerasnp.applications.ResNet50(input_shape=(32, 32, 3), classes=10)`,
23,608,202 weights) against the same network written by hand in PyTorch (torchvision is not
needed): bottleneck blocks with the stride on the first 1x1 convolution, biased convolutions,
BatchNormalization epsilon 1.001e-5, stacks 3-4-6-3. One step = forward, backward and an Adam
update on a batch of 32 random 32x32x3 images with 10 classes (softmax cross-entropy).
Printed: the median of the timed steps after the warm-up ones, per library, and kerasnp's ratio
to PyTorch (< 1 means kerasnp is faster). Each library runs in its own subprocess.

Run: python benchmarks/bench_resnet.py [--steps 5] [--warmup 2] [--batch-size 32]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np


def _data(batch):
    rng = np.random.default_rng(0)
    return rng.random((batch, 32, 32, 3), dtype=np.float32), rng.integers(0, 10, batch)


def _median_step(step, steps, warmup):
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def worker_kerasnp(steps, warmup, batch):
    import kerasnp as keras
    from kerasnp.applications import ResNet50
    keras.set_random_seed(0)
    x, y = _data(batch)
    model = ResNet50(input_shape=(32, 32, 3), classes=10)
    model.compile(keras.optimizers.Adam(1e-3), "sparse_categorical_crossentropy")
    median, times = _median_step(lambda: model.train_on_batch(x, y), steps, warmup)
    return {"median": median, "times": times, "params": model.count_params()}


def _torch_resnet50(torch):
    nn = torch.nn

    def bn(c):                                    # Keras momentum 0.99 == torch momentum 0.01
        return nn.BatchNorm2d(c, eps=1.001e-5, momentum=0.01)

    class Bottleneck(nn.Module):
        def __init__(self, cin, filters, stride, shortcut):
            super().__init__()
            self.shortcut = (nn.Sequential(nn.Conv2d(cin, 4 * filters, 1, stride),
                                           bn(4 * filters)) if shortcut else None)
            self.body = nn.Sequential(
                nn.Conv2d(cin, filters, 1, stride), bn(filters), nn.ReLU(),
                nn.Conv2d(filters, filters, 3, 1, 1), bn(filters), nn.ReLU(),
                nn.Conv2d(filters, 4 * filters, 1), bn(4 * filters))

        def forward(self, x):
            s = x if self.shortcut is None else self.shortcut(x)
            return torch.relu(s + self.body(x))

    blocks, cin = [], 64
    for i, (filters, n) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3))):
        for b in range(n):
            blocks.append(Bottleneck(cin, filters, 2 if i and b == 0 else 1, b == 0))
            cin = 4 * filters
    return nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3), bn(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
                         *blocks, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 10))


def worker_torch(steps, warmup, batch):
    import torch
    torch.manual_seed(0)
    x, y = _data(batch)
    tx = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()
    ty = torch.from_numpy(y)
    net = _torch_resnet50(torch).train()
    opt = torch.optim.Adam(net.parameters(), 1e-3)

    def step():
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(tx), ty).backward()
        opt.step()

    median, times = _median_step(step, steps, warmup)
    params = sum(p.numel() for p in net.parameters()) + sum(b.numel() for n, b in
                                                            net.named_buffers()
                                                            if "running" in n)
    return {"median": median, "times": times, "params": params,
            "threads": torch.get_num_threads()}


def run(which, args):
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--worker", which,
                          "--steps", str(args.steps), "--warmup", str(args.warmup),
                          "--batch-size", str(args.batch_size)],
                         capture_output=True, text=True, check=False)
    if out.returncode:
        sys.stderr.write(out.stderr)
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=5, help="timed steps (median reported)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps first")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--worker", choices=["kerasnp", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        fn = worker_kerasnp if args.worker == "kerasnp" else worker_torch
        print(json.dumps(fn(args.steps, args.warmup, args.batch_size)))
        return
    ours, peer = run("kerasnp", args), run("torch", args)
    print(f"ResNet-50 training step (forward + backward + Adam), batch {args.batch_size} of "
          f"32x32x3, 10 classes; median of {args.steps} steps after {args.warmup} warm-up")
    print(f"{'':<24}{'kerasnp':>10}{'pytorch':>10}{'ratio':>8}")
    p = peer or {}
    ratio = f"{ours['median'] / p['median']:>8.2f}" if peer else f"{'-':>8}"
    theirs = f"{p['median']:>10.3f}" if peer else f"{'-':>10}"
    print(f"{'seconds per step':<24}{ours['median']:>10.3f}{theirs}{ratio}")
    print(f"{'weights':<24}{ours['params']:>11,}{p.get('params', 0):>11,}")
    print("all kerasnp steps (s): " + ", ".join(f"{t:.3f}" for t in ours["times"]))
    if peer:
        print("all pytorch steps (s): " + ", ".join(f"{t:.3f}" for t in p["times"])
              + f"  ({p['threads']} threads)")


if __name__ == "__main__":
    main()
