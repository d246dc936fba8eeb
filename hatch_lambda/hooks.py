"""Registers hatch-lambda with Hatch: the `lambda` build hook and the `lambda` builder."""

from __future__ import annotations

from hatchling.plugin import hookimpl

from .plugin import LambdaBuilder, LambdaBuildHook


@hookimpl
def hatch_register_build_hook() -> type[LambdaBuildHook]:
    return LambdaBuildHook


@hookimpl
def hatch_register_builder() -> type[LambdaBuilder]:
    return LambdaBuilder
