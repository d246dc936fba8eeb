"""Credentials kept out of everything hatch-lambda prints or stores: the user-info of any URL,
and, wherever they appear, the credentials of the URLs hatch-lambda was given.

Where the user-info of a URL ends. pip and uv split ``scheme://userinfo@host/path`` at the
last ``@`` before the first ``/``, ``?`` or ``#``, so ``https://u:p@ss@host`` works and
``https://u:pa/ss@host`` does not (its host would be ``u`` with port ``pa``). Both still print
such a URL back, so redaction cannot follow the standard split: ``pa/ss`` would leak. The rule
here, for the text after ``scheme://`` up to the next whitespace or quote:

- the user-info runs up to the *last* ``@`` of that text;
- unless the text before the first ``/``, ``?`` or ``#`` is a bare host name or address (no
  ``@``, no ``:``): then the ``@`` is in the path, query or fragment and there is no user-info
  (``git+https://github.com/o/r.git@v1``, ``https://host/pkg@1.0``).

It never shows a password that holds ``@``, ``:``, ``/``, ``?`` or ``#``, encoded or not. What it
gets wrong is over-redaction: a URL with a port or credentials *and* an ``@`` further on
(``https://host:8443/x@y``, ``git+https://tok@host/r.git@v1``) shows as ``https://***@y``. What
it misses is a user name alone (a token) that holds an unencoded ``/`` (``https://ab/cd@host``):
nothing tells it from a host and a path. hatch-lambda refuses such URLs among its own index URLs
(``ambiguous_userinfo``), and the credentials it knows are masked as themselves anyway.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from urllib.parse import unquote

MASK = "***"

_SCHEME = r"[A-Za-z][A-Za-z0-9+.-]*://"
# Messages quote URLs and lists separate them with spaces; uv's find-links list uses commas.
_URL = re.compile(rf"(?P<scheme>{_SCHEME})(?P<rest>(?:(?!,{_SCHEME})[^\s'\"`<>])*)")
_AUTHORITY_END = re.compile(r"[/?#]")
_BARE_HOST = re.compile(r"[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\]")
# Masking shorter ones would garble the output (`pass` in `passed`), and they are guessed at once.
_SHORTEST_KNOWN = 4
_UNRESERVED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")


class _Known:
    """The credentials hatch-lambda was given, and one pattern that finds any of them."""

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self.pattern: re.Pattern[str] | None = None


_known = _Known()


def _userinfo_end(rest: str) -> int:
    """The index in *rest* (what follows ``scheme://``) of the ``@`` that ends the user-info, or -1."""
    at = rest.rfind("@")
    if at < 0 or rest.startswith("/"):  # no @, or no authority at all (file:///...)
        return -1
    end = _AUTHORITY_END.search(rest, 0, at)
    if end is not None and _BARE_HOST.fullmatch(rest, 0, end.start()):
        return -1
    return at


def _hide(match: re.Match[str]) -> str:
    rest = match["rest"]
    at = _userinfo_end(rest)
    return match[0] if at < 0 else f"{match['scheme']}{MASK}{rest[at:]}"


def redact(text: str) -> str:
    """*text* with the user-info of every URL, and every credential remembered, shown as ``***``."""
    text = _URL.sub(_hide, text)
    pattern = _known.pattern
    return pattern.sub(MASK, text) if pattern is not None else text


def secrets_in(text: str) -> set[str]:
    """The credentials of the URLs in *text*: each password, or the user name when it is alone
    (a token), decoded, and the Basic authorization value they make."""
    found: set[str] = set()
    for match in _URL.finditer(text):
        rest = match["rest"]
        at = _userinfo_end(rest)
        if at <= 0:
            continue
        user, _, password = rest[:at].partition(":")
        found.add(unquote(password or user))
        if password:
            pair = f"{unquote(user)}:{unquote(password)}".encode()
            found.add(base64.b64encode(pair).decode("ascii"))
    return {s for s in found if len(s) >= _SHORTEST_KNOWN}


def _spelled_any_way(secret: str) -> str:
    """A pattern for *secret* with any of its characters percent-encoded, in either case."""
    parts = []
    for char in secret:
        if char in _UNRESERVED:
            parts.append(re.escape(char))
        else:
            encoded = "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
            parts.append(f"(?:{re.escape(char)}|(?i:{re.escape(encoded)}))")
    return "".join(parts)


def remember_secrets(texts: Iterable[str]) -> None:
    """Mask from now on the credentials of every URL in *texts*, wherever they appear.

    Process-wide on purpose: errors are built deep in the pipeline, far from the configuration,
    and are redacted when built; one build runs per process.
    """
    new = {secret for text in texts for secret in secrets_in(text)} - _known.secrets
    if not new:
        return
    _known.secrets.update(new)
    # Longest first: a longer secret may hold a shorter one.
    alternatives = sorted(_known.secrets, key=len, reverse=True)
    _known.pattern = re.compile("|".join(_spelled_any_way(s) for s in alternatives))


def forget_secrets() -> None:
    _known.secrets.clear()
    _known.pattern = None


AMBIGUOUS = (
    "has an '@' after its host part; in a user name or password, percent-encode '@', '/', '?' "
    "and '#' (as %40, %2F, %3F and %23)"
)


def ambiguous_userinfo(text: str) -> bool:
    """Whether a URL in *text* has an ``@`` after the end of its host part: a user name or
    password with an unencoded ``/``, ``?`` or ``#``, which pip and uv read as host and path, or
    an ``@`` in the path, which no index URL needs. Redaction cannot tell where such credentials
    end, and the tools would show their pieces in errors (``invalid port 'pa'``)."""
    for match in _URL.finditer(text):
        rest = match["rest"]
        end = _AUTHORITY_END.search(rest)
        if end is not None and end.start() > 0 and "@" in rest[end.start() :]:
            return True
    return False
