"""The notes' division application: a sigmoid network that learns a/b, built on the engine and `nn`.

    from tinygrad_div.division import TrainConfig, train
    result = train(TrainConfig(hidden=(8,), inputs="raw"))

Modules: `data` (pairs, split, encoding), `config` (TrainConfig and its validation),
`names` (how messages name settings), `memory` (up-front memory estimates),
`divider` (Divider: a network read as a divider), `training` (the loop and scores),
`model_file` (save/load .npz), `onnx_model` (a divider as ONNX), `manual` (the notes' hand-derived backprop), `graph`
(one sample's graph to draw), `plot` (--plot), `progress` (the progress bar).

The names below are loaded on first use, so that `model_file` (what `predict` needs)
does not pull in the training loop, and the training loop not matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "TrainConfig": "config", "ConfigError": "config",
    "Pairs": "data", "division_data": "data",
    "Divider": "divider",
    "train": "training", "fit": "training", "TrainResult": "training", "Scores": "training",
    "save": "model_file", "load": "model_file", "ModelFileError": "model_file",
    "division_graph": "graph",
}
__all__ = list(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)
