"""Names the package's doctests share, so that examples do not repeat their imports.

The estimator base (``softmax_ref/estimator.py``) is shown through its first
model, :class:`~softmax_ref.classifier.SoftmaxClassifier`: its examples use the
name as a reader of the API page has it in mind, and it comes from here.
"""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _estimator_names(doctest_namespace: dict[str, Any], request: pytest.FixtureRequest) -> None:
    # Only the estimator's doctests need it, and only they pay for importing scikit-learn.
    if request.node.nodeid.startswith("softmax_ref/estimator.py"):
        from softmax_ref.classifier import SoftmaxClassifier

        doctest_namespace["SoftmaxClassifier"] = SoftmaxClassifier
