"""softmax-ref: a reference softmax cross-entropy classifier with a hand-derived gradient.

The package imports NumPy only; scikit-learn, SciPy, matplotlib and JAX are
imported where they are used.
"""

from softmax_ref.loss import log_softmax, loss, loss_and_grad, loss_and_grad_naive, softmax

__all__ = [
    "log_softmax",
    "loss",
    "loss_and_grad",
    "loss_and_grad_naive",
    "softmax",
]

__version__ = "0.1.0"
