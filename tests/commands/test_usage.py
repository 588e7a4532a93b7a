"""usage: the command line's argument parsers, and its words for the library's settings."""

import argparse
import subprocess
import sys

import pytest

from tinygrad_div.commands.usage import FLAGS, add_network_arguments, integer, number, output_file
from tinygrad_div.division.config import TrainConfig


def test_the_command_line_renders_the_same_problems_with_its_flags():
    config = TrainConfig(samples=-5, batch_size=0, low=1.0, high=0.1)
    assert config.problems() == [
        "samples must be at least 3, so that training and testing get a pair each (20% is held out for testing), "
        "got -5", "batch_size must be >= 1, got 0", "(low, high) needs 0 < low < high, got 1 0.1"]
    assert config.problems(FLAGS) == [
        "--samples must be at least 3, so that training and testing get a pair each (20% is held out for testing), "
        "got -5", "--batch-size must be >= 1, got 0", "--range needs 0 < LOW < HIGH, got 1 0.1"]


def test_every_setting_has_a_flag_of_its_own():
    words = [FLAGS.samples, FLAGS.hidden, FLAGS.epochs, FLAGS.batch_size, FLAGS.lr, FLAGS.seed, FLAGS.inputs,
             FLAGS.range]
    assert all(word.startswith("--") for word in words) and len(set(words)) == len(words)


def test_the_network_options_are_declared_once_with_trains_defaults():
    parser = argparse.ArgumentParser()
    add_network_arguments(parser)
    args = parser.parse_args([])
    defaults = TrainConfig()
    assert (args.seed, tuple(args.hidden), args.inputs) == (defaults.seed, defaults.hidden, defaults.inputs)
    assert parser.parse_args(["--hidden", "4", "2", "--seed", "7"]).hidden == [4, 2]


@pytest.mark.parametrize("parse, text, message", [
    (integer, "2.5", "expected a whole number"), (number, "nan", "expected a finite number"),
    (output_file, "out/", "a directory"), (output_file, "", "empty"),
])
def test_argument_parsers_refuse_with_one_line(parse, text, message):
    with pytest.raises(argparse.ArgumentTypeError, match=message):
        parse(text)


def test_predict_loads_a_model_without_the_training_loop():
    code = ("import sys; import tinygrad_div.commands.predict; "
            "print(sorted(m for m in sys.modules if m.endswith(('.training', '.optim', '.plot', '.graph'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"
