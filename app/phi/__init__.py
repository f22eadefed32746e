"""Offline HIPAA Safe Harbor PHI detection and redaction.

``scripts/build_native.py`` (run by ``make install``) compiles the modules named in
``NATIVE_MODULES`` with mypyc into ``_native/``, beside a digest of the source each was built
from. That directory goes first on this package's path only while every digest matches the
source on disk: an edited detector runs as plain Python until it is built again, never as a
stale extension. ``ROUNDS_PHI_NATIVE=0`` runs the plain modules regardless.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent
NATIVE_DIR = _HERE / "_native"
DATA_DIR = _HERE / "data"  # the word lists
NATIVE_MODULES = ("detector", "prefilter")


def source_digest(name: str) -> str:
    """SHA-256 of the source of module ``name`` of this package."""
    return hashlib.sha256((_HERE / f"{name}.py").read_bytes()).hexdigest()


def native_fresh(native_dir: Path = NATIVE_DIR) -> bool:
    """True when ``native_dir`` holds a build of the current source of every native module."""
    if os.environ.get("ROUNDS_PHI_NATIVE", "1") == "0":
        return False
    for name in NATIVE_MODULES:
        stamp = native_dir / f"{name}.sha256"
        if not stamp.is_file() or stamp.read_text().strip() != source_digest(name):
            return False
    return True


if native_fresh():
    __path__.insert(0, str(NATIVE_DIR))
