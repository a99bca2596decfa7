"""Python operators for `Tensor` and `Variable`: each one is the `kerasnp.ops` function of the
same meaning, so `x @ w + b` records on the tape exactly like `ops.add(ops.matmul(x, w), b)`.

`kerasnp.ops` is imported on first use (it imports this package, so not at module level).
"""


def _ops():
    from . import ops
    return ops


def _binary(name, reflected=False):
    if reflected:
        def method(self, other):
            return getattr(_ops(), name)(other, self)
    else:
        def method(self, other):
            return getattr(_ops(), name)(self, other)
    method.__name__ = name
    return method


class ArrayOperators:
    """Mixin: arithmetic, comparison, matmul, indexing and `.T` through `kerasnp.ops`."""

    __slots__ = ()

    __add__ = _binary("add")
    __radd__ = _binary("add", True)
    __sub__ = _binary("subtract")
    __rsub__ = _binary("subtract", True)
    __mul__ = _binary("multiply")
    __rmul__ = _binary("multiply", True)
    __truediv__ = _binary("divide")
    __rtruediv__ = _binary("divide", True)
    __floordiv__ = _binary("floor_divide")
    __rfloordiv__ = _binary("floor_divide", True)
    __mod__ = _binary("mod")
    __rmod__ = _binary("mod", True)
    __pow__ = _binary("power")
    __rpow__ = _binary("power", True)
    __matmul__ = _binary("matmul")
    __rmatmul__ = _binary("matmul", True)
    __lt__ = _binary("less")
    __le__ = _binary("less_equal")
    __gt__ = _binary("greater")
    __ge__ = _binary("greater_equal")
    __and__ = _binary("logical_and")
    __rand__ = _binary("logical_and", True)
    __or__ = _binary("logical_or")
    __ror__ = _binary("logical_or", True)

    def __neg__(self):
        return _ops().negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _ops().abs(self)

    def __invert__(self):
        return _ops().logical_not(self)

    def __getitem__(self, key):
        return _ops().get_item(self, key)

    @property
    def T(self):
        return _ops().transpose(self)
