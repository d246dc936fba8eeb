"""The audit run on a folder, as `hatch-lambda check` runs it on an unpacked artifact."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from pathlib import Path

from hatch_lambda.audit import Finding, Importable, audit_bundle, open_artifact
from hatch_lambda.bundle import Reader
from hatch_lambda.target import Target, resolve_target


def audit_folder(
    root: Path,
    target: Target,
    *,
    handler: str | None = None,
    roots: Collection[tuple[str, Collection[str]]] = (),
    importable: Importable | None = None,
    runtime_provided: bool = False,
) -> list[Finding]:
    runtime = target.runtime.name
    with Reader() as reader:
        opened = open_artifact(root, reader)
        bundle = dataclasses.replace(
            opened.bundle, sites={runtime: opened.sites(target.python_version)}
        )
        return audit_bundle(
            bundle, {runtime: target}, reader=reader, handler=handler, roots=roots,
            importable=importable, runtime_provided=runtime_provided,
        )  # fmt: skip


def check_elf(root: Path, target: Target) -> list[Finding]:
    return [f for f in audit_folder(root, target) if f.rule.startswith("elf-")]


def check_handler(root: Path, handler: str) -> list[Finding]:
    target = resolve_target("python3.12", "x86_64")[0]
    return [f for f in audit_folder(root, target, handler=handler) if f.rule == "handler"]
