"""Rule ``imports``: what the handler's code imports is in the artifact, its layers, the target's
standard library or the runtime, read with ``ast``, in builds and in `hatch-lambda check`."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

from hatch_lambda._stdlib import VERSIONS, stdlib_modules
from hatch_lambda.audit import Finding, Importable
from hatch_lambda.target import RUNTIME_PROVIDED, resolve_target
from support.audit import audit_folder
from support.project import Project

HANDLER = "app.main.handler"


def tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    return root


def imports(
    root: Path, runtime: str = "python3.12", importable: Importable | None = None
) -> list[Finding]:
    target = resolve_target(runtime, "x86_64")[0]
    found = audit_folder(root, target, handler=HANDLER, importable=importable)
    return [f for f in found if f.rule == "imports"]


def package(tmp_path: Path, main: str, more: dict[str, str] | None = None) -> Path:
    """The package ``app`` whose module ``main`` starts with *main* and defines the handler."""
    files = {"app/__init__.py": "", "app/main.py": main + "\ndef handler(e, c):\n    pass\n"}
    return tree(tmp_path / "t", {**files, **(more or {})})


def test_a_missing_module_is_named_with_its_file_line_and_what_to_do(tmp_path: Path) -> None:
    [finding] = imports(package(tmp_path, "import json\nimport yaml.constructor\n"))
    assert (finding.rule, finding.path) == ("imports", "app/main.py")
    assert finding.message.startswith(
        "line 2 imports yaml.constructor, which is not in the artifact or its layers, nor in "
        "python3.12's standard library: Lambda fails with ModuleNotFoundError when the handler's "
        "module is imported, at every cold start."
    )
    assert "Add the distribution that provides 'yaml' to the project's dependencies" in (
        finding.message
    )


@pytest.mark.parametrize(
    "guarded",
    [
        "try:\n    import yaml\nexcept ImportError:\n    yaml = None\n",
        "try:\n    from yaml import safe_load\nexcept ModuleNotFoundError:\n    pass\n",
        "try:\n    import yaml\nexcept (ValueError, ImportError):\n    pass\n",
        "try:\n    import yaml\nexcept Exception:\n    pass\n",
        "try:\n    import yaml\nexcept:\n    pass\n",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import yaml\n",
        "import typing\nif typing.TYPE_CHECKING:\n    import yaml\n",
        "import sys\nif sys.version_info >= (3, 11):\n    import tomllib\nelse:\n    import tomli\n",
        "import sys\nif sys.version_info[:2] < (3, 11):\n    import tomli\n",
        "import sys\nif sys.platform == 'win32':\n    import pywin32_ctypes\n",
        "import os\nif os.name == 'nt' or sys.platform.startswith('darwin'):\n    import appnope\n",
        "from __future__ import annotations\nimport boto3, botocore.session, s3transfer, jmespath\n",
        "import contextlib\nwith contextlib.suppress(ImportError):\n    import yaml\n",
        "if __name__ == '__main__':\n    import yaml\n",
    ],
)
def test_imports_that_cannot_fail_on_the_target_pass(tmp_path: Path, guarded: str) -> None:
    assert imports(package(tmp_path, guarded)) == []


def test_a_guard_that_does_not_catch_import_errors_is_no_guard(tmp_path: Path) -> None:
    root = package(tmp_path, "try:\n    import yaml\nexcept ValueError:\n    pass\n")
    assert [f.message.split(",")[0] for f in imports(root)] == ["line 2 imports yaml"]
    reraised = "try:\n    import yaml\nexcept ImportError as e:\n    raise SystemExit(str(e))\n"
    root = package(tmp_path / "again", reraised)
    assert [f.message.split(",")[0] for f in imports(root)] == ["line 2 imports yaml"]
    # The target's Python decides the branch: python3.10 takes the one with tomli.
    root = package(tmp_path / "v", "import sys\nif sys.version_info >= (3, 11):\n    import tomllib\n"
               "else:\n    import tomli\n")  # fmt: skip
    assert imports(root, "python3.12") == []
    assert [f.message.split(",")[0] for f in imports(root, "python3.10")] == [
        "line 5 imports tomli"
    ]


def test_an_import_in_a_function_counts_and_says_when_it_fails(tmp_path: Path) -> None:
    [finding] = imports(package(tmp_path, "def load():\n    import yaml\n    return yaml\n"))
    assert finding.message.startswith("line 2 imports yaml, ")
    assert "Lambda fails with ModuleNotFoundError on the first call that reaches it" in (
        finding.message
    )


def test_modules_removed_from_or_added_to_the_standard_library(tmp_path: Path) -> None:
    root = package(tmp_path, "import imghdr\n")
    assert imports(root, "python3.12") == []
    [gone] = imports(root, "python3.13")
    assert "imports imghdr, which the standard library no longer has on python3.13 (it was " \
        "removed in Python 3.13)" in gone.message  # fmt: skip
    root = package(tmp_path / "new", "import tomllib\n")
    [later] = imports(root, "python3.10")
    assert "is in the standard library from Python 3.11 on, not on python3.10" in later.message
    assert imports(root, "python3.11") == []


def test_the_standard_library_table() -> None:
    assert VERSIONS == ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
    for gone in ("cgi", "imghdr", "telnetlib", "crypt", "nntplib"):
        assert gone in stdlib_modules("3.12") and gone not in stdlib_modules("3.13")
    assert "distutils" in stdlib_modules("3.11") and "distutils" not in stdlib_modules("3.12")
    assert "parser" in stdlib_modules("3.9") and "parser" not in stdlib_modules("3.10")
    assert "annotationlib" in stdlib_modules("3.14") and "compression" in stdlib_modules("3.14")
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if sys.version_info >= (3, 10) and here in VERSIONS:
        assert stdlib_modules(here) == frozenset(sys.stdlib_module_names)


def test_the_runtimes_boto3_always_counts_its_dependencies_only_when_excluded(
    tmp_path: Path,
) -> None:
    assert {"boto3", "botocore", "s3transfer", "jmespath"} == RUNTIME_PROVIDED
    root = package(tmp_path, "import boto3\nimport urllib3\nfrom dateutil import parser\n")
    found = imports(root)
    assert [f.message.split(",")[0] for f in found] == [
        "line 2 imports urllib3", "line 3 imports dateutil"
    ]  # fmt: skip
    assert "only exclude-runtime-provided = true counts on it" in found[0].message
    assert imports(root, importable=Importable(runtime_provided=True)) == []


def test_layers_and_unknown_deployments(tmp_path: Path) -> None:
    root = package(tmp_path, "import yaml\n")
    assert imports(root, importable=Importable(layers=frozenset({"yaml"}))) == []
    assert imports(root, importable=Importable(complete=False)) == []


def test_project_modules_are_followed_and_dependencies_are_not(tmp_path: Path) -> None:
    root = package(
        tmp_path,
        "from . import helpers\nfrom app.sub import thing\nimport lib\n",
        {
            "app/helpers.py": "import yaml\n",
            "app/sub/__init__.py": "from .deep import x\n",
            "app/sub/deep.py": "import requests\n",
            "lib/__init__.py": "import not_followed\n",
        },
    )
    # lib belongs to another distribution: its imports are the closure rule's business.
    (root / "lib-1.0.dist-info").mkdir()
    (root / "lib-1.0.dist-info" / "METADATA").write_text("Name: lib\nVersion: 1.0\n")
    (root / "lib-1.0.dist-info" / "RECORD").write_text(
        "lib/__init__.py,,\nlib-1.0.dist-info/METADATA,,\nlib-1.0.dist-info/RECORD,,\n"
    )
    found = {f.path: f.message.split(",")[0] for f in imports(root)}
    assert found == {
        "app/helpers.py": "line 1 imports yaml",
        "app/sub/deep.py": "line 1 imports requests",
    }


def test_missing_project_modules_and_relative_imports_past_the_top(tmp_path: Path) -> None:
    root = package(tmp_path, "import app.missing\nfrom .gone import x\nfrom ... import y\n")
    found = [f.message for f in imports(root)]
    assert found[0].startswith("line 1 imports app.missing, and the artifact has no app/missing:")
    assert found[1].startswith("line 2 imports app.gone, and the artifact has no app/gone:")
    assert found[2].startswith("line 3 imports from ..., above the top-level package of app.main:")
    top = tree(tmp_path / "top", {"main.py": "from . import x\ndef handler(e, c): pass\n"})
    target = resolve_target("python3.12", "x86_64")[0]
    [finding] = [f for f in audit_folder(top, target, handler="main.handler")
                 if f.rule == "imports"]  # fmt: skip
    assert "imports from ., and main is in no package" in finding.message


def test_a_handler_in_a_folder_without_init(tmp_path: Path) -> None:
    """`src/app.handler`, as Lambda allows: src is a namespace package, followed all the same."""
    root = tree(tmp_path / "t", {
        "src/app.py": "from src import util\nimport utils\ndef handler(e, c): pass\n",
        "src/util.py": "import yaml\n",
        "src/utils.py": "",
    })  # fmt: skip
    target = resolve_target("python3.12", "x86_64")[0]
    found = [(f.path, f.message.split(",")[0]) for f in audit_folder(root, target,
             handler="src/app.handler") if f.rule == "imports"]  # fmt: skip
    # utils sits in src/, which is not on sys.path: only /var/task is.
    assert found == [("src/app.py", "line 2 imports utils"), ("src/util.py", "line 1 imports yaml")]


def test_a_module_that_does_not_parse(tmp_path: Path) -> None:
    root = package(tmp_path, "from app import broken\n", {"app/broken.py": "def f(:\n    pass\n"})
    [finding] = imports(root)
    assert finding.path == "app/broken.py" and finding.message.startswith(
        "cannot be parsed (line 1)"
    )
    # The handler's own module is the handler rule's to report, once.
    (root / "app" / "main.py").write_text("def handler(e, c):\n    return (\n")
    found = audit_folder(root, resolve_target("python3.12", "x86_64")[0], handler=HANDLER)
    assert [(f.rule, f.path) for f in found] == [("handler", "app/main.py")]
    assert "cannot be parsed (line 2)" in found[0].message


# Real builds of the fixture project with its handler changed.


def handler_importing(app: Project, code: str) -> None:
    (app.path / "src" / "fx_app" / "handler.py").write_text(
        code + "\n\ndef handler(event, context):\n    return {}\n"
    )


def test_a_build_whose_handler_imports_a_missing_module_fails(app: Project) -> None:
    handler_importing(app, "import json\n\nimport yaml")
    app.configure({"runtime": "python3.12", "handler": "fx_app.handler.handler"})
    proc = app.hatchling("-t", "wheel")
    assert proc.returncode != 0 and app.artifacts() == []
    assert "[imports] fx_app/handler.py [fx-app 1.2.3]: line 3 imports yaml, which is not in " \
        "the artifact or its layers, nor in python3.12's standard library" in proc.stderr  # fmt: skip
    app.configure({"runtime": "python3.12", "handler": "fx_app.handler.handler",
                   "audit-warn": ["imports"]})  # fmt: skip
    proc = app.build_wheel()
    assert "[imports] fx_app/handler.py [fx-app 1.2.3]: line 3 imports yaml" in proc.stderr
    check = app.run([sys.executable, "-m", "hatch_lambda", "check", str(app.only_zip())])
    assert check.returncode == 0 and "warning  imports" in check.stdout, check.stdout
    handler_importing(app, "try:\n    import yaml\nexcept ImportError:\n    yaml = None")
    app.configure({"runtime": "python3.12", "handler": "fx_app.handler.handler"})
    app.build_wheel()


def test_a_build_for_python313_refuses_a_removed_standard_module(app: Project) -> None:
    handler_importing(app, "import imghdr")
    app.configure({"runtime": "python3.12", "handler": "fx_app.handler.handler"})
    app.build_wheel()
    app.configure({"runtime": "python3.13", "handler": "fx_app.handler.handler"})
    proc = app.hatchling("-t", "wheel")
    assert proc.returncode != 0
    assert "it was removed in Python 3.13" in proc.stderr


def test_a_function_deployed_with_a_layer_imports_from_it(app: Project) -> None:
    """fx_pure sits in the layer only: the build and check both find it there."""
    handler_importing(app, "import fx_pure")
    app.configure({
        "runtime": "python3.12",
        "artifacts": {
            "deps": {"kind": "layer", "contents": "dependencies"},
            "api": {"handler": "fx_app.handler.handler", "layers": ["deps"]},
        },
    })  # fmt: skip
    app.build_wheel()
    zips = [str(p) for p in app.artifacts()]
    proc = app.run([sys.executable, "-m", "hatch_lambda", "check", *zips])
    assert proc.returncode == 0, proc.stdout + proc.stderr
