"""softmax-ref: a reference softmax cross-entropy classifier with a hand-derived gradient.

The package imports NumPy only; scikit-learn, SciPy, matplotlib and JAX are
imported where they are used.
"""

from softmax_ref.loss import log_softmax, loss, loss_and_grad, loss_and_grad_naive, softmax
from softmax_ref.streaming import loss_and_grad_streaming

__all__ = [
    "Softmax",
    "SoftmaxClassifier",
    "TwoLayerClassifier",
    "log_softmax",
    "loss",
    "loss_and_grad",
    "loss_and_grad_naive",
    "loss_and_grad_streaming",
    "softmax",
]

__version__ = "0.1.0"

# Names loaded on first use (PEP 562), so that `import softmax_ref` stays NumPy-only:
# the estimators import scikit-learn. Add a line per lazily exported name.
_LAZY = {
    "Softmax": "softmax_ref.post",
    "SoftmaxClassifier": "softmax_ref.classifier",
    "TwoLayerClassifier": "softmax_ref.two_layer_classifier",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'softmax_ref' has no attribute {name!r}")
