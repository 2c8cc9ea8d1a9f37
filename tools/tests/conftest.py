"""Make `import braid` work from a checkout even when the package is not pip-installed."""

import os
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[1]
if str(TOOLS) not in sys.path:
    sys.path.insert(0, str(TOOLS))

# Subprocesses (python3 -m braid.compare under mpiexec) need the same.
_paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
if str(TOOLS) not in _paths:
    os.environ["PYTHONPATH"] = os.pathsep.join([str(TOOLS), *_paths])
