"""Credentials in URLs never reach a message, and reach downloads only as a header."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from hatch_lambda._report import StreamReporter
from hatch_lambda._secrets import (
    ambiguous_userinfo,
    forget_secrets,
    remember_secrets,
    secrets_in,
)
from hatch_lambda.collect import guard_credentials
from hatch_lambda.config import ArtifactConfig, load_and_validate_config
from hatch_lambda.errors import ConfigError, HatchLambdaError, RequirementsError, ToolError, redact
from hatch_lambda.requirements import LockedSet, Pin, RequirementSet
from hatch_lambda.wheelhouse._indexes import Indexes, strip_credentials


@pytest.fixture(autouse=True)
def _no_remembered_secrets() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


# (text, what must not show, what must still show)
FORMS = [
    ("https://user:tok3n@example.com/simple", "tok3n", "https://***@example.com/simple"),
    ("http://aws:abc%40def@host:8080/x", "abc%40def", "http://***@host:8080/x"),
    (
        "git+https://ghp_secret@github.com/o/r.git",
        "ghp_secret",
        "git+https://***@github.com/o/r.git",
    ),
    ("https://user:pa/ss@host/simple", "pa/ss", "https://***@host/simple"),
    ("https://user:p@ss@host/simple", "p@ss", "https://***@host/simple"),
    ("https://user:p@ss/wo:rd@host/simple", "ss/wo:rd", "https://***@host/simple"),
    ("https://user:pa:ss@host/simple", "pa:ss", "https://***@host/simple"),
    ("https://user:pa?ss@host/simple", "pa?ss", "https://***@host/simple"),
    ("https://user:pa#ss@host/simple", "pa#ss", "https://***@host/simple"),
    ("https://user:pa%2Fss%40x@host/s", "pa%2Fss", "https://***@host/s"),
    ("https://t0ken-only@host", "t0ken-only", "https://***@host"),
    ("https://t0ken-user:@host/", "t0ken-user", "https://***@host/"),
    ("HTTPS://USER:PASSW0RD@HOST/SIMPLE", "PASSW0RD", "HTTPS://***@HOST/SIMPLE"),
    ("https://user:****@host/simple", "user", "https://***@host/simple"),  # pip's own masking
    ("--index-url=https://u:s3cret@h/simple", "s3cret", "--index-url=https://***@h/simple"),
    ("-i 'https://u:s3cret@h/simple'", "s3cret", "-i 'https://***@h/simple'"),
    ('{"url": "https://u:s3cret@h/s"}', "s3cret", '{"url": "https://***@h/s"}'),
    (
        "PIP_EXTRA_INDEX_URL='https://a:s3cret1@h1/simple https://c:s3cret2@h2/simple'",
        "s3cret",
        "PIP_EXTRA_INDEX_URL='https://***@h1/simple https://***@h2/simple'",
    ),
    (
        "UV_FIND_LINKS=https://a:s3cret1@h1/x,https://c:s3cret2@h2/y",
        "s3cret",
        "UV_FIND_LINKS=https://***@h1/x,https://***@h2/y",
    ),
    (
        "error: invalid value 'http://alice:pa/ss@w0rd@127.0.0.1:45495/simple' for "
        "'--default-index <DEFAULT_INDEX>': invalid port number",
        "pa/ss",
        "'http://***@127.0.0.1:45495/simple' for",
    ),
]


@pytest.mark.parametrize(("text", "secret", "shown"), FORMS)
def test_redact_every_url_form(text: str, secret: str, shown: str) -> None:
    out = redact(text)
    assert secret not in out
    assert shown in out
    assert redact(out) == out


@pytest.mark.parametrize(
    "text",
    [
        "git+https://github.com/o/r.git@v1.0",
        "https://example.com/pkg@1.0/file.whl",
        "https://host/simple?x=a@b",
        "file:///home/me/wheels@2/x.whl",
        "plain https://example.com/ok and a@b.c",
        "fx-pure @ https://files.example/fx_pure-1.0-py3-none-any.whl",
    ],
)
def test_urls_without_credentials_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_an_at_after_a_port_or_credentials_hides_too_much_rather_than_too_little() -> None:
    # Documented over-redaction: the host is lost, never the password.
    assert redact("https://host:8443/x@y") == "https://***@y"
    assert redact("git+https://tok3n@host/r.git@v1") == "git+https://***@v1"


def test_errors_are_redacted_at_construction() -> None:
    assert "s3cret" not in str(ToolError("pip failed: https://u:s3cret@idx/simple"))
    assert isinstance(ToolError("x"), HatchLambdaError)


def test_known_credentials_are_masked_however_they_are_spelled() -> None:
    remember_secrets(["https://alice:pa%2Fss%40w0rd@host/simple", "https://T0KEN1234@other"])
    for spelling in ("pa/ss@w0rd", "pa%2Fss%40w0rd", "pa%2fss@w0rd", "pa/ss%40w0rd"):
        assert redact(f"uv: bad password {spelling}!") == "uv: bad password ***!"
    assert redact("xT0KEN1234y") == "x***y"
    header = base64.b64encode(b"alice:pa/ss@w0rd").decode()
    assert redact(f"Authorization: Basic {header}") == "Authorization: Basic ***"
    assert "alice" in redact("user alice")  # a user name beside a password is not a secret
    assert "w0rd" not in str(ToolError("the password pa/ss@w0rd was refused"))


def test_reporters_mask_what_the_tools_print(capsys: pytest.CaptureFixture[str]) -> None:
    remember_secrets(["https://aws:c0dear7ifact%2Ftoken@host/simple"])
    reporter = StreamReporter(verbosity=3)
    reporter.debug("uv: using password c0dear7ifact/token for host", level=3)
    reporter.warning("retrying https://aws:c0dear7ifact%2Ftoken@host/simple/fx/")
    err = capsys.readouterr().err
    assert "c0dear7ifact" not in err
    assert "uv: using password *** for host" in err
    assert "retrying https://***@host/simple/fx/" in err


def test_short_credentials_are_hidden_in_urls_only() -> None:
    assert secrets_in("https://u:abc@h https://xyz@h") == {base64.b64encode(b"u:abc").decode()}
    remember_secrets(["https://u:abc@h"])
    assert redact("abc https://u:abc@h/s") == "abc https://***@h/s"


@pytest.mark.parametrize(
    ("url", "ambiguous"),
    [
        ("https://u:pa/ss@h/simple", True),
        ("https://u:pa?ss@h/simple", True),
        ("https://ab/cd@h/simple", True),
        ("https://u:p@ss@h/simple", False),
        ("https://u:pa%2Fss@h/simple", False),
        ("https://h/simple", False),
        ("file:///wheels@2/", False),
        ("/wheels@2", False),
    ],
)
def test_ambiguous_credentials(url: str, ambiguous: bool) -> None:
    assert ambiguous_userinfo(url) is ambiguous


def test_configured_ambiguous_urls_are_refused_without_showing_them() -> None:
    with pytest.raises(ConfigError) as info:
        load_and_validate_config(
            {"index-url": "https://u:pa/ss@h/simple", "extra-index-urls": ["https://ab/cd@h/x"]},
            key_path="lambda",
        )
    message = str(info.value)
    assert "lambda.index-url has an '@' after its host part" in message
    assert "lambda.extra-index-urls[0] has an '@'" in message
    assert "%2F" in message
    assert "pa/ss" not in message and "ab/cd" not in message


def test_guard_refuses_ambiguous_urls_from_the_environment_and_locks() -> None:
    artifact = ArtifactConfig()
    env = {"PIP_EXTRA_INDEX_URL": "https://a.example/simple https://u:pa/ss@h/simple"}
    indexes = Indexes.from_options(None, [], [], env)
    with pytest.raises(ConfigError, match="environment variable PIP_EXTRA_INDEX_URL has an '@'"):
        guard_credentials(artifact, RequirementSet("project metadata", ()), indexes)
    lock = LockedSet("poetry.lock", (Pin("fx", "1", "here", index="https://u:pa/ss@h/s"),))
    with pytest.raises(RequirementsError, match=r"an index URL in poetry\.lock has an '@'"):
        guard_credentials(artifact, lock, Indexes.from_options(None, [], [], {}))


def test_guard_remembers_every_credential_it_was_given() -> None:
    env = {
        "PIP_INDEX_URL": "https://u:from-pip-env@h/simple",
        "UV_INDEX_URL": "https://loser-t0k@h",
    }
    reqs = RequirementSet("requirements.txt", (), index_url="https://u:from-the-lock@h/simple")
    artifact = ArtifactConfig(
        index_url="https://u:from-config@h/simple",
        environment=(("PIP_INDEX_URL", "https://u:for-the-container@h/simple"),),
    )
    indexes = Indexes.from_options(artifact.index_url, [], [], env)
    assert dict(indexes.environment) == env
    guard_credentials(artifact, reqs, indexes)
    for secret in (
        "from-pip-env",
        "loser-t0k",
        "from-the-lock",
        "from-config",
        "for-the-container",
    ):
        assert redact(f"said {secret}") == "said ***"


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
    at = Indexes.from_options("https://me:p@ss%2Fw@files.example/simple", [], [], {})
    header = at.authorization_for("https://files.example/a.whl")
    assert header == "Basic " + base64.b64encode(b"me:p@ss/w").decode()
    assert strip_credentials("https://me:p@ss@files.example/x") == "https://files.example/x"
