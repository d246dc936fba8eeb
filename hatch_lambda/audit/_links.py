"""Rule ``install-links``: no ``.pth`` file and no ``.egg-link`` in an artifact.

Lambda puts the function's folder and ``/opt/python`` on ``sys.path`` through ``PYTHONPATH``,
never as site directories, so a ``.pth`` file there is never read, and an ``.egg-link`` (or an
``__editable__`` finder) points at a folder that does not exist in Lambda: whatever they stand
for (an editable install of a workspace member, say) fails with ``ModuleNotFoundError``.
"""

from __future__ import annotations

import posixpath

from ._finding import Finding, Site


def check_install_links(site: Site) -> list[Finding]:
    findings = []
    for rel in sorted(site.entries):
        name = posixpath.basename(rel)
        if name.endswith(".egg-link") or (name.startswith("__editable__") and
                                          name.endswith((".pth", ".py"))):  # fmt: skip
            what = "a link to a source folder left by an editable install"
        elif name.endswith(".pth"):
            what = "a .pth file, which Lambda never reads (its folders are not site directories)"
        else:
            continue
        findings.append(Finding(
            "install-links", rel,
            f"{what}: what it points at is not in the bundle. Depend on the code itself (a local "
            "source is built into a wheel and bundled), or leave the file out with `exclude`",
        ))  # fmt: skip
    return findings
