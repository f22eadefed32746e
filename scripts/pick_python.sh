#!/bin/sh
# The interpreter `make` builds .venv on when PYTHON is not given: the distribution's CPython
# 3.11 when the machine has one that can build a venv and compile extensions (Debian builds it
# with profile-guided and link-time optimization; a source build without
# --enable-optimizations, as pyenv makes by default, runs the PHI detector with 14 % more
# instructions and ~8 % more time), else the first python3 on PATH.
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
