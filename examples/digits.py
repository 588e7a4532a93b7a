"""Handwritten digits: an MLP trained with cross-entropy and Adam on scikit-learn's bundled 8×8 images.

    python examples/digits.py                 # 64 -> 128 -> 10 ReLU net, 30 epochs: test accuracy 0.9889
    python examples/digits.py --epochs 5 --save digits.npz
    python examples/digits.py --eager         # the same run, step by step through the graph

`sklearn.datasets.load_digits` ships with scikit-learn (1,797 images, no download;
`pip install 'tinygrad_div[datasets]'`). The split is fixed (a seeded 80/20
permutation), so a run is reproducible to the last digit. The last line printed is
`test accuracy 0.xxxx`.

Each training step runs as a `td.compile` program (one per batch shape: the full
batches and the last, shorter one), which gives the eager step's loss and gradients
to the last bit, so `--eager` prints the same digits. Compiling pays a little here: a
step takes about 0.22 ms compiled against 0.30 ms eager, plus ~10 ms of tracing per
shape; 30 epochs take 218 ms against 232 ms (medians of 15 paired runs, one BLAS thread).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

if importlib.util.find_spec("tinygrad_div") is None:  # run from a source checkout, not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinygrad_div import compile, nn, no_grad  # noqa: E402
from tinygrad_div.nn.losses import cross_entropy  # noqa: E402
from tinygrad_div.optim import Adam  # noqa: E402

TEST_FRACTION = 0.2
SPLIT_SEED = 0


@dataclass(frozen=True)
class Digits:
    """Pixels scaled to [0, 1] (rows of 64) and integer labels 0-9, split into train and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load() -> Digits:
    """The fixed split of scikit-learn's digits: a permutation seeded with SPLIT_SEED, the last 20% for testing."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise SystemExit("digits.py needs scikit-learn: pip install 'tinygrad_div[datasets]'") from None
    images = load_digits()
    x = images.data.astype(np.float64) / 16.0  # pixel intensities are 0..16
    y = images.target.astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(x))
    n_test = round(len(x) * TEST_FRACTION)
    train, test = order[:-n_test], order[-n_test:]
    return Digits(x[train], y[train], x[test], y[test])


def accuracy(net: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with no_grad():
        return float(np.mean(np.argmax(net(x).data, axis=-1) == y))


def train(data: Digits, *, hidden: int = 128, epochs: int = 30, batch_size: int = 64, lr: float = 3e-3,
          seed: int = 0, compiled: bool = True, log=print) -> nn.MLP:
    """Adam on the mean cross-entropy, `epochs` passes over the training set in seeded shuffled batches.

    `compiled` runs each step as a td.compile program: the same weights, bit for bit.
    """
    net = nn.MLP([64, hidden, 10], activation="relu", output=None, seed=seed)
    optimizer = Adam(net.parameters(), lr=lr)
    step = compile(lambda images, labels: cross_entropy(net(images), labels)) if compiled else None
    rng = np.random.default_rng((seed, 1))
    n = len(data.x_train)
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, batch_size):
            rows = order[start:start + batch_size]
            optimizer.zero_grad()
            if step is None:
                loss = cross_entropy(net(data.x_train[rows]), data.y_train[rows])
                loss.backward()
            else:
                loss = step(data.x_train[rows], data.y_train[rows])
            optimizer.step()
            total += loss.item() * len(rows)
        if log is not None and (epoch == epochs or epoch % 10 == 0 or epoch == 1):
            train_accuracy = accuracy(net, data.x_train, data.y_train)
            log(f"epoch {epoch:3d}  loss {total / n:.4f}  train accuracy {train_accuracy:.4f}")
    return net


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save", metavar="FILE.npz", help="save the trained network's state_dict here")
    parser.add_argument("--eager", action="store_true",
                        help="run each step eagerly instead of as a td.compile program (same numbers, slower)")
    args = parser.parse_args(argv)
    data = load()
    start = time.perf_counter()
    try:
        net = train(data, hidden=args.hidden, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                    seed=args.seed, compiled=not args.eager)
        if args.save:
            nn.save(net, args.save)
    except (TypeError, ValueError, OSError) as exc:
        print(f"digits.py: error: {exc}", file=sys.stderr)
        return 2
    print(f"trained {len(data.x_train)} images in {time.perf_counter() - start:.2f} s"
          + (f", saved to {args.save}" if args.save else ""))
    print(f"test accuracy {accuracy(net, data.x_test, data.y_test):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
