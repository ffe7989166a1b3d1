"""scikit-learn's ``make_classification``, restated in NumPy with the vertex selection of 2016.

scikit-learn 0.18.1 changed ``sample_without_replacement``, which
``make_classification`` uses to pick the hypercube vertices the clusters sit
on, so since then a seed draws other vertices and every later draw lands
somewhere else. :func:`make_classification_legacy` consumes a legacy
``np.random.RandomState`` stream draw for draw as scikit-learn did, with the
vertex selection of 0.18.0 (which regenerates the blog post's data set,
:func:`softmax_ref.datasets.blog_2016`) or of today (which proves the rest of
the restatement exact). It is re-exported by :mod:`softmax_ref.datasets`.

Only NumPy is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

__all__ = ["make_classification_legacy"]


def _vertices_rejection(
    n_population: int, n_samples: int, rng: np.random.RandomState
) -> np.ndarray:
    # scikit-learn <= 0.18.0 (tracking selection, modelled on Python's
    # random.sample): draw until n_samples distinct values have been seen.
    selected: set[int] = set()
    out = np.empty(n_samples, dtype=np.int64)
    for i in range(n_samples):
        j = int(rng.randint(n_population))
        while j in selected:
            j = int(rng.randint(n_population))
        selected.add(j)
        out[i] = j
    return out


def _vertices_reservoir(
    n_population: int, n_samples: int, rng: np.random.RandomState
) -> np.ndarray:
    out = np.arange(n_samples, dtype=np.int64)
    for i in range(n_samples, n_population):
        j = int(rng.randint(0, i + 1))
        if j < n_samples:
            out[j] = i
    return out


def _vertices_current(n_population: int, n_samples: int, rng: np.random.RandomState) -> np.ndarray:
    # scikit-learn >= 0.18.1, sample_without_replacement(method="auto").
    ratio = n_samples / n_population if n_population != 0 else 1.0
    if 0.01 < ratio < 0.99:
        return rng.permutation(n_population)[:n_samples]
    if ratio < 0.2:
        return _vertices_rejection(n_population, n_samples, rng)
    return _vertices_reservoir(n_population, n_samples, rng)


_VERTEX_SELECTIONS = {"0.18.0": _vertices_rejection, "current": _vertices_current}


def _hypercube(
    n_vertices: int, dimensions: int, rng: np.random.RandomState, vertex_selection: str
) -> np.ndarray:
    """``n_vertices`` distinct corners of the {0, 1}^dimensions cube, one per row."""
    if dimensions > 30:
        return np.hstack(
            [
                rng.randint(2, size=(n_vertices, dimensions - 30)),
                _hypercube(n_vertices, 30, rng, vertex_selection),
            ]
        )
    codes = _VERTEX_SELECTIONS[vertex_selection](2**dimensions, n_vertices, rng)
    # The binary digits of each code, most significant first.
    bits = np.unpackbits(codes.astype(">u4").view(">u1")).reshape((-1, 32))
    return bits[:, -dimensions:]


def make_classification_legacy(
    n_samples: int = 100,
    n_features: int = 20,
    *,
    n_informative: int = 2,
    n_redundant: int = 2,
    n_repeated: int = 0,
    n_classes: int = 2,
    n_clusters_per_class: int = 2,
    weights: Sequence[float] | None = None,
    flip_y: float = 0.01,
    class_sep: float = 1.0,
    hypercube: bool = True,
    shift: float | np.ndarray | None = 0.0,
    scale: float | np.ndarray | None = 1.0,
    shuffle: bool = True,
    random_state: int | np.random.RandomState,
    vertex_selection: Literal["0.18.0", "current"] = "0.18.0",
) -> tuple[np.ndarray, np.ndarray]:
    r"""scikit-learn's ``make_classification``, restated in NumPy, draw for draw.

    Gaussian clusters (``n_clusters_per_class`` per class) are centred on
    distinct vertices of the hypercube ``{-class_sep, class_sep}^n_informative``,
    given a random covariance each, then redundant, repeated and noise features
    are added, labels flipped with probability ``flip_y``, features shifted and
    scaled, and samples and features shuffled. With :math:`d` =
    ``n_informative`` and :math:`s` = ``class_sep``, a sample of cluster
    :math:`k` (class :math:`k \bmod` ``n_classes``) has informative features

    .. math::
        x_n = z_n A_k + c_k, \qquad z_n \sim \mathcal N(0, I_d), \qquad
        (A_k)_{ij} \sim \mathcal U[-1, 1], \qquad c_k \in \{-s, s\}^d,

    redundant features :math:`x_n B` with :math:`B_{ij} \sim \mathcal U[-1, 1]`,
    and all features then map to :math:`(x + \text{shift}) \cdot \text{scale}`.
    Every random number comes from one legacy ``np.random.RandomState``
    (never NumPy's global state), in the order scikit-learn draws them, so the
    output is bit-identical to scikit-learn's for the same seed.

    The one difference between versions is how the vertices are chosen:

    * ``"0.18.0"``: draw ``randint(2**n_informative)`` until ``n_clusters``
      distinct values have been seen. scikit-learn used this up to 0.18.0; for
      the blog post's call (seed 2016) it takes five draws, 3, 2, 2, 3, 1, and
      gives vertices 3, 2, 1.
    * ``"current"``: scikit-learn 0.18.1 and later, ``permutation(2**n_informative)
      [:n_clusters]`` (falling back to the draw-until-distinct loop below a ratio
      n_clusters / 2**n_informative of 0.01, and reservoir sampling above 0.99).
      With this choice the output equals today's ``make_classification``
      exactly, which the tests check over many parameter sets.

    Args:
        n_samples, n_features, n_informative, n_redundant, n_repeated, n_classes,
        n_clusters_per_class, weights, flip_y, class_sep, hypercube, shift,
        scale, shuffle: as in scikit-learn.
        random_state: an int seed, or a ``np.random.RandomState`` that is
            advanced in place. ``None`` (NumPy's global state) is refused.
        vertex_selection: ``"0.18.0"`` (default) or ``"current"``.

    Returns:
        ``(X, y)``: X ``(n_samples, n_features)`` float64, y ``(n_samples,)`` int64.

    Example:
        With today's vertex selection it is scikit-learn's generator, bit for bit:

        >>> import numpy as np
        >>> from sklearn.datasets import make_classification
        >>> X, y = make_classification_legacy(n_samples=50, random_state=0,
        ...                                   vertex_selection="current")
        >>> X_sk, y_sk = make_classification(n_samples=50, random_state=0)
        >>> bool(np.array_equal(X, X_sk) and np.array_equal(y, y_sk))
        True
    """
    if vertex_selection not in _VERTEX_SELECTIONS:
        raise ValueError(
            f"vertex_selection must be one of {sorted(_VERTEX_SELECTIONS)}; "
            f"got {vertex_selection!r}"
        )
    if isinstance(random_state, np.random.RandomState):
        rng = random_state
    elif isinstance(random_state, int | np.integer) and not isinstance(random_state, bool):
        rng = np.random.RandomState(int(random_state))
    else:
        raise TypeError(
            "random_state must be an int seed or a np.random.RandomState "
            f"(NumPy's global state is not used); got {random_state!r}"
        )
    if n_informative + n_redundant + n_repeated > n_features:
        raise ValueError(
            "n_informative + n_redundant + n_repeated must be <= n_features; got "
            f"{n_informative} + {n_redundant} + {n_repeated} > {n_features}"
        )
    n_clusters = n_classes * n_clusters_per_class
    if 2**n_informative < n_clusters:
        raise ValueError(
            f"n_classes * n_clusters_per_class = {n_clusters} must be <= "
            f"2**n_informative = {2**n_informative}"
        )
    if weights is not None and len(weights) not in (n_classes, n_classes - 1):
        raise ValueError(
            f"weights must have n_classes = {n_classes} or {n_classes - 1} entries; "
            f"got {len(weights)}"
        )

    n_useless = n_features - n_informative - n_redundant - n_repeated
    if weights is None:
        class_weights = [1.0 / n_classes] * n_classes
        class_weights[-1] = 1.0 - sum(class_weights[:-1])
    else:
        class_weights = [float(w) for w in weights]
        if len(class_weights) == n_classes - 1:
            class_weights.append(1.0 - sum(class_weights))

    # Split the samples among clusters by weight; the remainder goes round-robin.
    per_cluster = [
        int(n_samples * class_weights[k % n_classes] / n_clusters_per_class)
        for k in range(n_clusters)
    ]
    for i in range(n_samples - sum(per_cluster)):
        per_cluster[i % n_clusters] += 1

    X = np.zeros((n_samples, n_features))
    y = np.zeros(n_samples, dtype=np.int64)

    centroids = _hypercube(n_clusters, n_informative, rng, vertex_selection).astype(float)
    centroids *= 2 * class_sep
    centroids -= class_sep
    if not hypercube:
        centroids *= rng.uniform(size=(n_clusters, 1))
        centroids *= rng.uniform(size=(1, n_informative))

    X[:, :n_informative] = rng.standard_normal(size=(n_samples, n_informative))

    stop = 0
    for k, centroid in enumerate(centroids):
        start, stop = stop, stop + per_cluster[k]
        y[start:stop] = k % n_classes
        X_k = X[start:stop, :n_informative]  # a view: the cluster is edited in place
        A = 2 * rng.uniform(size=(n_informative, n_informative)) - 1
        X_k[...] = np.dot(X_k, A)  # a random covariance
        X_k += centroid

    if n_redundant > 0:
        B = 2 * rng.uniform(size=(n_informative, n_redundant)) - 1
        X[:, n_informative : n_informative + n_redundant] = np.dot(X[:, :n_informative], B)

    n = n_informative + n_redundant
    if n_repeated > 0:
        indices = ((n - 1) * rng.uniform(size=n_repeated) + 0.5).astype(np.intp)
        X[:, n : n + n_repeated] = X[:, indices]

    if n_useless > 0:
        X[:, -n_useless:] = rng.standard_normal(size=(n_samples, n_useless))

    # Even flip_y = 0 draws the mask, so the stream after it does not depend on flip_y.
    if flip_y >= 0.0:
        flip_mask = rng.uniform(size=n_samples) < flip_y
        y[flip_mask] = rng.randint(n_classes, size=int(flip_mask.sum()))

    if shift is None:
        shift = (2 * rng.uniform(size=n_features) - 1) * class_sep
    X += shift
    if scale is None:
        scale = 1 + 100 * rng.uniform(size=n_features)
    X *= scale

    if shuffle:
        order = np.arange(n_samples)
        rng.shuffle(order)
        X, y = X[order], y[order]
        columns = np.arange(n_features)
        rng.shuffle(columns)
        X[:, :] = X[:, columns]
    return X, y
