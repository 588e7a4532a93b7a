"""micrograd's demo on tinygrad_div: a 2-16-16-1 ReLU net separates scikit-learn's two moons.

    python examples/moons.py                  # 100 steps: training accuracy 1.0000
    python examples/moons.py --plot moons.png # and the decision boundary (needs matplotlib)
    python examples/moons.py --steps 500      # long enough to pay for td.compile (--eager: without it)

As in micrograd's demo notebook: 100 points of `make_moons(noise=0.1)`, labels ±1,
the SVM max-margin loss mean(relu(1 − y·score)) plus 1e-4 · Σ p² (L2), full-batch SGD
for 100 steps with the learning rate decaying from 1.0 to 0.1. Here the 2-16-16-1
net is one `nn.MLP` of three Linear layers (a Value per array, not per number).

The demo's 100 steps run eagerly: compiling does not pay for them. Tracing and
checking this step costs about 20 ms, as much as 70 eager steps (0.29 ms each; a
compiled step takes 0.12 ms), so 100 steps take 29 ms eagerly and 30 ms compiled,
while 300 steps take 86 ms eagerly and 54 ms compiled. From 200 steps on (COMPILE_FROM),
each step runs as a `td.compile` program, which gives the eager step's loss and
gradients to the last bit (the same printed digits); `--eager` opts out.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np

if importlib.util.find_spec("tinygrad_div") is None:  # run from a source checkout, not installed
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tinygrad_div import Value, compile, nn, no_grad  # noqa: E402
from tinygrad_div.files import output_problem, write_atomically  # noqa: E402
from tinygrad_div.optim import SGD  # noqa: E402

ALPHA = 1e-4  # the L2 weight of micrograd's demo
#: the fewest steps for which the compiled step pays for its tracing (measured: see above)
COMPILE_FROM = 200


def load(samples: int = 100, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """`make_moons(samples, noise=0.1)` as micrograd's demo draws it: points (n, 2) and labels −1 or +1."""
    try:
        from sklearn.datasets import make_moons
    except ImportError:
        raise SystemExit("moons.py needs scikit-learn: pip install 'tinygrad_div[datasets]'") from None
    x, y = make_moons(n_samples=samples, noise=0.1, random_state=seed)
    return x.astype(np.float64), (2 * y - 1).astype(np.float64)


def loss_and_accuracy(net: nn.MLP, x: np.ndarray, y: np.ndarray) -> tuple[Value, float]:
    """micrograd's demo loss: the SVM max-margin loss plus L2, and the share of points on the right side."""
    scores = net(x)[:, 0]
    return demo_loss(net, scores, y), float(np.mean((scores.data > 0) == (y > 0)))


def demo_loss(net: nn.MLP, scores: Value, y: np.ndarray) -> Value:
    """mean(relu(1 − y·score)) + ALPHA · Σ p²: Values only, so that td.compile can trace it (the accuracy,
    numpy on `scores.data`, cannot be traced and is computed apart)."""
    l2 = sum((p * p).sum() for p in net.parameters())
    return (1 - y * scores).relu().mean() + ALPHA * l2


def micrograd_init(net: nn.Module, seed: int) -> dict[str, np.ndarray]:
    """micrograd's initial weights: uniform in [−1, 1], biases 0 (larger than PyTorch's ±1/√fan_in,
    with which a few seeds stop at 99% in 100 steps)."""
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(-1.0, 1.0, p.shape) if name.endswith("weight") else np.zeros(p.shape)
            for name, p in net.named_parameters()}


def train(x: np.ndarray, y: np.ndarray, *, steps: int = 100, seed: int = 0, compiled: bool | None = None,
          log=print) -> tuple[nn.MLP, float]:
    """Full-batch SGD, lr = 1 − 0.9·step/steps as in the demo; returns the net and its final training accuracy.

    `compiled` runs each step as a td.compile program (the same weights, bit for bit);
    None compiles when it pays, from COMPILE_FROM steps on.
    """
    net = nn.MLP([2, 16, 16, 1], activation="relu", output=None)
    net.load_state_dict(micrograd_init(net, seed))
    if compiled is None:
        compiled = steps >= COMPILE_FROM
    program = compile(lambda points, labels: demo_loss(net, net(points)[:, 0], labels)) if compiled else None
    for step in range(steps):
        optimizer = SGD(net.parameters(), lr=1.0 - 0.9 * step / steps)
        optimizer.zero_grad()
        if program is None:
            loss, accuracy = loss_and_accuracy(net, x, y)
            loss.backward()
        else:
            if log is not None and step % 10 == 0:  # the accuracy is only printed; the program computes no scores
                with no_grad():
                    _, accuracy = loss_and_accuracy(net, x, y)
            loss = program(x, y)
        optimizer.step()
        if log is not None and step % 10 == 0:
            log(f"step {step:3d}  loss {loss.item():.4f}  accuracy {accuracy:.4f}")
    with no_grad():
        _, accuracy = loss_and_accuracy(net, x, y)
    return net, accuracy


def plot(net: nn.MLP, x: np.ndarray, y: np.ndarray, path: Path) -> None:
    """The decision boundary (score 0) over a grid, with the points, written atomically to `path`."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("--plot needs matplotlib: pip install 'tinygrad_div[plot]'") from None
    xs = np.linspace(x[:, 0].min() - 1, x[:, 0].max() + 1, 200)
    ys = np.linspace(x[:, 1].min() - 1, x[:, 1].max() + 1, 200)
    grid_x, grid_y = np.meshgrid(xs, ys)
    with no_grad():
        scores = net(np.column_stack([grid_x.ravel(), grid_y.ravel()])).data.reshape(grid_x.shape)
    fig, ax = plt.subplots(figsize=(6, 5))
    ax.contourf(grid_x, grid_y, scores > 0, cmap="Spectral", alpha=0.8)
    ax.scatter(x[:, 0], x[:, 1], c=y, s=40, cmap="jet", edgecolors="k")
    ax.set_title("2-16-16-1 ReLU net on make_moons: decision boundary")
    write_atomically(path, lambda file: fig.savefig(file, format=path.suffix.lstrip(".") or "png"))
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="the initial weights' seed")
    parser.add_argument("--plot", type=Path, metavar="FILE.png", help="draw the decision boundary to this file")
    parser.add_argument("--eager", action="store_true",
                        help=f"with --steps >= {COMPILE_FROM}, still run each step eagerly, not as a "
                             "td.compile program (same numbers, slower)")
    args = parser.parse_args(argv)
    if args.plot is not None and (problem := output_problem(args.plot)):
        print(f"moons.py: error: cannot write --plot {args.plot}: {problem}", file=sys.stderr)
        return 2
    if args.steps < 1:
        print(f"moons.py: error: --steps must be >= 1, got {args.steps}", file=sys.stderr)
        return 2
    x, y = load()
    net, accuracy = train(x, y, steps=args.steps, seed=args.seed, compiled=False if args.eager else None)
    if args.plot is not None:
        plot(net, x, y, args.plot)
        print(f"wrote {args.plot}")
    print(f"training accuracy {accuracy:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
