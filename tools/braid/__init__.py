"""Braid's annotation vocabulary.

Annotated files import this package (``import braid as br``) or are written against DaCe
(``import dace as dc``, see :func:`install_dace_alias`), and run unchanged under CPython:

    import numpy as np
    import braid as br

    N, M = br.symbol("N"), br.symbol("M")

    @br.program
    def scale(alpha: br.float64, A: br.float64[N, M]):
        for i, j in br.map[0:N, 0:M]:
            A[i, j] *= alpha

The Braid compiler reads the same annotations to generate native code; ``python3 -m
braid.compare`` runs both and checks that they agree.
"""

from __future__ import annotations

import importlib.util
import sys

from .program import ScheduleType, StorageType, define_local, define_local_scalar, map, ndarray, program, program_info
from .symbolic import SymExpr, Symbol, UnboundSymbolError, bind, symbol
from .dtypes import DTYPES, ArrayType, DType

__version__ = "0.1.0"

bool_ = DTYPES["bool_"]
int8 = DTYPES["int8"]
int16 = DTYPES["int16"]
int32 = DTYPES["int32"]
int64 = DTYPES["int64"]
uint8 = DTYPES["uint8"]
uint16 = DTYPES["uint16"]
uint32 = DTYPES["uint32"]
uint64 = DTYPES["uint64"]
float16 = DTYPES["float16"]
float32 = DTYPES["float32"]
float64 = DTYPES["float64"]
complex64 = DTYPES["complex64"]
complex128 = DTYPES["complex128"]


def install_dace_alias() -> bool:
    """Make ``import dace`` give this package, unless a real DaCe is installed.

    Returns True when the alias is in place (now or from an earlier call).
    """
    existing = sys.modules.get("dace")
    if existing is not None:
        return existing is sys.modules[__name__]
    if importlib.util.find_spec("dace") is not None:
        return False
    sys.modules["dace"] = sys.modules[__name__]
    return True


__all__ = [
    "ArrayType",
    "DType",
    "ScheduleType",
    "StorageType",
    "SymExpr",
    "Symbol",
    "UnboundSymbolError",
    "bind",
    "define_local",
    "define_local_scalar",
    "install_dace_alias",
    "map",
    "ndarray",
    "program",
    "program_info",
    "symbol",
    *DTYPES,
    "bool",
]

# ``braid.bool`` (as ``dace.bool``) names the boolean dtype; bound last so that nothing in
# this module sees the builtin shadowed.
globals()["bool"] = bool_
