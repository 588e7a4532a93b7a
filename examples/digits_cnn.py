"""Handwritten digits with a small CNN: convolutions, batch norm and max pooling, trained with Adam and a
cosine learning-rate schedule on scikit-learn's bundled 8×8 images.

    python examples/digits_cnn.py                 # 5 epochs: test accuracy 0.9944
    python examples/digits_cnn.py --epochs 3 --save cnn.npz
    python examples/digits_cnn.py --eager         # the same run, step by step through the graph

The network is PyTorch's `Sequential(Conv2d(1, 16, 3, padding=1), BatchNorm2d(16), ReLU(),
Conv2d(16, 32, 3, padding=1), BatchNorm2d(32), ReLU(), MaxPool2d(2), Flatten(), Linear(512, 10))`,
layer for layer (`model()`), so its state_dict loads into that torch model as is. The
split is digits.py's (a seeded 80/20 permutation); `td.manual_seed(seed)` fixes the
initial weights, and a seeded DataLoader the order of the batches, so a run repeats to
the last digit. `train()` mode while training (batch statistics), `eval()` to test
(the running statistics). Each training step runs as a `td.compile` program; the
last line printed is `test accuracy 0.xxxx`.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np

if importlib.util.find_spec("tinygrad_div") is None:  # run from a source checkout, not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # digits.py, for its split

from digits import Digits  # noqa: E402
from digits import load as load_digits  # noqa: E402

from tinygrad_div import compile, manual_seed, nn, no_grad  # noqa: E402
from tinygrad_div.data import DataLoader, TensorDataset  # noqa: E402
from tinygrad_div.optim import Adam  # noqa: E402
from tinygrad_div.optim.lr_scheduler import CosineAnnealingLR  # noqa: E402


def load() -> Digits:
    """digits.py's fixed split, the images as (N, 1, 8, 8): one channel of 8×8 pixels in [0, 1]."""
    d = load_digits()
    return Digits(d.x_train.reshape(-1, 1, 8, 8), d.y_train, d.x_test.reshape(-1, 1, 8, 8), d.y_test)


def model() -> nn.Sequential:
    """The CNN, its weights drawn from the default generator (seed it with td.manual_seed)."""
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),      # (N, 16, 8, 8)
        nn.Conv2d(16, 32, 3, padding=1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),     # (N, 32, 8, 8)
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(512, 10),                  # (N, 32, 4, 4) -> (N, 512) -> logits
    )


def accuracy(net: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """The share of images whose largest logit is their label, in eval mode (the running statistics)."""
    was_training = net.training
    net.eval()
    with no_grad():
        correct = float(np.mean(np.argmax(net(x).data, axis=-1) == y))
    net.train(was_training)
    return correct


def train(data: Digits, *, epochs: int = 5, batch_size: int = 64, lr: float = 3e-3, seed: int = 0,
          compiled: bool = True, log=print) -> nn.Sequential:
    """Adam on the mean cross-entropy, the learning rate annealed to 0 along a cosine over `epochs`."""
    manual_seed(seed)
    net = model()
    optimizer = Adam(net.parameters(), lr=lr)
    scheduler = CosineAnnealingLR(optimizer, T_max=epochs)
    loader = DataLoader(TensorDataset(data.x_train, data.y_train), batch_size=batch_size, shuffle=True,
                        generator=np.random.default_rng((seed, 1)))
    step = None
    if compiled:
        step = compile(lambda images, labels: nn.cross_entropy(net(images), labels))
        trace_each_batch_shape(step, net, data, batch_size)
    for epoch in range(1, epochs + 1):
        net.train()
        total = 0.0
        for images, labels in loader:
            optimizer.zero_grad()
            if step is None:
                loss = nn.cross_entropy(net(images), labels)
                loss.backward()
            else:
                loss = step(images, labels)
            optimizer.step()
            total += loss.item() * len(labels)
        scheduler.step()
        if log is not None and (epoch == epochs or epoch % 5 == 0 or epoch == 1):
            log(f"epoch {epoch:3d}  loss {total / len(data.y_train):.4f}  "
                f"train accuracy {accuracy(net, data.x_train, data.y_train):.4f}")
    net.eval()
    return net


def trace_each_batch_shape(step, net: nn.Module, data: Digits, batch_size: int) -> None:
    """Call `step` once on a batch of each size the loader yields, then put the weights and BatchNorm's
    running statistics back as they were.

    td.compile's first call of a batch shape runs the step several times (the trace, its checks,
    an eager run); BatchNorm moves its running statistics on each of them. Later calls run the
    program once, moving them once, as an eager step does: after this, compiled training gives
    the eager run's weights and statistics bit for bit.
    """
    state = net.state_dict()
    sizes = {min(batch_size, len(data.y_train)), len(data.y_train) % batch_size} - {0}
    for size in sorted(sizes):
        step(data.x_train[:size], data.y_train[:size])
    net.load_state_dict(state)
    net.zero_grad()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=5)
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
        net = train(data, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                    compiled=not args.eager)
        if args.save:
            nn.save(net, args.save)
    except (TypeError, ValueError, OSError) as exc:
        print(f"digits_cnn.py: error: {exc}", file=sys.stderr)
        return 2
    print(f"trained {len(data.x_train)} images in {time.perf_counter() - start:.2f} s"
          + (f", saved to {args.save}" if args.save else ""))
    print(f"test accuracy {accuracy(net, data.x_test, data.y_test):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
