"""rebut's training side: datasets, training, evaluation and ONNX export (torch lives here)."""
