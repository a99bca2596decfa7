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


# NumPy ufuncs whose kerasnp.ops name differs (the rest share their name).
_UFUNC_OPS = {"true_divide": "divide", "remainder": "mod", "absolute": "abs",
              "bitwise_not": "logical_not", "invert": "logical_not", "fabs": "abs"}


_REDUCE_OPS = {"add": "sum", "multiply": "prod", "maximum": "max", "minimum": "min"}


class ArrayOperators:
    """Mixin: arithmetic, comparison, matmul, indexing and `.T` through `kerasnp.ops`.

    NumPy ufuncs applied to these objects (`np.tanh(t)`, and `array + t`, which NumPy turns into
    `np.add(array, t)`) run the `kerasnp.ops` function of the same name, so they record on the
    tape too; a ufunc with no op of that name raises a clear error.
    """

    __slots__ = ()

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        ops = _ops()
        out = kwargs.pop("out", None)
        if out is not None and any(o is not None for o in out):
            kwargs["out"] = out
        if method == "reduce" and ufunc.__name__ in _REDUCE_OPS and not kwargs.get("out") \
                and kwargs.get("dtype") is None and len(inputs) == 1:
            fn = ops.OPS[_REDUCE_OPS[ufunc.__name__]]
            return fn(inputs[0], axis=kwargs.get("axis", 0),
                      keepdims=bool(kwargs.get("keepdims", False)))
        name = _UFUNC_OPS.get(ufunc.__name__, ufunc.__name__)
        fn = ops.OPS.get(name)
        if method != "__call__" or fn is None or kwargs.get("out") is not None:
            what = f"np.{ufunc.__name__}" + ("" if method == "__call__" else f".{method}")
            raise TypeError(
                f"{what} cannot be applied to a kerasnp {type(self).__name__}"
                + (" with out=" if kwargs.get("out") is not None else "")
                + ": use the kerasnp.ops function instead (ops.add, ops.tanh, ops.sum, ...), "
                "which records its gradient; or ops.convert_to_numpy(x) for plain values.")
        return fn(*inputs, **kwargs)

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
