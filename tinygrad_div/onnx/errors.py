"""The one error export raises for a model it cannot write; the message is one line and names the problem."""


class ExportError(ValueError):
    """A model that cannot be exported: an op with no ONNX mapping (named, with the line that made it), a
    graph that depends on the batch size, a path that cannot be written."""


#: What to install when the onnx package is missing.
EXTRA_HINT = "pip install 'tinygrad_div[onnx]'"
