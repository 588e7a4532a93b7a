"""The division package: its public names resolve, and loading a model never loads the training loop."""

import subprocess
import sys

import pytest

from tinygrad_div import division


@pytest.mark.parametrize("name", division.__all__)
def test_every_public_name_resolves_to_its_module(name):
    value = getattr(division, name)
    assert value.__module__.startswith("tinygrad_div.division.")


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Trainer'"):
        division.Trainer  # noqa: B018


def test_loading_a_model_file_does_not_load_training_plotting_or_drawing():
    code = ("import sys; from tinygrad_div.division import load; "
            "print(sorted(m for m in sys.modules if m.endswith(('.training', '.optim', '.plot', '.graph', '.viz'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
