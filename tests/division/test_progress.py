"""progress: a bar that stays silent on short runs and redraws a long run's line a few times a second."""

import io

from tinygrad_div.division.progress import ProgressBar


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def make_bar(**options):
    clock, stream = Clock(), io.StringIO()
    return ProgressBar(stream, clock=clock, **options), clock, stream


def test_a_run_shorter_than_the_delay_prints_nothing():
    bar, clock, stream = make_bar(delay=2.0)
    for step in range(1, 101):
        clock.now += 0.019
        bar(step, 100)
    bar.close()
    assert stream.getvalue() == ""


def test_a_long_run_draws_the_bar_on_one_line_and_ends_it():
    bar, clock, stream = make_bar(delay=2.0, interval=0.1)
    for step in range(1, 101):
        clock.now += 0.05
        bar(step, 100)
    bar.close()
    text = stream.getvalue()
    assert text.startswith("\r[") and text.endswith("\n") and text.count("\n") == 1
    assert "100% 100/100" in text.rsplit("\r", 1)[-1]


def test_redraws_are_throttled_but_the_last_step_is_always_shown():
    bar, clock, stream = make_bar(delay=0.0, interval=1.0)
    for step in range(1, 1001):
        clock.now += 0.001  # a thousand steps in one second
        bar(step, 1000)
    draws = stream.getvalue().split("\r")[1:]
    assert len(draws) <= 3 and "1000/1000" in draws[-1]


def test_the_rendered_line_shows_fraction_counts_and_time_left():
    bar, _, _ = make_bar(width=10)
    assert bar.render(30, 100, 3.0) == "[###-------]  30% 30/100  3.0s elapsed, 7.0s left"
