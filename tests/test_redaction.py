"""Credentials in URLs never reach a message, and reach downloads only as a header."""

from __future__ import annotations

import base64

from hatch_lambda.errors import HatchLambdaError, ToolError, redact
from hatch_lambda.wheelhouse._indexes import Indexes, strip_credentials


def test_redact_every_url_form() -> None:
    text = (
        "https://user:tok3n@example.com/simple http://aws:abc%40def@host:8080/x "
        "git+https://ghp_secret@github.com/o/r.git plain https://example.com/ok"
    )
    out = redact(text)
    for secret in ("tok3n", "abc%40def", "ghp_secret", "user", "aws:"):
        assert secret not in out
    assert "https://***@example.com/simple" in out
    assert "https://example.com/ok" in out


def test_errors_are_redacted_at_construction() -> None:
    assert "s3cret" not in str(ToolError("pip failed: https://u:s3cret@idx/simple"))
    assert isinstance(ToolError("x"), HatchLambdaError)


def test_indexes_come_from_the_environment_when_not_configured() -> None:
    env = {
        "PIP_INDEX_URL": "https://a.example/simple",
        "PIP_EXTRA_INDEX_URL": "https://b.example/simple https://c.example/simple",
        "UV_INDEX": "https://c.example/simple",
        "PIP_FIND_LINKS": "/wheels",
    }
    idx = Indexes.from_options(None, [], [], env)
    assert idx.index_url == "https://a.example/simple"
    assert idx.extra_index_urls == ("https://b.example/simple", "https://c.example/simple")
    assert idx.find_links == ("/wheels",)
    assert (
        Indexes.from_options("https://mine/simple", [], [], env).index_url == "https://mine/simple"
    )
    assert Indexes.from_options(None, [], [], {}).index_url == "https://pypi.org/simple"


def test_credentials_are_matched_to_download_hosts() -> None:
    idx = Indexes.from_options("https://me:pw@files.example:8443/simple", [], [], {})
    header = idx.authorization_for("https://files.example:8443/packages/a.whl")
    assert header == "Basic " + base64.b64encode(b"me:pw").decode()
    assert idx.authorization_for("https://other.example/a.whl") is None
    assert strip_credentials("https://me:pw@files.example:8443/x") == "https://files.example:8443/x"
