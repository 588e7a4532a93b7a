"""The errors `check_op` raises (kept apart so that the strategies, which raise one, need not import check_op)."""

from __future__ import annotations

from tinygrad_div.gradcheck import GradcheckError


class OpCheckError(GradcheckError):
    """An op failed its gradient check; the message carries the (shrunk) failing input."""


class OpHookError(OpCheckError):
    """One of the op's own hooks (`draw_inputs`, `example_params`) raised, or returned something unusable.

    Its message names the hook; the hook's own exception is its `__cause__`, so the
    traceback still shows the user's line.
    """


def hypothesis_missing(what: str, exc: ModuleNotFoundError) -> ModuleNotFoundError:
    """The one-line error for `what` (a module or function of this package) when hypothesis is absent.

    Its `name` stays "hypothesis", as Python's own error has it; any other missing module is
    returned unchanged, to be raised as it is."""
    if (exc.name or "").split(".")[0] != "hypothesis":
        return exc
    return ModuleNotFoundError(f'{what} needs hypothesis: pip install "tinygrad_div[dev]"', name="hypothesis")
