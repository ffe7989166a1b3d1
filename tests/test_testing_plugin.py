"""The testing module and the pytest plugin, as another project uses them.

The package is importable as ``softmax_ref_verification`` (the same folder as
``verification``, docs/architecture.md), so a project with its own package
named ``verification`` can use it. Here: the alias is the same code; no module
of the package imports it by the name ``verification`` (a scanner, shown to
catch a planted import); the profiles never replace a user's; the assertion
steers Hypothesis; and, in a subprocess, a temporary project with its own
``verification`` package runs a ten-line property test through the plugin,
passing for a correct gradient and failing, with the report as the message,
for a planted bug.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import softmax_ref_verification
import verification
from softmax_ref_verification import testing as alias_testing
from verification import testing
from verification.strategies import classification_points, from_problems, problems, regs

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "verification"


# --- the collision-free name -----------------------------------------------------------


def test_the_alias_is_the_same_folder_loaded_under_its_own_name():
    assert Path(softmax_ref_verification.__file__) == Path(verification.__file__)
    assert alias_testing.__name__ == "softmax_ref_verification.testing"
    assert Path(alias_testing.__file__) == Path(testing.__file__)


def absolute_self_imports(source: str) -> list[str]:
    """Lines of ``source`` that import the package by the name ``verification``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        if any(n == "verification" or n.startswith("verification.") for n in names):
            found.append(ast.unparse(node))
    return found


def test_no_module_of_the_package_imports_it_by_the_name_verification():
    # Under the alias, such an import would load the user's package of that name.
    offenders = {
        str(path.relative_to(ROOT)): hits
        for path in sorted(PACKAGE.rglob("*.py"))
        if (hits := absolute_self_imports(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    "planted",
    [
        "from verification.report import Report",
        "import verification.oracle",
        "def f():\n    from verification import oracle",
        "from verification import check",
    ],
)
def test_the_scanner_finds_a_planted_absolute_import(planted):
    source = "from .report import Report\n" + planted + "\n"
    assert absolute_self_imports(source) != []
    assert absolute_self_imports("from .report import Report\nfrom . import oracle\n") == []


def test_the_alias_imports_with_a_user_package_named_verification_first_on_the_path(tmp_path):
    user = tmp_path / "verification"
    user.mkdir()
    (user / "__init__.py").write_text("MINE = True\n")
    code = textwrap.dedent(
        """
        import sys
        from softmax_ref_verification import check_gradient, check
        from softmax_ref_verification.strategies import classification_points
        from softmax_ref_verification.testing import assert_gradient_ok
        import verification
        print(verification.MINE, sorted({m.split(".")[0] for m in sys.modules} & {"verification",
              "softmax_ref_verification"}))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["True", "['softmax_ref_verification',", "'verification']"]


# --- profiles and settings -------------------------------------------------------------


def test_register_profiles_never_replaces_a_users_profile():
    mine = settings(max_examples=3)
    previous = {name: settings.get_profile(name) for name in testing.PROFILES}
    try:
        settings.register_profile("softmax-ref-dev", mine)
        testing.register_profiles()
        assert settings.get_profile("softmax-ref-dev").max_examples == 3
        assert settings.get_profile("softmax-ref-ci").derandomize is True
    finally:
        for name, profile in previous.items():
            settings.register_profile(name, profile)


def test_every_profile_lifts_the_deadline_and_ci_is_derandomized():
    testing.register_profiles()
    for name in testing.PROFILES:
        assert settings.get_profile(name).deadline is None, name
    ci = settings.get_profile("softmax-ref-ci")
    assert ci.derandomize
    assert ci.database is None


def test_jax_settings_keep_the_loaded_profile():
    loaded = settings.default
    s = testing.jax_settings()
    assert s.deadline is None
    assert s.max_examples == loaded.max_examples
    assert s.derandomize == loaded.derandomize


# --- the assertion ---------------------------------------------------------------------


def _loss(p, d):
    import jax.numpy as jnp

    return jnp.sum((p["w"] - d["t"]) ** 2)


def _analytic(p, d):
    return float(np.sum((p["w"] - d["t"]) ** 2)), {"w": 2 * (p["w"] - d["t"])}


def _wrong(p, d):
    return _analytic(p, d)[0], {"w": (p["w"] - d["t"]) * np.array([2.0, 2.002])}


POINT = {"w": np.array([0.5, 0.25])}, {"t": np.array([1.0, -2.0])}


def test_assert_gradient_ok_returns_the_report_of_a_correct_gradient():
    report = testing.assert_gradient_ok(_analytic, _loss, *POINT)
    assert report.ok
    assert testing.error_to_bound(report) <= 1


def test_assert_gradient_ok_raises_with_the_report_as_message():
    with pytest.raises(AssertionError) as info:
        testing.assert_gradient_ok(_wrong, _loss, *POINT)
    message = str(info.value)
    assert "three-way gradient check: FAIL" in message
    assert "ANALYTIC disagrees with JAX and FD, which agree: dw[1]" in message


def test_the_assertions_hide_their_frames_from_pytest():
    for fn in (testing.assert_gradient_ok, testing.assert_report_ok):
        assert "__tracebackhide__" in fn.__code__.co_varnames, fn.__name__


def test_inside_a_hypothesis_test_the_error_to_bound_ratio_is_targeted(monkeypatch):
    seen = []
    monkeypatch.setattr(testing, "_hypothesis_target", lambda v, label: seen.append((label, v)))

    @settings(max_examples=2, database=None, deadline=None)
    @given(st.just(0))
    def run(_):
        testing.assert_gradient_ok(_analytic, _loss, *POINT, label="x")

    run()
    assert seen
    assert {label for label, _ in seen} == {testing.TARGET_LABEL + " x"}
    assert all(0 <= v <= 1 for _, v in seen)


def test_outside_a_hypothesis_test_nothing_is_targeted(monkeypatch):
    seen = []
    monkeypatch.setattr(testing, "_hypothesis_target", lambda v, label: seen.append(v))
    testing.assert_gradient_ok(_analytic, _loss, *POINT)
    assert seen == []


# --- strategies for a user's shapes ----------------------------------------------------


@settings(max_examples=20, database=None, deadline=None)
@given(
    classification_points(
        {"W1": ("D", "H"), "b1": ("H",), "W2": ("H", "C"), "b2": ("C",)},
        dims={"H": (1, 3)},
        weights=True,
        reg=regs(),
    )
)
def test_classification_points_follow_the_users_shapes(point):
    params, data = point
    (N, D), H, C = data["X"].shape, params["b1"].shape[0], params["b2"].shape[0]
    assert params["W1"].shape == (D, H)
    assert params["W2"].shape == (H, C)
    assert data["y"].shape == (N,)
    assert ((data["y"] >= 0) & (data["y"] < C)).all()
    assert (data["weights"] > 0).all()
    assert np.isfinite(data["X"]).all()
    assert not any(a.flags.writeable for a in [*params.values(), data["X"], data["y"]])


def test_a_shape_naming_an_undrawn_dimension_is_refused_at_once():
    with pytest.raises(ValueError, match=r"'W'.*dimension 'H'"):
        classification_points({"W": ("D", "H")})


@settings(max_examples=10, database=None, deadline=None)
@given(from_problems(problems(["tied", "absent"]), weights=True))
def test_from_problems_gives_the_families_as_params_and_data(point):
    params, data = point
    assert sorted(params) == ["W", "b"]
    assert sorted(data) == ["X", "reg", "weights", "y"]
    assert data["weights"].shape == data["y"].shape


# --- the plugin in another project -----------------------------------------------------

USER_CONFTEST = """
from hypothesis import settings

settings.register_profile("mine", max_examples=4, deadline=None)
settings.register_profile("softmax-ref-dev", max_examples=1)
settings.load_profile("mine")
"""

USER_LOSS = """
import jax.numpy as jnp
import numpy as np

def loss(params, data):
    return jnp.mean((data["X"] @ params["w"] - data["t"]) ** 2)

def analytic(params, data):
    r = data["X"] @ params["w"] - data["t"]
    return float(np.mean(r**2)), {{"w": {factor} * data["X"].T @ r / len(r)}}
"""

USER_TEST = """
from hypothesis import given, strategies as st
from softmax_ref_verification.strategies import classification_points, float_arrays
from softmax_ref_verification.testing import assert_gradient_ok, jax_settings
from verification.losses import analytic, loss

points = classification_points({"w": ("D",)}).flatmap(
    lambda p: st.tuples(st.just(p[0]), float_arrays(p[1]["y"].shape, 3.0).map(
        lambda t: {"X": p[1]["X"], "t": t})))

@jax_settings()
@given(points)
def test_gradient(point):
    assert_gradient_ok(analytic, loss, *point)
"""

USER_PROFILE_TEST = """
from hypothesis import settings

def test_the_plugin_kept_my_profiles():
    assert settings.get_profile("softmax-ref-dev").max_examples == 1
    assert settings.get_profile("softmax-ref-ci").derandomize

def test_the_fixture(assert_gradient):
    import numpy as np
    from verification.losses import analytic, loss
    X = np.array([[1.0, 2.0], [0.5, -1.0], [3.0, 0.0]])
    assert_gradient(analytic, loss, {"w": np.array([0.3, -0.7])}, {"X": X, "t": np.ones(3)})
"""


def _user_project(root: Path, factor: str) -> Path:
    (root / "verification").mkdir(parents=True)
    (root / "verification" / "__init__.py").write_text('"""The user\'s own package."""\n')
    (root / "verification" / "losses.py").write_text(USER_LOSS.format(factor=factor))
    (root / "tests").mkdir()
    (root / "tests" / "test_new_loss.py").write_text(USER_TEST)
    (root / "tests" / "test_profiles.py").write_text(USER_PROFILE_TEST)
    (root / "conftest.py").write_text(USER_CONFTEST)
    (root / "pytest.ini").write_text("[pytest]\n")
    return root


def _run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "HYPOTHESIS_PROFILE")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly", *args],
        capture_output=True,
        text=True,
        cwd=project,
        env=env,
        check=False,
    )


def test_a_property_test_in_a_project_with_its_own_verification_package(tmp_path):
    # The test file above is the user's ten lines; the correct gradient is 2 X^T r / N.
    assert len(USER_TEST.strip().splitlines()) <= 14
    good = _run_pytest(_user_project(tmp_path / "good", "2"))
    assert good.returncode == 0, good.stdout + good.stderr
    assert "3 passed" in good.stdout
    assert "softmax-ref: Hypothesis profiles softmax-ref-dev" in good.stdout


def test_a_planted_bug_fails_the_users_test_with_the_report_as_message(tmp_path):
    # The planted bug: the factor 2 of the squared residual forgotten.
    bad = _run_pytest(_user_project(tmp_path / "bad", "1"), "--hypothesis-profile=softmax-ref-ci")
    out = bad.stdout
    assert bad.returncode == 1, out + bad.stderr
    assert "2 failed, 1 passed" in out
    assert "three-way gradient check: FAIL" in out
    assert "ANALYTIC disagrees with JAX and FD, which agree: dw" in out
    # pytest shows the report, not the library's source.
    assert "__tracebackhide__" not in out
    assert "check_gradient(analytic, loss, params, data" not in out
    assert "raise AssertionError" not in out
