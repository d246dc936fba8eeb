"""Reading a lockfile's tables key by key: a missing key or a value of the wrong type is an error
that names the file, the key path and what to do, never a KeyError or a TypeError."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from ..errors import RequirementsError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

T = TypeVar("T")

_SHOWN = 40  # characters of a wrong value quoted in a message


@dataclass(frozen=True)
class Shape:
    """The file being read (its name, for messages), and what to do when it is malformed."""

    file: str
    fix: str
    json: bool = False

    def fail(self, problem: str) -> RequirementsError:
        return RequirementsError(f"{problem}. {self.fix}")

    def _where(self, path: str) -> str:
        return f"{self.file} {path}" if path else self.file

    def check(self, value: Any, kind: type[T], path: str) -> T:
        """*value*, found at *path* (``package[3].files``), if it is of *kind*."""
        if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
            return value
        if not path:
            raise self.fail(
                f"{self.file} must hold {self._noun(kind)} at its top level, not {self._show(value)}"
            )
        raise self.fail(f"{self._where(path)} must be {self._noun(kind)}, not {self._show(value)}")

    def need(self, table: dict[str, Any], key: str, kind: type[T], path: str) -> T:
        if key not in table:
            raise self.fail(f"{self._where(path)} has no {key!r}")
        return self.check(table[key], kind, f"{path}.{key}" if path else key)

    def get(self, table: dict[str, Any], key: str, kind: type[T], path: str, default: T) -> T:
        """An optional key; JSON's ``null`` counts as absent."""
        return default if table.get(key) is None else self.need(table, key, kind, path)

    def each(self, values: list[Any], kind: type[T], path: str) -> list[T]:
        """The items of an array, each of *kind*."""
        return [self.check(v, kind, f"{path}[{i}]") for i, v in enumerate(values)]

    def _noun(self, kind: type[Any]) -> str:
        if kind is dict:
            return "an object" if self.json else "a table"
        return {list: "an array", str: "a string", bool: "true or false", int: "an integer"}.get(
            kind, kind.__name__
        )

    def _show(self, value: Any) -> str:
        if isinstance(value, dict):
            kind = "an object" if self.json else "a table"
        elif isinstance(value, list):
            kind = "an array"
        elif isinstance(value, bool) or value is None:
            return json.dumps(value) if self.json else repr(value)
        else:
            kind = {str: "a string", int: "an integer", float: "a number"}.get(
                type(value), type(value).__name__
            )
        shown = json.dumps(value, default=str) if self.json else repr(value)
        return f"{kind} ({shown if len(shown) <= _SHOWN else shown[: _SHOWN - 4] + ' ...'})"


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise RequirementsError(f"cannot read {path}: {exc.strerror}") from exc


def undecodable(path: Path, data: bytes, exc: UnicodeDecodeError, encoding: str) -> str:
    """Where in *data* decoding stopped, as ``file:line``, with the bytes that stopped it."""
    line = data[: exc.start].decode(encoding, "replace").count("\n") + 1
    bad = data[exc.start : min(exc.end, exc.start + 4)].hex(" ")
    return f"{path.name}:{line} is not valid {encoding.upper()} (bytes {bad})"


def load_toml(path: Path, shape: Shape) -> dict[str, Any]:
    data = _read(path)
    try:
        table: dict[str, Any] = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise shape.fail(undecodable(path, data, exc, "utf-8") + "; TOML files are UTF-8") from exc
    except tomllib.TOMLDecodeError as exc:
        raise shape.fail(f"{path.name} is not valid TOML: {exc}") from exc
    return table


def load_json(path: Path, shape: Shape) -> Any:
    data = _read(path)
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise shape.fail(undecodable(path, data, exc, "utf-8")) from exc
    except json.JSONDecodeError as exc:
        raise shape.fail(f"{path.name} is not valid JSON: {exc}") from exc
