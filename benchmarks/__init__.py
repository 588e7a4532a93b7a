"""Benchmarks of issue 4: tinygrad_div next to PyTorch, micrograd, MyGrad, HIPS autograd and hand-written floors.

Run `python -m benchmarks.run` (see `benchmarks/run.py` for options). Each workload
lives in its own module (`w1_sgd`, `w2_batched`, `w3_chain`, `w4_one_op`,
`w5_scalar_mlp`) with the same math written once per framework; `measure` times one
(workload, framework) pair against its floors inside one subprocess, and `run`
drives the subprocesses and prints the table. `profile` runs one case under cProfile.

Nothing here imports numpy at package import time: the measuring subprocess must
pin the BLAS thread count before numpy loads.
"""
