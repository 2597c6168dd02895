"""Cross-entropy computed as -log(softmax(x)[t]): the log of an underflowed probability.

What is wrong: the softmax is stable, but the target's probability underflows
to 0 once its logit lies more than ~103 (float32) below the row maximum, and
-log(0) = inf. A confident wrong prediction, float32 logits [0, 200] with
target 0, gives loss inf instead of 200, and one such row makes a mean loss and
its gradient inf/NaN. The loss should be LSE(x) - x_t, computed from logits.
Seen in: tensorflow/models#181 (a hand-written cross-entropy on softmax outputs
went NaN after ~90 epochs; fixed by softmax_cross_entropy_with_logits),
summerlvsong/Aggregation-Cross-Entropy#2 (log of a softmax score of 0); the
reason nn.CrossEntropyLoss fuses log_softmax with NLLLoss.
Must be caught by: finite_outputs, definition, normwise_bound.
"""
import numpy as np

ZOO = [
    {"function": "cross_entropy", "op": "cross_entropy", "backend": "numpy", "dtypes": ["float32"],
     "caught_by": ["finite_outputs", "definition", "normwise_bound"]},
]


def cross_entropy(logits, targets):
    with np.errstate(all="ignore"):
        e = np.exp(logits - np.max(logits, axis=-1, keepdims=True))
        p = e / np.sum(e, axis=-1, keepdims=True)
        p_target = np.take_along_axis(p, np.asarray(targets)[:, None], axis=-1)[:, 0]
        return (-np.log(p_target)).astype(logits.dtype)
