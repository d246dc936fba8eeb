"""What the build says: counts, warnings against whose limit, the output of command hooks,
timings at -v and the final summary."""

from __future__ import annotations

import pytest

from hatch_lambda._report import counted
from hatch_lambda.audit._size import check_size
from hatch_lambda.pipeline import zipped_size_warning

LAMBDA_ZIPPED = 52_428_800
LAMBDA_UNZIPPED = 262_144_000


@pytest.mark.parametrize(
    ("count", "noun", "plural", "expected"),
    [
        (0, "wheel", None, "0 wheels"),
        (1, "wheel", None, "1 wheel"),
        (2, "wheel", None, "2 wheels"),
        (1, "dependency", "dependencies", "1 dependency"),
        (1234, "dependency", "dependencies", "1,234 dependencies"),
    ],
)
def test_counted(count: int, noun: str, plural: str | None, expected: str) -> None:
    assert counted(count, noun, plural) == expected


def test_zipped_size_warning_says_lambdas_figure_only_for_lambdas_threshold() -> None:
    assert zipped_size_warning("a.zip", LAMBDA_ZIPPED, LAMBDA_ZIPPED) is None
    assert zipped_size_warning("a.zip", LAMBDA_ZIPPED + 1, LAMBDA_ZIPPED) == (
        "a.zip is 52,428,801 bytes zipped: Lambda refuses a direct upload over 52,428,800 bytes; "
        "deploy it through S3"
    )
    assert zipped_size_warning("a.zip", 2_000, 1_000) == (
        "a.zip is 2,000 bytes zipped, over your warn-zipped-size of 1,000"
    )
    # A threshold above Lambda's: over both, both are said; between them, nothing.
    assert zipped_size_warning("a.zip", 70_000_000, 60_000_000) == (
        "a.zip is 70,000,000 bytes zipped, over your warn-zipped-size of 60,000,000; Lambda "
        "refuses a direct upload over 52,428,800 bytes; deploy it through S3"
    )
    assert zipped_size_warning("a.zip", 55_000_000, 60_000_000) is None


def _size_message(total: int, limit: int) -> str:
    findings = check_size("a.zip", {"function": {"fx-big 1.0": total}}, limit=limit)
    assert len(findings) == 1
    return findings[0].message


def test_unzipped_size_finding_names_whose_limit() -> None:
    assert check_size("a.zip", {"function": {"x 1": 10}}, limit=10) == []
    lambdas = _size_message(LAMBDA_UNZIPPED + 1, LAMBDA_UNZIPPED)
    assert "over Lambda's limit of 262,144,000 for a function and all its layers." in lambdas
    assert "max-unzipped-size" not in lambdas  # raising it would not make Lambda take the zip
    mine = _size_message(6_000, 5_000)
    assert "over your max-unzipped-size of 5,000. Largest" in mine
    assert "Lambda" not in mine and "or raise max-unzipped-size" in mine
    both = _size_message(400_000_000, 300_000_000)
    assert "over your max-unzipped-size of 300,000,000, and over Lambda's limit" in both
    assert "raise" not in both
