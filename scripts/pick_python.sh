#!/bin/sh
# The interpreter `make` builds .venv on when PYTHON is not given: the distribution's CPython
# 3.11 when the machine has one that can build a venv and compile extensions (Debian builds it
# with profile-guided and link-time optimization; on a source build without
# --enable-optimizations, as pyenv makes by default, the PHI detector ran its tune split with
# 321 M instructions against 278 M, 0-5 % more time on a noisy host), else the first python3
# on PATH.
for py in /usr/bin/python3.11; do
  if [ -x "$py" ] && "$py" - <<'PY' 2>/dev/null
import ensurepip, os, sys, sysconfig, venv  # noqa: F401 (a venv with pip can be built)
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))
PY
  then
    echo "$py"
    exit 0
  fi
done
echo python3
