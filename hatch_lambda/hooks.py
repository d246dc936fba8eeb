"""Registers hatch-lambda with Hatch: the `lambda` build hook, the `lambda` builder, and the
`lambda` publisher. The publisher needs Hatch, which build environments lack: it is imported only
when Hatch asks for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hatchling.plugin import hookimpl

from .plugin import LambdaBuilder, LambdaBuildHook

if TYPE_CHECKING:
    from .publish.publisher import LambdaPublisher


@hookimpl
def hatch_register_build_hook() -> type[LambdaBuildHook]:
    return LambdaBuildHook


@hookimpl
def hatch_register_builder() -> type[LambdaBuilder]:
    return LambdaBuilder


@hookimpl
def hatch_register_publisher() -> type[LambdaPublisher]:
    from .publish.publisher import LambdaPublisher

    return LambdaPublisher
