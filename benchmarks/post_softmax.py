"""The blog post's NumPy code for the loss and gradient: the baseline of the benchmarks.

Kept as the post wrote it (the cs231n-style vectorized form of 2016): the
scores, their exponentials and the probabilities are whole (N, C) arrays (with
the temporary of ``X W`` before ``+ b``, four of them), the loss is
``-log`` of the label's probability, the probabilities are not shifted by the
row maximum, and ``db`` has shape (1, C). The docs' derivation page says what
is wrong with it; here it is only timed, on inputs where it is still correct
(small weights: no overflow, no probability that underflows).

Do not "fix" it: a faster or safer baseline would flatter nobody.
"""

from __future__ import annotations

import numpy as np


def softmax_loss(W, b, X, y, reg):
    """The post's loss and gradient: ``(loss, dW (D, C), db (1, C))``."""
    num_examples = X.shape[0]
    # Scores, class probabilities.
    scores = np.dot(X, W) + b
    exp_scores = np.exp(scores)
    probs = exp_scores / np.sum(exp_scores, axis=1, keepdims=True)
    # Average cross-entropy loss and regularization.
    correct_logprobs = -np.log(probs[range(num_examples), y])
    data_loss = np.sum(correct_logprobs) / num_examples
    reg_loss = 0.5 * reg * np.sum(W * W)
    loss = data_loss + reg_loss
    # Gradient on the scores, then backpropagate into W and b.
    dscores = probs
    dscores[range(num_examples), y] -= 1
    dscores /= num_examples
    dW = np.dot(X.T, dscores)
    db = np.sum(dscores, axis=0, keepdims=True)
    dW += reg * W
    return loss, dW, db
