"""The sum that carries the last digits of a confident prediction (private).

Shared by :mod:`softmax_ref.loss` (``log_softmax``) and :mod:`softmax_ref.two_layer`
(its output layer): with a the winning class of a row and m its score, the row's
log-normaliser is m + log1p(s), s = sum over j != a of exp(f_j - m), and the
derivation page's last-digit section shows why s is summed without the winner.
"""

from __future__ import annotations

import numpy as np

__all__ = ["winner_and_rest"]


def winner_and_rest(shifted: np.ndarray) -> np.ndarray:
    """s = sum over j != a of exp(shifted_j), a the first index of each row's maximum, (..., 1).

    ``shifted`` is F minus its row maximum, so the winner's own term would be
    exactly 1; leaving it out of the sum (rather than subtracting 1 from the
    whole) keeps every digit of a tiny s, which ``log1p`` and ``-s / (1 + s)``
    then carry through. A tie gives s >= 1: the other winners count 1 each.
    """
    e = np.exp(shifted)
    a = np.argmax(shifted, axis=-1)[..., None]
    np.put_along_axis(e, a, 0, axis=-1)
    return np.sum(e, axis=-1, keepdims=True)
