"""Data types and array type annotations: ``braid.float64`` (a scalar) and ``braid.float64[N, M]``."""

from __future__ import annotations

import numpy as np

from .symbolic import SymExpr, as_expr

__all__ = ["DType", "ArrayType", "DTYPES"]


class DType:
    """A scalar type annotation. Subscript it for an array type; call it like the NumPy type.

    ``braid.float64`` annotates a scalar, ``braid.float64[N, M]`` an array,
    ``braid.float64(3)`` is ``np.float64(3)``, and ``np.zeros(3, dtype=braid.float64)`` works.
    """

    __slots__ = ("name", "type", "dtype")

    def __init__(self, name: str, numpy_type: type):
        self.name = name
        self.type = numpy_type
        self.dtype = np.dtype(numpy_type)

    def __getitem__(self, shape) -> "ArrayType":
        return ArrayType(self, shape)

    def __call__(self, *args, **kwargs):
        return self.type(*args, **kwargs)

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


def _normalize_dim(dim):
    if isinstance(dim, slice):
        if dim != slice(None):
            raise TypeError(f"an array dimension is a size or ':' (unknown size), got {dim!r}")
        return None
    if dim is None:
        return None
    return as_expr(dim)


class ArrayType:
    """An array annotation: a dtype and a shape of ints, symbols or symbolic expressions.

    A dimension given as ``:`` (``float64[:, :]``) is unknown (``None``) and bound from nothing.
    """

    __slots__ = ("dtype", "shape")

    def __init__(self, dtype: DType, shape):
        if not isinstance(shape, tuple):
            shape = (shape,)
        if not shape:
            raise TypeError(f"{dtype.name}[...] needs at least one dimension")
        self.dtype = dtype
        self.shape = tuple(_normalize_dim(d) for d in shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def symbols(self) -> set[str]:
        out: set[str] = set()
        for d in self.shape:
            if isinstance(d, SymExpr):
                out |= d.free_symbols()
        return out

    def __eq__(self, other) -> bool:
        if not isinstance(other, ArrayType) or other.dtype is not self.dtype or other.ndim != self.ndim:
            return False
        for a, b in zip(self.shape, other.shape):
            if isinstance(a, SymExpr) or isinstance(b, SymExpr):
                if not (isinstance(a, SymExpr) and isinstance(b, SymExpr) and a._key() == b._key()):
                    return False
            elif a != b:
                return False
        return True

    def __matmul__(self, storage) -> "ArrayType":
        """``float64[N] @ StorageType.GPU_Global`` (DaCe style): where the data lives, which does
        not change what the program computes; the array type is unchanged."""
        from .program import StorageType

        if not isinstance(storage, StorageType):
            raise TypeError(f"{self!r} @ {storage!r}: the right-hand side must be a StorageType member")
        return self

    def __hash__(self) -> int:
        return hash((self.dtype.name, tuple(d._key() if isinstance(d, SymExpr) else d for d in self.shape)))

    def __repr__(self) -> str:
        dims = ", ".join(":" if d is None else repr(d) for d in self.shape)
        return f"{self.dtype.name}[{dims}]"


DTYPES: dict[str, DType] = {
    name: DType(name, getattr(np, name))
    for name in (
        "bool_",
        "int8",
        "int16",
        "int32",
        "int64",
        "uint8",
        "uint16",
        "uint32",
        "uint64",
        "float16",
        "float32",
        "float64",
        "complex64",
        "complex128",
    )
}


def _dtype_by_name(name: str) -> DType:
    return DTYPES[name]
