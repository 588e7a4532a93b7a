"""The notes' chain rule, as the code `td.compile` derives for the division network.

The notes number layers from the output down: net1 is the last layer's weighted
sum, s1 = σ(net1) the prediction, w1 and b1 its weights; net2, s2, w2, b2 the layer
below. The step names its values that way (`named`), so the generated program
reads in the notes' words, and `formulas` pairs its lines with the notes' formulas.
"""

from __future__ import annotations

import numpy as np

from tinygrad_div.compile import Compiled, compile, named
from tinygrad_div.engine.value import Value
from tinygrad_div.explain import Explanation, explain
from tinygrad_div.nn import MLP, mse_loss

#: The sample derive and explain run the network on: (x, t), as the notes' (inputs, label).
SAMPLE = (np.array([0.6, 0.3]), 0.5)


def notes_step(hidden: tuple[int, ...] = (), seed: int = 0) -> tuple[Compiled, MLP]:
    """The notes' network (2 -> hidden... -> 1, sigmoid) and its compiled training step (x, t) -> E."""
    model = MLP([2, *hidden, 1], seed=seed)
    depth = len(model.layers)
    names = {}
    for i, layer in enumerate(model.layers):
        names[f"w{depth - i}"], names[f"b{depth - i}"] = layer.weight, layer.bias

    def step(x, t):
        s = x
        for i, layer in enumerate(model.layers):
            k = depth - i
            net = named(layer(s), f"net{k}")  # the model's own Linear: x @ wᵀ + b
            s = named(net.sigmoid(), f"s{k}")
        return named(mse_loss(s, t), "E")

    return compile(step, names=names), model


def formulas(depth: int) -> dict[str, str]:
    """Program names -> the notes' formula each one computes (for a network `depth` layers deep)."""
    table = {"dE_dsub": "dE/ds1 = 2*(s1 - t)  (the notes' -cost, doubled: E is the squared cost)"}
    chain = "dE/ds1*ds1/dnet1"
    for k in range(1, depth + 1):
        table[f"dE_dnet{k}"] = f"{chain}  (ds{k}/dnet{k} = s{k}(1 - s{k}), as z*r*r)"
        table[f"grad_b{k}"] = f"dE/db{k} = {chain} * dnet{k}/db{k}  (dnet{k}/db{k} = 1)"
        table[f"dE_dw{k}"] = f"dE/dw{k} = {chain} * dnet{k}/dw{k}  (dnet{k}/dw{k} = in{k})"
        table[f"grad_w{k}"] = f"w{k}.grad = dE/dw{k}"
        if k < depth:
            table[f"dE_ds{k + 1}"] = f"{chain} * dnet{k}/ds{k + 1}  (dnet{k}/ds{k + 1} = w{k})"
            chain += f" * dnet{k}/ds{k + 1}*ds{k + 1}/dnet{k + 1}"
    return table


MARK = "  <- "


def derivation(hidden: tuple[int, ...] = ()) -> str:
    """The generated program for the notes' network, each chain-rule line followed by its formula."""
    step, model = notes_step(hidden)
    step(*SAMPLE)
    table = formulas(len(model.layers))
    out = []
    for line in step.source.splitlines():
        target = line.strip().split(" = ")[0]
        formula = table.get(target)
        out.append(line + MARK + formula if formula else line)
    sizes = " -> ".join(str(n) for n in model.sizes)
    header = [f"# The notes' network {sizes} (sigmoid), E = mean((s1 - t)**2), as td.compile derived it.",
              "# Each line computes one op; '<-' marks the notes' chain-rule term a line computes."]
    return "\n".join(header + out) + "\n"


def notes_forward(hidden: tuple[int, ...] = (), seed: int = 0) -> tuple[Value, dict[str, Value]]:
    """The notes' network run eagerly on SAMPLE: the loss E and every value by its name in the notes
    (net1, s1, w1, b1 for the last layer; net2, s2, w2, b2 below it; ...)."""
    model = MLP([2, *hidden, 1], seed=seed)
    depth = len(model.layers)
    names: dict[str, Value] = {}
    s: Value | np.ndarray = SAMPLE[0]
    for i, layer in enumerate(model.layers):
        k = depth - i
        names[f"w{k}"], names[f"b{k}"] = layer.weight, layer.bias
        names[f"net{k}"] = net = layer(s)
        names[f"s{k}"] = s = net.sigmoid()
    names["E"] = loss = mse_loss(s, SAMPLE[1])
    return loss, names


def explanations(hidden: tuple[int, ...] = ()) -> list[Explanation]:
    """`td.explain` of E with respect to every weight and bias of the notes' network: w1, b1 (the last
    layer), then w2, b2 below it, ..."""
    loss, names = notes_forward(hidden)
    parameters = sorted((name for name in names if name[0] in "wb"), key=lambda n: (int(n[1:]), n[0] == "b"))
    return [explain(loss, names[name], names=names) for name in parameters]
