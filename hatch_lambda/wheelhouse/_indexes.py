"""Where distributions come from: index URLs and find-links, from the configuration or the environment."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

PYPI_SIMPLE = "https://pypi.org/simple"
ENVIRONMENT_VARIABLES = (
    "PIP_INDEX_URL", "UV_DEFAULT_INDEX", "UV_INDEX_URL", "PIP_EXTRA_INDEX_URL", "UV_INDEX",
    "UV_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "UV_FIND_LINKS",
)  # fmt: skip


@dataclass(frozen=True)
class Indexes:
    index_url: str
    extra_index_urls: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    environment: tuple[tuple[str, str], ...] = field(default=(), compare=False, repr=False)
    """The variables read, set or not used, as (name, value): their credentials are masked too."""

    @classmethod
    def from_options(
        cls,
        index_url: str | None,
        extra_index_urls: Sequence[str],
        find_links: Sequence[str],
        environ: Mapping[str, str] | None = None,
    ) -> Indexes:
        """Configured values win; otherwise the variables pip and uv users already set."""
        env = os.environ if environ is None else environ
        index = (
            index_url
            or env.get("PIP_INDEX_URL")
            or env.get("UV_DEFAULT_INDEX")
            or env.get("UV_INDEX_URL")
            or PYPI_SIMPLE
        )
        extras = list(extra_index_urls)
        for var in ("PIP_EXTRA_INDEX_URL", "UV_INDEX", "UV_EXTRA_INDEX_URL"):
            extras.extend(u for u in env.get(var, "").split() if u not in extras)
        links = list(find_links)
        for var in ("PIP_FIND_LINKS", "UV_FIND_LINKS"):
            links.extend(u for u in env.get(var, "").replace(",", " ").split() if u not in links)
        read = tuple((v, env[v]) for v in ENVIRONMENT_VARIABLES if env.get(v))
        return cls(index, tuple(u for u in extras if u != index), tuple(links), read)

    def urls(self) -> list[str]:
        return [self.index_url, *self.extra_index_urls, *self.find_links]

    def pip_env(self) -> dict[str, str | None]:
        # Passed through the environment so that credentials never appear in a process listing.
        return {
            "PIP_INDEX_URL": self.index_url,
            "PIP_EXTRA_INDEX_URL": " ".join(self.extra_index_urls),
            "PIP_FIND_LINKS": " ".join(self.find_links),
        }

    def uv_env(self) -> dict[str, str | None]:
        return {
            "UV_DEFAULT_INDEX": self.index_url,
            "UV_INDEX": " ".join(self.extra_index_urls) or None,
            "UV_FIND_LINKS": ",".join(self.find_links) or None,
            # Older spellings, which uv still reads and which would otherwise win over ours.
            "UV_INDEX_URL": None,
            "UV_EXTRA_INDEX_URL": None,
        }

    def authorization_for(self, url: str) -> str | None:
        """A basic-auth header value for *url* when an index on the same host carries credentials.

        Resolvers report download URLs without the index's credentials, so they are put back here.
        """
        target = urlsplit(url)
        if target.username is not None:
            return _basic(target.username, target.password or "")
        for index in self.urls():
            parts = urlsplit(index)
            if (
                parts.username is not None
                and parts.hostname == target.hostname
                and (parts.port == target.port)
            ):
                return _basic(parts.username, parts.password or "")
        return None


def _basic(user: str, password: str) -> str:
    token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode("ascii")
    return f"Basic {token}"


def strip_credentials(url: str) -> str:
    parts = urlsplit(url)
    if parts.username is None:
        return url
    netloc = parts.hostname or ""
    if parts.port:
        netloc += f":{parts.port}"
    return parts._replace(netloc=netloc).geturl()
