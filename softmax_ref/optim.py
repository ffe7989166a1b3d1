r"""Update rules for first-order training, one small class per rule.

Every rule updates a dict of named parameter arrays **in place** from a dict of
gradients with the same keys, so the same rules train the linear softmax
(``{"W", "b"}``) and the two-layer network (``{"W1", "b1", "W2", "b2"}``).
State (velocities, moments) is kept per key and created on the first step.

=============  ==========================================================
``gd``         :math:`\theta \leftarrow \theta - \eta g` on the full batch (the blog post's)
``sgd``        the same rule on minibatches (the training loop draws them)
``momentum``   :math:`v \leftarrow \mu v - \eta g,\ \theta \leftarrow \theta + v`
``nesterov``   :math:`v \leftarrow \mu v - \eta g,\ \theta \leftarrow \theta + \mu v - \eta g`
``adam``       bias-corrected first and second moments (Kingma and Ba, 2015)
=============  ==========================================================

Because the parameters are updated in place, anyone keeping "the best weights
so far" must copy them: a reference would be updated with the rest. (That
was the blog post's early-stopping bug; see :mod:`softmax_ref.training`.)
"""

from __future__ import annotations

import numpy as np

from softmax_ref._types import Grads, Params
from softmax_ref._validation import check_number

__all__ = ["OPTIMIZERS", "Adam", "GradientDescent", "Momentum", "Nesterov", "make_optimizer"]


def _check_positive(name: str, value: float) -> float:
    return check_number(name, value, low=0, low_open=True)


def _check_unit_interval(name: str, value: float) -> float:
    return check_number(name, value, low=0, high=1)


class GradientDescent:
    r"""Plain gradient descent: :math:`\theta \leftarrow \theta - \eta\, g`.

    Full-batch, this is the blog post's update (``self.W -= learning_rate * dW``);
    on minibatches it is stochastic gradient descent.

    Shapes: :math:`\theta` is a dict of named arrays, any shape each (``W``
    (D, C) and ``b`` (C,) for the linear model); :math:`g` has the same keys,
    each gradient the shape of its parameter. The same holds for every rule here.

    Args:
        learning_rate: the step size :math:`\eta > 0`.

    Example:
        >>> import numpy as np
        >>> params = {"w": np.array([1.0, 2.0])}
        >>> GradientDescent(0.5).step(params, {"w": np.array([2.0, -2.0])})
        >>> params["w"]
        array([0., 3.])
    """

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = _check_positive("learning_rate", learning_rate)

    def step(self, params: Params, grads: Grads) -> None:
        r"""One update in place: :math:`\theta \leftarrow \theta - \eta\, g` per key of ``grads``.

        Args:
            params: name -> parameter array, any shape; modified in place.
            grads: name -> the loss's gradient with respect to ``params[name]``,
                the same shape. Keys of ``params`` not in ``grads`` are left alone.

        Example:
            >>> import numpy as np
            >>> params = {"W": np.ones((2, 3)), "b": np.zeros(3)}
            >>> GradientDescent(0.1).step(
            ...     params, {"W": np.full((2, 3), 10.0), "b": np.array([1.0, 0.0, -1.0])})
            >>> params["W"][0], params["b"]
            (array([0., 0., 0.]), array([-0.1,  0. ,  0.1]))
        """
        for key, g in grads.items():
            params[key] -= self.learning_rate * g


class Momentum:
    r"""Heavy-ball momentum (Polyak, 1964).

    .. math::
        v \leftarrow \mu v - \eta\, g, \qquad \theta \leftarrow \theta + v

    with :math:`v = 0` before the first step.

    Args:
        learning_rate: :math:`\eta > 0`.
        momentum: :math:`\mu \in [0, 1)`; 0 gives plain gradient descent.

    Example:
        >>> import numpy as np
        >>> params, rule = {"w": np.array([0.0])}, Momentum(1.0, momentum=0.5)
        >>> for _ in range(2):
        ...     rule.step(params, {"w": np.array([1.0])})
        >>> params["w"]   # v1 = -1, w1 = -1; v2 = 0.5 * -1 - 1 = -1.5, w2 = -2.5
        array([-2.5])
    """

    def __init__(self, learning_rate: float, momentum: float = 0.9) -> None:
        self.learning_rate = _check_positive("learning_rate", learning_rate)
        self.momentum = _check_unit_interval("momentum", momentum)
        self.velocity: dict[str, np.ndarray] = {}

    def step(self, params: Params, grads: Grads) -> None:
        r"""One update of ``params`` in place, and of the velocity kept per key.

        :math:`v \leftarrow \mu v - \eta\, g,\ \theta \leftarrow \theta + v`;
        ``self.velocity[key]`` has the shape of ``params[key]`` once a step has
        created it.

        Args:
            params: name -> parameter array, any shape; modified in place.
            grads: name -> gradient, the shape of ``params[name]``.

        Example:
            Two steps with the same gradient: the second moves further.

            >>> import numpy as np
            >>> rule, params = Momentum(0.1, momentum=0.9), {"w": np.array([1.0, -1.0])}
            >>> for _ in range(2):
            ...     rule.step(params, {"w": np.array([1.0, 1.0])})
            >>> rule.velocity["w"], params["w"]   # v2 = 0.9 * -0.1 - 0.1
            (array([-0.19, -0.19]), array([ 0.71, -1.29]))
        """
        for key, g in grads.items():
            v = self.velocity.get(key, 0.0)
            v = self.momentum * v - self.learning_rate * g
            self.velocity[key] = v
            params[key] += v


class Nesterov:
    r"""Nesterov momentum, in the form that needs no look-ahead gradient.

    .. math::
        v \leftarrow \mu v - \eta\, g, \qquad \theta \leftarrow \theta + \mu v - \eta\, g

    This is Nesterov's accelerated gradient rewritten in the shifted variable
    :math:`\theta + \mu v` (Bengio, Boulanger-Lewandowski and Pascanu, 2013,
    eq. 7; Sutskever et al., 2013), so the gradient is taken at the stored
    parameters. scikit-learn's ``SGDOptimizer(nesterov=True)`` and Keras'
    ``SGD(nesterov=True)`` use the same form. Shapes: as for
    :class:`GradientDescent`; the velocity :math:`v` has its parameter's shape.

    Args:
        learning_rate: :math:`\eta > 0`.
        momentum: :math:`\mu \in [0, 1)`.

    Example:
        >>> import numpy as np
        >>> params, rule = {"w": np.array([0.0])}, Nesterov(1.0, momentum=0.5)
        >>> rule.step(params, {"w": np.array([1.0])})
        >>> params["w"]   # v = -1; w = 0 + 0.5 * -1 - 1
        array([-1.5])
    """

    def __init__(self, learning_rate: float, momentum: float = 0.9) -> None:
        self.learning_rate = _check_positive("learning_rate", learning_rate)
        self.momentum = _check_unit_interval("momentum", momentum)
        self.velocity: dict[str, np.ndarray] = {}

    def step(self, params: Params, grads: Grads) -> None:
        r"""One update of ``params`` in place, and of the velocity kept per key.

        :math:`v \leftarrow \mu v - \eta\, g` and
        :math:`\theta \leftarrow \theta + \mu v - \eta\, g`; ``self.velocity[key]``
        has the shape of ``params[key]`` once a step has created it.

        Args:
            params: name -> parameter array, any shape; modified in place.
            grads: name -> gradient, the shape of ``params[name]``.

        Example:
            The same two steps as :meth:`Momentum.step`; the look-ahead moves further.

            >>> import numpy as np
            >>> rule, params = Nesterov(0.1, momentum=0.9), {"w": np.array([1.0, -1.0])}
            >>> for _ in range(2):
            ...     rule.step(params, {"w": np.array([1.0, 1.0])})
            >>> rule.velocity["w"], params["w"]   # w2 = w1 + 0.9 * -0.19 - 0.1
            (array([-0.19, -0.19]), array([ 0.539, -1.461]))
        """
        for key, g in grads.items():
            v = self.velocity.get(key, 0.0)
            v = self.momentum * v - self.learning_rate * g
            self.velocity[key] = v
            params[key] += self.momentum * v - self.learning_rate * g


class Adam:
    r"""Adam (Kingma and Ba, 2015, Algorithm 1).

    .. math::
        \begin{aligned}
        &t \leftarrow t + 1, \quad
        m \leftarrow \beta_1 m + (1 - \beta_1) g, \quad
        s \leftarrow \beta_2 s + (1 - \beta_2) g^2, \\
        &\theta \leftarrow \theta - \eta\,
            \frac{m / (1 - \beta_1^t)}{\sqrt{s / (1 - \beta_2^t)} + \epsilon}
        \end{aligned}

    with :math:`m = s = 0` before the first step. The first step therefore
    moves every coordinate with a nonzero gradient by about :math:`\eta`.
    Shapes: as for :class:`GradientDescent`; :math:`m` and :math:`s` have
    their parameter's shape, and the operations are entrywise.

    Args:
        learning_rate: :math:`\eta > 0`.
        beta_1, beta_2: decay rates of the moment estimates, in ``[0, 1)``.
        epsilon: :math:`\epsilon > 0`, keeps the step finite where :math:`s = 0`.

    Example:
        >>> import numpy as np
        >>> params = {"w": np.array([0.0, 0.0])}
        >>> Adam(0.1).step(params, {"w": np.array([3.0, -0.5])})
        >>> np.round(params["w"], 6)   # -0.1 * sign(g), up to epsilon
        array([-0.1,  0.1])
    """

    def __init__(
        self,
        learning_rate: float = 1e-3,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
    ) -> None:
        self.learning_rate = _check_positive("learning_rate", learning_rate)
        self.beta_1 = _check_unit_interval("beta_1", beta_1)
        self.beta_2 = _check_unit_interval("beta_2", beta_2)
        self.epsilon = _check_positive("epsilon", epsilon)
        self.t = 0
        self.m: dict[str, np.ndarray] = {}
        self.s: dict[str, np.ndarray] = {}

    def step(self, params: Params, grads: Grads) -> None:
        r"""One update of ``params`` in place; the step count ``t`` and the moments advance.

        The update of the class's docstring: :math:`m` and :math:`s`
        (``self.m[key]``, ``self.s[key]``) have the shape of ``params[key]``, and
        the step is :math:`\eta\, \hat m / (\sqrt{\hat s} + \epsilon)` with the
        bias-corrected :math:`\hat m = m / (1 - \beta_1^t)`,
        :math:`\hat s = s / (1 - \beta_2^t)`.

        Args:
            params: name -> parameter array, any shape; modified in place.
            grads: name -> gradient, the shape of ``params[name]``.

        Example:
            Two steps. The first coordinate's gradient is 1 both times, so it
            moves a full :math:`\eta` again; the second's changed sign, so
            :math:`\hat m = 0.01 / 0.19` and it moves about :math:`0.05\,\eta`.

            >>> import numpy as np
            >>> rule, params = Adam(0.01), {"w": np.array([1.0, 1.0])}
            >>> for g in ([1.0, -1.0], [1.0, 1.0]):
            ...     rule.step(params, {"w": np.array(g)})
            >>> rule.t, rule.m["w"], params["w"]
            (2, array([0.19, 0.01]), array([0.98      , 1.00947368]))
        """
        self.t += 1
        correct_1 = 1 - self.beta_1**self.t
        correct_2 = 1 - self.beta_2**self.t
        for key, g in grads.items():
            m = self.beta_1 * self.m.get(key, 0.0) + (1 - self.beta_1) * g
            s = self.beta_2 * self.s.get(key, 0.0) + (1 - self.beta_2) * g * g
            self.m[key], self.s[key] = m, s
            params[key] -= (
                self.learning_rate * (m / correct_1) / (np.sqrt(s / correct_2) + self.epsilon)
            )


Optimizer = GradientDescent | Momentum | Nesterov | Adam

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "gd": GradientDescent,
    "sgd": GradientDescent,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adam": Adam,
}
"""The first-order solvers by name. ``gd`` and ``sgd`` share a rule; they differ
in the batches the training loop feeds it."""


def make_optimizer(
    solver: str,
    learning_rate: float,
    *,
    momentum: float = 0.9,
    beta_1: float = 0.9,
    beta_2: float = 0.999,
    epsilon: float = 1e-8,
) -> Optimizer:
    r"""The update rule named ``solver``, with the hyperparameters it uses.

    The rules, for parameters :math:`\theta` and gradients :math:`g` of the
    same shape (each a dict of arrays, e.g. ``W`` (D, C) and ``b`` (C,)):

    .. math::
        \begin{aligned}
        &\text{gd, sgd:} && \theta \leftarrow \theta - \eta\, g \\
        &\text{momentum:} && v \leftarrow \mu v - \eta\, g, \quad
            \theta \leftarrow \theta + v \\
        &\text{nesterov:} && v \leftarrow \mu v - \eta\, g, \quad
            \theta \leftarrow \theta + \mu v - \eta\, g \\
        &\text{adam:} && \theta \leftarrow \theta
            - \eta\, \hat m / (\sqrt{\hat s} + \epsilon)
        \end{aligned}

    (see :class:`Adam` for its moments :math:`\hat m`, :math:`\hat s`). ``gd``
    and ``sgd`` share a rule; they differ in the batches the training loop feeds it.

    Args:
        solver: one of ``"gd"``, ``"sgd"``, ``"momentum"``, ``"nesterov"``, ``"adam"``.
        learning_rate: the step size, > 0.
        momentum: for ``momentum`` and ``nesterov``; ignored otherwise.
        beta_1, beta_2, epsilon: for ``adam``; ignored otherwise.

    Raises:
        ValueError: for an unknown solver or an out-of-range hyperparameter.

    Example:
        >>> rule = make_optimizer("nesterov", 0.1, momentum=0.8)
        >>> type(rule).__name__, rule.momentum, type(make_optimizer("sgd", 0.1)).__name__
        ('Nesterov', 0.8, 'GradientDescent')
    """
    if solver in ("gd", "sgd"):
        return GradientDescent(learning_rate)
    if solver == "momentum":
        return Momentum(learning_rate, momentum)
    if solver == "nesterov":
        return Nesterov(learning_rate, momentum)
    if solver == "adam":
        return Adam(learning_rate, beta_1, beta_2, epsilon)
    raise ValueError(f"solver must be one of {sorted(OPTIMIZERS)}; got {solver!r}")
