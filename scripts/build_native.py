"""Compile the PHI detector and its prefilter with mypyc, into ``app/phi/_native/``.

The detector is some five thousand lines of typed Python run over every free-text field.
Compiled, the same source takes about three quarters of the time (a quarter fewer
instructions; ``make bench-phi``, ``bench/README.md``) and finds the same spans
(``tests/phi/test_native.py`` runs both builds over the test corpora and compares).
mypyc is mypy's own compiler (it compiles mypy and black); it reads the annotations the type
gate already checks.

``make install`` runs it when a compiled module changed (about a minute of gcc). Next to the
extensions it writes the SHA-256 of each source it compiled; ``app/phi/__init__.py`` puts
``_native/`` ahead on the package's path only while those match the sources on disk, so an
edited detector runs as plain Python until the next build, never as a stale extension.
Without a build (no compiler, or ``ROUNDS_PHI_NATIVE=0``) the plain modules run: slower,
never different.

Usage: python scripts/build_native.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.phi import NATIVE_DIR, NATIVE_MODULES, source_digest  # noqa: E402


def main() -> int:
    from mypyc.build import mypycify
    from setuptools import setup

    os.chdir(ROOT)  # mypyc names each module by its path from here
    started = time.time()
    digests = {name: source_digest(name) for name in NATIVE_MODULES}  # what is compiled
    with tempfile.TemporaryDirectory(prefix="rounds-native-") as tmp:
        extensions = mypycify(
            [f"app/phi/{name}.py" for name in NATIVE_MODULES],
            opt_level="3",
            target_dir=f"{tmp}/c",
            # The modules' shared library, inside the package (app/phi/native__mypyc...):
            # by default it would be a top-level module named after a hash.
            group_name="app.phi.native",
        )
        setup(
            name="rounds-phi-native",
            ext_modules=extensions,
            script_args=[
                "--quiet",
                "build_ext",
                f"--build-lib={tmp}/lib",
                f"--build-temp={tmp}/objects",
            ],
        )
        built = sorted((Path(tmp) / "lib/app/phi").glob("*.so"))
        if not built:
            print("build_native: mypyc built no extension", file=sys.stderr)
            return 1
        shutil.rmtree(NATIVE_DIR, ignore_errors=True)
        NATIVE_DIR.mkdir(parents=True)
        for path in built:
            shutil.copy2(path, NATIVE_DIR / path.name)
    for name, digest in digests.items():
        stamp = NATIVE_DIR / f"{name}.sha256"
        stamp.write_text(digest + "\n")
        # Dated when the build read its sources: a source saved while gcc ran is newer than
        # the stamp, so `make native` builds again instead of keeping a build of the old text.
        os.utime(stamp, (started, started))
    print(f"build_native: {', '.join(p.name for p in built)} -> {NATIVE_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
