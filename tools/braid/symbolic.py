"""Symbols and integer symbolic expressions.

A :class:`Symbol` names a size (``N = braid.symbol("N")``). Used in a shape annotation
(``float64[N + 1, M]``) it builds an expression the compiler reads. While a
``@braid.program`` function runs, the symbols are bound to the sizes of its arguments
and every symbol and expression behaves like the integer it stands for: ``range(N)``,
``A[:N - 1]``, ``np.zeros((N, M))``, ``x / N`` and ``N * 2`` all work as with ints.
Outside a call, using a symbol as a number raises :class:`UnboundSymbolError`.
"""

from __future__ import annotations

import operator
import threading
from contextlib import contextmanager
from typing import Iterator, Mapping

import numpy as np

__all__ = ["SymExpr", "Symbol", "UnboundSymbolError", "symbol", "bind", "current_bindings", "as_expr"]


class UnboundSymbolError(ValueError):
    """A symbol was used as a number while no value is bound to it."""


# --------------------------------------------------------------------------------------
# Binding frames: one stack per thread. A program call pushes the symbol values bound from
# its arguments; lookups search from the innermost call outwards.

_state = threading.local()


def _frames() -> list[dict[str, int]]:
    frames = getattr(_state, "frames", None)
    if frames is None:
        frames = _state.frames = []
    return frames


def _lookup(name: str) -> int | None:
    for frame in reversed(_frames()):
        if name in frame:
            return frame[name]
    return None


def current_bindings() -> dict[str, int]:
    """All symbol values visible now (innermost call wins)."""
    merged: dict[str, int] = {}
    for frame in _frames():
        merged.update(frame)
    return merged


@contextmanager
def bind(values: Mapping[str, int] | None = None, /, **kwargs: int) -> Iterator[dict[str, int]]:
    """Bind symbol values for the duration of a ``with`` block: ``with braid.bind(N=5): ...``."""
    frame = {str(k): operator.index(v) for k, v in {**(values or {}), **kwargs}.items()}
    frames = _frames()
    frames.append(frame)
    try:
        yield frame
    finally:
        frames.pop()


# --------------------------------------------------------------------------------------
# Expressions

_INT_OPS = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "//": 2, "%": 2, "**": 3}


def as_expr(value: object) -> "SymExpr | int":
    """An int or SymExpr from an int-like value or a symbol name."""
    if isinstance(value, SymExpr):
        return value
    if isinstance(value, str):
        return Symbol(value)
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"a boolean is not a size: {value!r}")
    return operator.index(value)


def _is_int_like(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


class SymExpr:
    """An integer expression over symbols (constants, symbols, + - * // % **, negation)."""

    __slots__ = ()

    # -- structure (overridden) --------------------------------------------------------
    def free_symbols(self) -> set[str]:
        raise NotImplementedError

    def evaluate(self, env: Mapping[str, int]) -> int:
        """The value of the expression with the symbols in ``env``; raises if one is missing."""
        raise NotImplementedError

    def _key(self) -> tuple:
        raise NotImplementedError

    # -- value under the current bindings ---------------------------------------------
    def _try_value(self) -> int | None:
        env = current_bindings()
        if not self.free_symbols() <= env.keys():
            return None
        return self.evaluate(env)

    @property
    def is_bound(self) -> bool:
        return self._try_value() is not None

    def get(self) -> int:
        """The current integer value; raises :class:`UnboundSymbolError` if a symbol is unbound."""
        value = self._try_value()
        if value is None:
            missing = sorted(self.free_symbols() - current_bindings().keys())
            names = ", ".join(missing)
            raise UnboundSymbolError(
                f"symbol{'s' if len(missing) > 1 else ''} {names} "
                f"{'have' if len(missing) > 1 else 'has'} no value (in {self!r}): symbols are bound while a "
                f"@program function runs, from the shapes of its array arguments or a keyword argument "
                f"such as {missing[0]}=..., or with braid.bind({missing[0]}=...)"
            )
        return value

    # -- int protocol ----------------------------------------------------------------------
    def __index__(self) -> int:
        return self.get()

    def __int__(self) -> int:
        return self.get()

    def __float__(self) -> float:
        return float(self.get())

    def __complex__(self) -> complex:
        return complex(self.get())

    def __bool__(self) -> bool:
        return self.get() != 0

    def __round__(self, ndigits=None):
        return round(self.get(), ndigits) if ndigits is not None else self.get()

    def __trunc__(self) -> int:
        return self.get()

    def __floor__(self) -> int:
        return self.get()

    def __ceil__(self) -> int:
        return self.get()

    # NumPy interop: a bound symbol converts to its integer value.
    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.get(), dtype=dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        inputs = tuple(x.get() if isinstance(x, SymExpr) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    # -- arithmetic ------------------------------------------------------------------------
    def _binop(self, op: str, lhs: object, rhs: object):
        if (isinstance(lhs, SymExpr) or _is_int_like(lhs)) and (isinstance(rhs, SymExpr) or _is_int_like(rhs)):
            expr = _make_binop(op, as_expr(lhs), as_expr(rhs))
            if isinstance(expr, int):
                return expr
            value = expr._try_value()
            return expr if value is None else value
        # Mixed with floats, arrays, ...: only meaningful with a value.
        lv = lhs.get() if isinstance(lhs, SymExpr) else lhs
        rv = rhs.get() if isinstance(rhs, SymExpr) else rhs
        return _INT_OPS[op](lv, rv)

    def __add__(self, other):
        return self._binop("+", self, other)

    def __radd__(self, other):
        return self._binop("+", other, self)

    def __sub__(self, other):
        return self._binop("-", self, other)

    def __rsub__(self, other):
        return self._binop("-", other, self)

    def __mul__(self, other):
        return self._binop("*", self, other)

    def __rmul__(self, other):
        return self._binop("*", other, self)

    def __floordiv__(self, other):
        return self._binop("//", self, other)

    def __rfloordiv__(self, other):
        return self._binop("//", other, self)

    def __mod__(self, other):
        return self._binop("%", self, other)

    def __rmod__(self, other):
        return self._binop("%", other, self)

    def __pow__(self, other):
        return self._binop("**", self, other)

    def __rpow__(self, other):
        return self._binop("**", other, self)

    def __truediv__(self, other):
        return operator.truediv(self.get(), other.get() if isinstance(other, SymExpr) else other)

    def __rtruediv__(self, other):
        return operator.truediv(other, self.get())

    def __neg__(self):
        expr = Neg(self)
        value = expr._try_value()
        return expr if value is None else value

    def __pos__(self):
        value = self._try_value()
        return self if value is None else value

    def __abs__(self):
        return abs(self.get())

    # Bit operations need values.
    def __and__(self, other):
        return self.get() & other

    def __rand__(self, other):
        return other & self.get()

    def __or__(self, other):
        return self.get() | other

    def __ror__(self, other):
        return other | self.get()

    def __xor__(self, other):
        return self.get() ^ other

    def __rxor__(self, other):
        return other ^ self.get()

    def __lshift__(self, other):
        return self.get() << other

    def __rlshift__(self, other):
        return other << self.get()

    def __rshift__(self, other):
        return self.get() >> other

    def __rrshift__(self, other):
        return other >> self.get()

    def __invert__(self):
        return ~self.get()

    # -- comparisons -----------------------------------------------------------------------
    # Bound: compare values. Unbound: == and != compare structure; ordering raises.
    def _cmp_values(self, other):
        if isinstance(other, SymExpr):
            a, b = self._try_value(), other._try_value()
            if a is None or b is None:
                return None
            return a, b
        a = self._try_value()
        if a is None:
            return None
        return a, other

    def __eq__(self, other):
        pair = self._cmp_values(other)
        if pair is not None:
            return pair[0] == pair[1]
        if isinstance(other, SymExpr):
            return self._key() == other._key()
        return False

    def __ne__(self, other):
        return not self.__eq__(other)

    def __lt__(self, other):
        a, b = self._ordered(other)
        return a < b

    def __le__(self, other):
        a, b = self._ordered(other)
        return a <= b

    def __gt__(self, other):
        a, b = self._ordered(other)
        return a > b

    def __ge__(self, other):
        a, b = self._ordered(other)
        return a >= b

    def _ordered(self, other):
        return self.get(), (other.get() if isinstance(other, SymExpr) else other)

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        value = self._try_value()
        return repr(self) if value is None else str(value)

    def __format__(self, spec: str) -> str:
        value = self._try_value()
        return format(repr(self) if value is None else value, spec)


class Symbol(SymExpr):
    """A named size. ``braid.symbol("N")``; extra arguments (a dtype) are accepted and ignored."""

    __slots__ = ("name", "dtype")

    def __init__(self, name: str, dtype: object = None, *args, **kwargs):
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"a symbol name must be a Python identifier, got {name!r}")
        self.name = name
        self.dtype = dtype

    def free_symbols(self) -> set[str]:
        return {self.name}

    def evaluate(self, env: Mapping[str, int]) -> int:
        try:
            return env[self.name]
        except KeyError:
            raise UnboundSymbolError(f"symbol {self.name} has no value") from None

    def _key(self) -> tuple:
        return ("sym", self.name)

    def _try_value(self) -> int | None:
        return _lookup(self.name)

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self):
        return (Symbol, (self.name,))

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self


class BinOp(SymExpr):
    __slots__ = ("op", "lhs", "rhs")

    def __init__(self, op: str, lhs: "SymExpr | int", rhs: "SymExpr | int"):
        self.op, self.lhs, self.rhs = op, lhs, rhs

    def free_symbols(self) -> set[str]:
        out: set[str] = set()
        for side in (self.lhs, self.rhs):
            if isinstance(side, SymExpr):
                out |= side.free_symbols()
        return out

    def evaluate(self, env: Mapping[str, int]) -> int:
        lv = self.lhs.evaluate(env) if isinstance(self.lhs, SymExpr) else self.lhs
        rv = self.rhs.evaluate(env) if isinstance(self.rhs, SymExpr) else self.rhs
        return _INT_OPS[self.op](lv, rv)

    def _key(self) -> tuple:
        def key(x):
            return x._key() if isinstance(x, SymExpr) else ("int", x)

        return ("op", self.op, key(self.lhs), key(self.rhs))

    def __repr__(self) -> str:
        prec = _PRECEDENCE[self.op]

        def side(x, right: bool) -> str:
            text = repr(x)
            if isinstance(x, BinOp):
                inner = _PRECEDENCE[x.op]
                if inner < prec or (right and inner == prec and self.op != "+" and self.op != "*"):
                    return f"({text})"
            elif isinstance(x, Neg) or (isinstance(x, int) and x < 0):
                return f"({text})"
            return text

        return f"{side(self.lhs, False)} {self.op} {side(self.rhs, True)}"


class Neg(SymExpr):
    __slots__ = ("arg",)

    def __init__(self, arg: SymExpr):
        self.arg = arg

    def free_symbols(self) -> set[str]:
        return self.arg.free_symbols()

    def evaluate(self, env: Mapping[str, int]) -> int:
        return -self.arg.evaluate(env)

    def _key(self) -> tuple:
        return ("neg", self.arg._key())

    def __repr__(self) -> str:
        text = repr(self.arg)
        return f"-({text})" if isinstance(self.arg, BinOp) else f"-{text}"


def _make_binop(op: str, lhs: "SymExpr | int", rhs: "SymExpr | int") -> "SymExpr | int":
    """Build ``lhs op rhs`` with a few obvious simplifications (constants fold, x+0, x*1)."""
    if isinstance(lhs, int) and isinstance(rhs, int):
        return _INT_OPS[op](lhs, rhs)
    if op == "+" and isinstance(rhs, int) and rhs == 0:
        return lhs
    if op == "+" and isinstance(lhs, int) and lhs == 0:
        return rhs
    if op == "-" and isinstance(rhs, int) and rhs == 0:
        return lhs
    if op == "-" and isinstance(rhs, int) and rhs < 0:
        return BinOp("+", lhs, -rhs)
    if op == "+" and isinstance(rhs, int) and rhs < 0:
        return BinOp("-", lhs, -rhs)
    if op in ("*", "//") and isinstance(rhs, int) and rhs == 1:
        return lhs
    if op == "*" and isinstance(lhs, int) and lhs == 1:
        return rhs
    return BinOp(op, lhs, rhs)


def symbol(name: str, *args, **kwargs) -> Symbol:
    """A new size symbol: ``N = braid.symbol("N")`` (a dtype argument is accepted and ignored)."""
    return Symbol(name)


def solve_for(expr: SymExpr, name: str, target: int, env: Mapping[str, int]) -> int | None:
    """The value of symbol ``name`` that makes ``expr == target`` given ``env``, or None.

    Works for expressions affine in ``name`` (``N``, ``N + 4``, ``2 * N - 1``); the
    answer is checked by substitution, so a non-affine expression yields None, not a
    wrong value.
    """
    try:
        f0 = expr.evaluate({**env, name: 0})
        f1 = expr.evaluate({**env, name: 1})
    except (ZeroDivisionError, UnboundSymbolError):
        return None
    slope = f1 - f0
    if slope == 0 or (target - f0) % slope != 0:
        return None
    value = (target - f0) // slope
    try:
        if expr.evaluate({**env, name: value}) != target:
            return None
    except ZeroDivisionError:
        return None
    return value
