"""One fine-tuned encoder, several task heads: train, calibrate, export to ONNX.

Two models serve rebut: `text` reads one text (moderation attributes of a comment or a
sentence, and whether a sentence is a check-worthy claim) and `pair` reads two (a claim
against its evidence: supported / contradicted / not_in_article; a comment against the
article's lead and closest passages: agrees / disputes / discusses / unrelated). Tasks
that read the same kind of input share one encoder pass, which is what makes serving
cheap; each head is one linear layer over the mean-pooled tokens.

The word-embedding table (half of MiniLM's weights) stays frozen at the packed base's
values: little is lost, and a trained model then packs into ~11 MB (the rest of its
matrices as per-row int8, vectors as fp16), which is what a lent GPU machine can send
back. Calibration: temperature for softmax heads, per-label Platt scaling for sigmoid
heads (their training data were resampled, so the prior needs moving too), both fitted
on dev logits and exported inside the graph.

model.py (the heads and the exported module), weights.py (packed weights files),
batches.py (rows to tensors and batches), loss.py, fit.py (the training loop),
calibrate.py (dev calibration and figures), export.py (to ONNX and back), and
__main__.py (`python -m training.multitask`, the commands).
"""
