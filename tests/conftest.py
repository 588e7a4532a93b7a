"""Hypothesis profiles: derandomized with no deadline in CI (a landing never hangs on luck), random locally."""

import os

from hypothesis import HealthCheck, settings

# The registry-driven suites (test_ops, test_differential, the ONNX and scalar/array ones) see the
# ops of every module imported so far: import the models layer's ops (nn.functional: Affine,
# Softplus) up front, so that which ops they check never depends on which test ran first.
import tinygrad_div.nn  # noqa: E402, F401

settings.register_profile(
    "ci", derandomize=True, deadline=None, max_examples=60, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
in_ci = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if in_ci else "dev"))
