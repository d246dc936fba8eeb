"""The bundle: every file of an artifact as an entry that says where its bytes come from.

Stages over it: ``plan_wheel`` (what a wheel installs), ``Excludes`` (what never ships),
``place`` (where each distribution goes in the archive, with RECORD files), and for the steps that
need real files ``materialize`` and ``read_back``. Nothing is unpacked to disk on the way.
"""

from ._entries import LAYER_SITE, Bundle, Distribution, Entry, Generated, OnDisk, Source, ZipMember
from ._filters import DEFAULT_EXCLUDES, SLIM_EXCLUDES, Excludes, project_test_excludes
from ._layout import Placed, place, with_records
from ._member import member_problem
from ._read import Reader
from ._tree import materialize, read_back, source_of
from ._wheels import INSTALLER_NAME, plan_from_json, plan_to_json, plan_wheel, record_hash

__all__ = [
    "DEFAULT_EXCLUDES",
    "INSTALLER_NAME",
    "LAYER_SITE",
    "SLIM_EXCLUDES",
    "Bundle",
    "Distribution",
    "Entry",
    "Excludes",
    "Generated",
    "OnDisk",
    "Placed",
    "Reader",
    "Source",
    "ZipMember",
    "materialize",
    "member_problem",
    "place",
    "plan_from_json",
    "plan_to_json",
    "plan_wheel",
    "project_test_excludes",
    "read_back",
    "record_hash",
    "source_of",
    "with_records",
]
