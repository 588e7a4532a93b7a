"""Python source from a Program: one line per op, a comment naming the op and whose gradient it is.

    def step(x, t):
        W1 = params[0].data                    # parameter, read on every call
        ...
        net = x @ W1                           # MatMul
        d_net = d_sigmoid @ W2.T               # MatMul: dloss/dh
        params[0].grad = grad_W1               # W1.grad += dloss/dW1
        return loss

Arrays are numpy calls, scalars plain float arithmetic (numpy only where the engine
itself calls numpy on a float, e.g. np.exp, for its bits). The source is compiled
with compile()/exec and registered with linecache, so a traceback shows its lines.
"""

from __future__ import annotations

import linecache
import math
from typing import Any

from tinygrad_div.compile.ir import Program


def emit(program: Program, name: str, arg_names: list[str], namespace: dict[str, Any]) -> str:
    slots = program.slots
    rendered: dict[int, str] = {}
    params = []  # the Values the program reads, in order

    def ref(i: int) -> str:
        if i not in rendered:
            s = slots[i]
            if s.kind == "const" and type(s.value) is float and not math.isnan(s.value):
                rendered[i] = repr(s.value) if s.value >= 0 or math.isinf(s.value) else f"({s.value!r})"
            else:
                rendered[i] = s.name
                if s.kind == "const":
                    namespace[s.name] = s.value
        return rendered[i]

    body = []
    used = {i for line in program.lines for i in line.ins} | {program.loss}
    index: dict[int, int] = {}
    for i, s in enumerate(slots):
        if s.kind in ("param", "grad") and (i in used or s.kind == "grad" and i in used):
            if id(s.source) not in index:
                index[id(s.source)] = len(params)
                params.append(s.source)
            k = index[id(s.source)]
            if s.kind == "param":
                what = "parameter" if s.source.requires_grad else "constant Value"
                body.append((f"{s.name} = params[{k}].data", f"{what} {_shape(s.value)}, read on every call"))
            else:
                body.append((f"{s.name} = params[{k}].grad", "None, or the gradient so far"))
    for line in program.lines:
        text = line.template.format(*(ref(i) for i in line.ins))
        if line.outs:  # a guard has none: it is a statement
            text = f"{', '.join(ref(o) for o in line.outs)} = {text}"
        body.append((text, line.op + (f": {line.note}" if line.note else "")))
    for param, slot in program.grads:
        if id(param) not in index:
            index[id(param)] = len(params)
            params.append(param)
        body.append((f"params[{index[id(param)]}].grad = {ref(slot)}", ""))
    body.append((f"return {ref(program.loss)}", "the loss"))
    namespace["params"] = tuple(params)
    width = min(max(len(t) for t, _ in body), 72)
    lines = [f"def {name}({', '.join(ref(i) for i in program.of_kind('arg'))}):"]
    for i, text in rendered.items():  # constants by name: show their values
        if text == slots[i].name and slots[i].kind == "const":
            shown = repr(slots[i].value).replace("\n", " ")
            lines.append(f"    # {text} = {shown if len(shown) <= 60 else shown[:57] + '...'}  (constant)")
    lines += [f"    {t:<{width}}  # {c}" if c else f"    {t}" for t, c in body]
    return "\n".join(lines) + "\n"


def _shape(value: Any) -> str:
    return "(scalar)" if isinstance(value, float) else str(getattr(value, "shape", ""))


def build(source: str, name: str, filename: str, namespace: dict[str, Any]) -> Any:
    """The function the source defines, compiled; its lines are shown in tracebacks."""
    linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
    exec(compile(source, filename, "exec"), namespace)  # noqa: S102
    return namespace[name]
