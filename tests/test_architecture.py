"""The import direction: the contracts in pyproject.toml, and what import-linter cannot see.

`make lint` runs ``lint-imports`` on the real packages. These tests check the
contracts themselves, on a synthetic tree with one empty module per name the
contracts mention: every contract is kept there, and an import planted against
any of them, directly or through a second module, is reported as that contract
broken (the meta-tests). import-linter sees every import, at module level or
inside a function, so a contract's exceptions (``ignore_imports``) are imports
that must run only when a function that needs them is called; the tests below
check each stays inside a function, in the real code and in a planted copy.
Scripts are no package, so the rule that no script reaches into ``tests/`` is
checked here from their source.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
    "importlinter"
]
CONTRACTS = {c["id"]: c for c in CONFIG["contracts"]}


# --- helpers ---------------------------------------------------------------------------


def _ignored(config: dict) -> list[tuple[str, str]]:
    """Every ``ignore_imports`` entry of every contract, as (importer, imported)."""
    pairs = []
    for contract in config["contracts"]:
        for entry in contract.get("ignore_imports", []):
            importer, imported = (part.strip() for part in entry.split("->"))
            pairs.append((importer, imported))
    return pairs


def _is_internal(name: str, config: dict) -> bool:
    return name.split(".")[0] in config["root_packages"]


def _module_file(root: Path, name: str) -> Path:
    """The source file of a module under root: ``a/b.py``, or ``a/b/__init__.py``."""
    parts = name.split(".")
    package = root.joinpath(*parts) / "__init__.py"
    return package if package.exists() else root.joinpath(*parts[:-1], parts[-1] + ".py")


def _imports(tree: ast.Module) -> Iterator[tuple[str, int, bool]]:
    """(module imported, line, inside a function) for every import statement.

    ``from a import b`` yields both ``a`` and ``a.b`` (b may be a submodule).
    """

    def walk(node: ast.AST, in_function: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, child.lineno, in_function
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                yield child.module, child.lineno, in_function
                for alias in child.names:
                    yield f"{child.module}.{alias.name}", child.lineno, in_function
            inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            yield from walk(child, inner)

    yield from walk(tree, False)


def eager_exceptions(root: Path, config: dict) -> list[str]:
    """The imports a contract ignores that run at import time (not inside a function)."""
    found = []
    for importer, imported in _ignored(config):
        target = imported.removesuffix(".**")
        path = _module_file(root, importer)
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for name, line, lazy in _imports(tree):
            if (name == target or name.startswith(target + ".")) and not lazy:
                found.append(f"{path.relative_to(root)}:{line} imports {name} at import time")
    return found


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def synthetic_tree(root: Path, config: dict) -> None:
    """One empty module per internal name the contracts mention, and the config.

    An ignored import is written inside a function of its importer, as the real
    code must, so that every ``ignore_imports`` entry matches an import.
    """
    names = set(config["root_packages"])
    for contract in config["contracts"]:
        names |= set(contract["source_modules"]) | set(contract["forbidden_modules"])
        for importer, imported in _ignored({"contracts": [contract]}):
            names |= {importer, imported.removesuffix(".**")}
    names = {n for n in names if _is_internal(n, config)}
    packages = {".".join(n.split(".")[:i]) for n in names for i in range(1, n.count(".") + 1)}
    for name in sorted(names | packages):
        parts = name.split(".")
        path = (
            root.joinpath(*parts, "__init__.py")
            if name in packages or name in config["root_packages"]
            else root.joinpath(*parts[:-1], parts[-1] + ".py")
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    for importer, imported in _ignored(config):
        with _module_file(root, importer).open("a", encoding="utf-8") as f:
            f.write(f"\n\ndef _needs_it():\n    import {imported.removesuffix('.**')}\n")
    lines = ["[tool.importlinter]"]
    lines += [f"{k} = {_toml(v)}" for k, v in config.items() if k != "contracts"]
    for contract in config["contracts"]:
        lines += ["", "[[tool.importlinter.contracts]]"]
        lines += [f"{k} = {_toml(v)}" for k, v in contract.items()]
    (root / "pyproject.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` on the tree at root (its pyproject.toml), as `make lint` runs it."""
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports_command; "
            "sys.exit(lint_imports_command())",
            "--no-cache",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _plant(root: Path, module: str, source: str) -> None:
    with _module_file(root, module).open("a", encoding="utf-8") as f:
        f.write("\n" + textwrap.dedent(source))


def _verdicts(output: str) -> dict[str, str]:
    """Contract name -> KEPT or BROKEN, from lint-imports' summary (names may wrap)."""
    flat = " ".join(output.split())
    return {
        c["name"]: ("BROKEN" if f"{c['name']} BROKEN" in flat else "KEPT")
        for c in CONFIG["contracts"]
        if f"{c['name']} BROKEN" in flat or f"{c['name']} KEPT" in flat
    }


# --- the real code ---------------------------------------------------------------------


def test_the_contracts_cover_the_rules_the_layout_depends_on():
    pairs = {
        (source, forbidden)
        for c in CONFIG["contracts"]
        for source in c["source_modules"]
        for forbidden in c["forbidden_modules"]
    }
    assert ("verification", "softmax_ref") in pairs
    assert ("softmax_ref", "verification") in pairs
    for package in CONFIG["root_packages"]:
        for tool in ("scripts", "tests", "benchmarks"):
            assert (package, tool) in pairs
    assert {("softmax_ref.post", lib) for lib in ("sklearn", "scipy", "matplotlib", "jax")} <= pairs
    assert CONFIG["include_external_packages"] is True


def test_ignored_imports_run_only_inside_functions():
    assert _ignored(CONFIG), "the contracts name their exceptions; none found"
    assert eager_exceptions(ROOT, CONFIG) == []


def _script_reaches_into_tests(path: Path, test_modules: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hits = {(line, name.split(".")[0]) for name, line, _ in _imports(tree)}
    found = [
        f"{path.name}:{line} imports {top}" for line, top in sorted(hits) if top in test_modules
    ]
    found += [
        f"{path.name}:{node.lineno} names the folder {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and (node.value == "tests" or node.value.startswith("tests/"))
    ]
    return found


def _test_modules() -> set[str]:
    # conftest is a name pytest gives several folders' fixtures; tests/ has no other use for it.
    return {"tests"} | {p.stem for p in (ROOT / "tests").rglob("*.py")} - {"conftest"}


def test_no_script_reaches_into_tests():
    scripts = sorted((ROOT / "scripts").rglob("*.py"))
    assert scripts
    found = [hit for path in scripts for hit in _script_reaches_into_tests(path, _test_modules())]
    assert found == []


# --- meta-tests: the contracts on a synthetic tree -------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    synthetic_tree(tmp_path, CONFIG)
    return tmp_path


def test_every_contract_is_kept_on_the_synthetic_tree(tree):
    result = lint_imports(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert _verdicts(result.stdout) == {c["name"]: "KEPT" for c in CONFIG["contracts"]}


@pytest.mark.parametrize("contract_id", sorted(CONTRACTS))
@pytest.mark.parametrize("route", ["direct", "indirect"])
def test_a_planted_import_breaks_its_contract(tree, contract_id, route):
    contract = CONTRACTS[contract_id]
    source, forbidden = sorted(contract["source_modules"])[0], contract["forbidden_modules"][0]
    if route == "direct":
        _plant(tree, source, f"import {forbidden}\n")
        culprit = source
    else:
        # A module of the source's package that the source imports at module level.
        culprit = source.split(".")[0] + "._planted_hop"
        _module_file(tree, culprit).write_text(f"import {forbidden}\n", encoding="utf-8")
        _plant(tree, source, f"import {culprit}\n")
    result = lint_imports(tree)
    assert result.returncode == 1, result.stdout + result.stderr
    assert _verdicts(result.stdout)[contract["name"]] == "BROKEN"
    assert f"{culprit} -> {forbidden}" in result.stdout


def test_an_exception_imported_at_module_level_is_reported(tree):
    importer, imported = _ignored(CONFIG)[0]
    assert eager_exceptions(tree, CONFIG) == []
    _plant(tree, importer, f"import {imported}\n")
    # import-linter keeps the contract: it ignores this import wherever it stands.
    assert lint_imports(tree).returncode == 0
    [found] = eager_exceptions(tree, CONFIG)
    assert f"imports {imported} at import time" in found


def test_a_script_that_reaches_into_tests_is_reported(tmp_path):
    script = tmp_path / "table.py"
    script.write_text(
        textwrap.dedent(
            """\
            import sys
            from pathlib import Path

            sys.path.insert(0, str(Path(__file__).parent.parent / "tests" / "meta"))
            from wrong_gradients import CATALOG
            """
        ),
        encoding="utf-8",
    )
    found = _script_reaches_into_tests(script, _test_modules())
    assert found == [
        "table.py:5 imports wrong_gradients",
        "table.py:4 names the folder 'tests'",
    ]
