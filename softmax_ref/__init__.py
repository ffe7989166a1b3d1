"""softmax-ref: a reference softmax cross-entropy classifier with a hand-derived gradient.

The package imports NumPy only; scikit-learn, SciPy, matplotlib and JAX are
imported where they are used. ``Softmax`` (the blog post's API) needs nothing
else; the scikit-learn estimators are loaded on first use.

Calling convention, one per model family:

* the linear model's functions take the parameters as separate arrays first,
  ``f(W, b, X, y, reg)``, with W (D, C) and b (C,), and return
  ``(loss, dW, db)`` (:mod:`softmax_ref.loss`, :mod:`softmax_ref.streaming`);
* the two-layer network's take one ``params`` dict keyed ``W1, b1, W2, b2``,
  ``f(params, X, y, reg)``, and return ``(loss, grads)`` with ``grads`` keyed
  like ``params`` (:mod:`softmax_ref.two_layer`, also ``sr.two_layer``);
* the Hessian-vector products take the direction last, shaped like the
  parameters: ``hvp(W, b, X, y, reg, V_W, V_b)`` (:mod:`softmax_ref.hessian`)
  and ``two_layer.hvp(params, X, y, reg, vector)``;
* the training loop and the estimators' hooks take the dict form for every
  model; :func:`softmax_ref.loss.linear_loss_and_grad` is the linear model in
  that form.
"""

from softmax_ref import two_layer
from softmax_ref.hessian import hvp
from softmax_ref.loss import (
    log_softmax,
    loss,
    loss_and_grad,
    loss_and_grad_dense,
    loss_and_grad_naive,
    softmax,
)
from softmax_ref.streaming import loss_and_grad_streaming

__all__ = [
    "Softmax",
    "SoftmaxClassifier",
    "TwoLayerClassifier",
    "hvp",
    "log_softmax",
    "loss",
    "loss_and_grad",
    "loss_and_grad_dense",
    "loss_and_grad_naive",
    "loss_and_grad_streaming",
    "softmax",
    "two_layer",
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
    if name == "distributed":  # the dask form, as sr.distributed (dask itself loads on use)
        import importlib

        return importlib.import_module("softmax_ref.distributed")
    raise AttributeError(f"module 'softmax_ref' has no attribute {name!r}")
