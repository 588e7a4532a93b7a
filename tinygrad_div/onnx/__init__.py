"""Export a model to ONNX, the exchange format that onnxruntime (CPU, GPU, serving) runs.

    from tinygrad_div.onnx import export
    export(net, np.zeros((1, 2)), "net.onnx")       # input "input" of shape (batch, 2)

See docs/export.md. Needs the `onnx` extra: pip install 'tinygrad_div[onnx]'.
This package imports the real `onnx` package only when `export` runs.
"""

from tinygrad_div.onnx.errors import ExportError
from tinygrad_div.onnx.exporter import IR_VERSION, OPSET, export

__all__ = ["export", "ExportError", "OPSET", "IR_VERSION"]
