"""What Python users expect of the package: metadata, type information that
covers the whole public surface, docstrings and signatures on the compiled
methods, and no private helpers in the public module."""

import ast
import importlib.metadata
import inspect
import os
import shutil
import subprocess
import sys

import pytest

import hotfix
from hotfix import _hotfix

PACKAGE_DIR = os.path.dirname(hotfix.__file__)
COMPILED_CLASSES = ("Client", "FlagHandle", "Evaluation", "Status",
                    "ChangeEvent")


def public_members(cls):
    """Names defined by the class itself (not inherited from object), and
    its constructor if it has one (pybind11 gives the others an __init__
    that raises)."""
    return sorted(name for name in vars(cls)
                  if not name.startswith("_")
                  or (name == "__init__" and cls is _hotfix.Client))


def test_metadata_names_the_module_version():
    assert importlib.metadata.version("hotfix") == hotfix.__version__
    assert hotfix.__version__ == _hotfix.__version__
    assert importlib.metadata.metadata("hotfix")["Name"] == "hotfix"


def test_type_information_is_shipped_with_the_package():
    assert os.path.isfile(os.path.join(PACKAGE_DIR, "py.typed"))
    assert os.path.isfile(os.path.join(PACKAGE_DIR, "_hotfix.pyi"))


def stub_tree():
    with open(os.path.join(PACKAGE_DIR, "_hotfix.pyi")) as f:
        return ast.parse(f.read())


def test_the_stub_covers_every_public_name_and_method():
    tree = stub_tree()
    classes = {node.name: node for node in tree.body
               if isinstance(node, ast.ClassDef)}
    assigned = {target.id for node in tree.body
                if isinstance(node, (ast.Assign, ast.AnnAssign))
                for target in (node.targets if isinstance(node, ast.Assign)
                               else [node.target])
                if isinstance(target, ast.Name)}
    for name in dir(_hotfix):
        if name.startswith("__") and name != "__version__":
            continue
        assert name in classes or name in assigned, name
    for name in COMPILED_CLASSES:
        cls = getattr(_hotfix, name)
        stubbed = {node.name for node in classes[name].body
                   if isinstance(node, ast.FunctionDef)}
        missing = set(public_members(cls)) - stubbed
        assert not missing, (name, missing)


def test_every_compiled_method_and_property_has_a_docstring():
    for name in COMPILED_CLASSES:
        cls = getattr(_hotfix, name)
        assert cls.__doc__, name
        for member in public_members(cls):
            doc = inspect.getdoc(getattr(cls, member))
            assert doc and doc.strip(), "%s.%s" % (name, member)


def test_signatures_of_compiled_methods_are_inspectable(flags):
    expected = {
        flags.enabled: ["flag", "context"],
        flags.get_bool: ["flag", "default", "context"],
        flags.get_string: ["flag", "default", "context"],
        flags.get_int: ["flag", "default", "context"],
        flags.get_float: ["flag", "default", "context"],
        flags.get_json: ["flag", "default", "context"],
        flags.evaluate: ["flag", "context", "expected"],
        flags.flag: ["key"],
        flags.on_change: ["callback"],
        flags.remove_listener: ["listener_id"],
        flags.status: [],
        flags.wait_until_ready: ["timeout"],
        flags.publish: ["document"],
        flags.close: [],
        flags.wait_until_ready_async: ["timeout"],
    }
    handle = flags.flag("fix-123")
    expected.update({
        handle.enabled: ["context"],
        handle.get_bool: ["default", "context"],
        handle.get_int: ["default", "context"],
        handle.evaluate: ["context", "expected"],
    })
    for method, parameters in expected.items():
        signature = inspect.signature(method)
        assert list(signature.parameters) == parameters, method
    assert inspect.signature(flags.get_bool).parameters[
        "default"].default is False
    assert inspect.signature(handle.enabled).parameters[
        "context"].default is None


def test_the_compiled_methods_keep_keyword_arguments(flags):
    assert flags.get_string(flag="banner", default="x",
                            context={"key": "user-fr"}) == "bonjour"
    assert flags.enabled(flag="fix-123", context=None)
    assert flags.flag(key="fix-123").enabled(context="u")


def test_benchmark_helpers_are_not_public():
    assert not [name for name in dir(_hotfix) if name.startswith("_bench_")]
    assert "_bench" not in hotfix.__all__
    assert _hotfix._bench.noop() is False
    assert _hotfix._bench.noop_release_gil() is False


def test_mypy_strict_accepts_the_examples(tmp_path):
    mypy = shutil.which("mypy")
    if mypy is None:
        pytest.skip("mypy is not installed (Debian: apt-get install mypy)")
    examples = os.environ.get("HOTFIX_EXAMPLES_DIR")
    if not examples or not os.path.isdir(examples):
        pytest.skip("HOTFIX_EXAMPLES_DIR does not name examples/python")
    files = sorted(os.path.join(examples, f) for f in os.listdir(examples)
                   if f.endswith(".py"))
    command = [mypy, "--strict", "--cache-dir", str(tmp_path / "cache")]
    env = dict(os.environ)
    if "site-packages" in PACKAGE_DIR:
        # Installed: mypy finds it (py.typed) in this interpreter's paths.
        command += ["--python-executable", sys.executable]
        env.pop("MYPYPATH", None)
    else:
        env["MYPYPATH"] = os.path.dirname(PACKAGE_DIR)
    result = subprocess.run(command + files, env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
