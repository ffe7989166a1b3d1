"""The blog post's NumPy code for the loss and gradient: the baseline of the benchmarks.

The arithmetic is the post's, statement for statement (its gradient-descent
section, in the order it gives them): the scores and the three (N, C) arrays
built from them (the exponentials of the scores shifted by their row
maximum, the probabilities, their copy ``dscores``), the loss as ``-log`` of
the label's probability picked with ``np.arange``, ``dscores`` divided by N
before the backward GEMM ``X.T.dot(dscores)``, and ``db`` of shape (1, C).
Only the names of its inputs are those of this project (the post's globals
``n_samples`` and ``reg`` become a shape and an argument). The docs' derivation
page says what is wrong with it (``-log`` of a probability that underflows);
here it is only timed, on inputs where it is still correct.

Do not "fix" or speed it up: a different baseline would make every ratio of
the benchmarks page a comparison with something other than the post.
"""

from __future__ import annotations

import numpy as np


def softmax_loss(W, b, X, y, reg):
    """The post's loss and gradient: ``(loss, dW (D, C), db (1, C))``."""
    n_samples = X.shape[0]
    scores = np.dot(X, W) + b
    exp_scores = np.exp(scores - np.max(scores, axis=1, keepdims=True))
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    correct_logprobs = -np.log(probs[np.arange(n_samples), y])
    loss = np.sum(correct_logprobs) / n_samples
    loss += 0.5 * reg * np.sum(W * W)
    dscores = probs.copy()
    dscores[np.arange(n_samples), y] -= 1
    dscores /= n_samples
    dW = X.T.dot(dscores)
    dW += reg * W
    db = np.sum(dscores, axis=0, keepdims=True)
    return loss, dW, db
