"""A restricted reader of the pickle NumPy writes for a 1-D object array of lists of ints.

A pickle is a program (it may call any importable function), so kerasnp never hands one to
`pickle`: `_PickleReader` interprets only the opcodes such an array uses, builds Python lists,
ints and tuples itself, and maps the four global names the stream may mention (NumPy's array and
dtype reconstructors, and `_codecs.encode` for the bytes that protocol 2 writes) to its own
harmless stand-ins; nothing is ever imported by a name read from the file. Any other opcode or
name, or an array that is not a 1-D object array of lists of ints, raises `ValueError` naming the
file and the member ("only lists of ints are accepted"). `MAX_ITEMS`, `MAX_STACK` and `MAX_TEXT`
bound what a hostile stream can make.
"""
import struct

import numpy as np

MAX_ITEMS = 1 << 27              # ints and lists built from one pickle (aliases counted)
MAX_STACK = 1 << 20              # stack + memo entries
MAX_TEXT = 256                   # bytes of one string in the pickle (names, dtype codes)
_RECONSTRUCT = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray",
                                                              "_reconstruct")}


class _Name:
    """A global the stream named, resolved to one of the reader's own stand-ins."""

    def __init__(self, kind):
        self.kind = kind          # "reconstruct", "ndarray", "dtype" or "encode"


class _ArrayStub:
    """What `_reconstruct(ndarray, (0,), b'b')` makes: an empty array that BUILD fills."""


class _DtypeStub:
    def __init__(self, code):
        self.code = code


_GLOBALS = {**{k: "reconstruct" for k in _RECONSTRUCT}, ("numpy", "ndarray"): "ndarray",
            ("numpy", "dtype"): "dtype", ("_codecs", "encode"): "encode"}


class _PickleReader:
    """Interprets the opcodes of a NumPy object-array pickle; `read()` returns the array."""

    def __init__(self, data, where):
        self.data, self.pos, self.where = data, 0, where
        self.stack, self.marks, self.memo, self.items = [], [], {}, 0

    def fail(self, problem):
        raise ValueError(f"{self.where}: {problem}; only lists of ints are accepted (a 1-D "
                         "object array of lists of ints, as Keras's dataset files hold). The "
                         "file is corrupt or not what it claims to be; nothing in it was run.")

    def take(self, n):
        if n < 0 or self.pos + n > len(self.data):
            self.fail("the pickle stream is truncated")
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint(self, n):
        return int.from_bytes(self.take(n), "little")

    def text(self, n, codec):
        if n > MAX_TEXT:
            self.fail(f"a string of {n} bytes (at most {MAX_TEXT} expected)")
        raw = self.take(n)
        return raw if codec is None else raw.decode(codec)

    def push(self, value):
        if len(self.stack) + len(self.memo) >= MAX_STACK:
            self.fail(f"more than {MAX_STACK} stack or memo entries")
        self.stack.append(value)

    def pop_mark(self):
        if not self.marks:
            self.fail("an opcode needs a MARK that is missing")
        start = self.marks.pop()
        items = self.stack[start:]
        del self.stack[start:]
        return items

    def pop(self):
        if not self.stack:
            self.fail("the pickle stack is empty where a value is needed")
        return self.stack.pop()

    def count(self, n):
        self.items += n
        if self.items > MAX_ITEMS:
            self.fail(f"more than {MAX_ITEMS} items")

    def read(self):
        ops = _OPS
        while True:
            code = self.take(1)
            handler = ops.get(code)
            if handler is None:
                self.fail(f"pickle opcode {code!r} at byte {self.pos - 1} is not allowed")
            if handler(self):
                break
        if len(self.stack) != 1 or not isinstance(self.stack[0], np.ndarray):
            self.fail("the pickle does not hold one array")
        return self.stack[0]

    # -- opcode handlers (return True at STOP) ----------------------------------------------
    def op_global(self):
        line = b""
        while not line.endswith(b"\n") or line.count(b"\n") < 2:
            line += self.take(1)
            if len(line) > MAX_TEXT:
                self.fail("a GLOBAL name longer than expected")
        module, name = line.decode("ascii", "replace").split("\n")[:2]
        self.push_global(module, name)

    def op_stack_global(self):
        name, module = self.pop(), self.pop()
        if not isinstance(module, str) or not isinstance(name, str):
            self.fail("STACK_GLOBAL needs two strings")
        self.push_global(module, name)

    def push_global(self, module, name):
        kind = _GLOBALS.get((module, name))
        if kind is None:
            self.fail(f"the pickle names the global '{module}.{name}', which is not a NumPy "
                      "array reconstructor (it was not imported)")
        self.push(_Name(kind))

    def op_reduce(self):
        args, fn = self.pop(), self.pop()
        if not isinstance(fn, _Name) or not isinstance(args, tuple):
            self.fail("REDUCE on something other than a NumPy array reconstructor")
        if fn.kind == "reconstruct" and len(args) == 3 and isinstance(args[0], _Name) and \
                args[0].kind == "ndarray" and args[1] == (0,) and args[2] in (b"b", "b"):
            return self.push(_ArrayStub())
        if fn.kind == "dtype" and len(args) == 3 and args[0] in ("O8", "O4", b"O8", b"O4"):
            return self.push(_DtypeStub("O"))
        if fn.kind == "encode" and len(args) == 2 and isinstance(args[0], str) and \
                args[1] == "latin1":
            return self.push(args[0].encode("latin1"))
        self.fail(f"a call of the {fn.kind} stand-in with arguments other than an object "
                  "array's")

    def op_build(self):
        state, obj = self.pop(), self.pop()
        if isinstance(obj, _DtypeStub):
            if not (isinstance(state, tuple) and len(state) in (8, 9) and
                    state[1] in ("|", b"|")):
                self.fail("an unexpected dtype state")
            return self.push(obj)
        if not isinstance(obj, _ArrayStub) or not isinstance(state, tuple) or len(state) != 5:
            self.fail("BUILD on something other than an array")
        _, shape, dtype, fortran, rows = state
        if not isinstance(dtype, _DtypeStub):
            self.fail("an array whose dtype is not object")
        if not (isinstance(shape, tuple) and len(shape) == 1 and isinstance(rows, list) and
                shape[0] == len(rows)):
            self.fail(f"an array of shape {shape!r} holding {type(rows).__name__}; a 1-D array "
                      "with its list of rows expected")
        total = 0
        for i, row in enumerate(rows):
            if type(row) is not list or any(type(v) is not int for v in row):
                self.fail(f"row {i} is not a list of ints")
            total += len(row)
        self.count(total)          # aliased rows count once per use: bounds what callers copy
        out = np.empty(len(rows), dtype=object)
        for i, row in enumerate(rows):
            out[i] = row
        self.push(out)

    def op_mark_list(self):
        items = self.pop_mark()
        self.push(items)

    def op_appends(self):
        items = self.pop_mark()
        target = self.pop()
        if type(target) is not list:
            self.fail("APPENDS to something other than a list")
        self.count(len(items))
        target.extend(items)
        self.push(target)

    def op_append(self):
        item, target = self.pop(), self.pop()
        if type(target) is not list:
            self.fail("APPEND to something other than a list")
        self.count(1)
        target.append(item)
        self.push(target)

    def op_tuple_n(self, n):
        items = [self.pop() for _ in range(n)][::-1]
        self.push(tuple(items))

    def op_put(self, index):
        if not self.stack:
            self.fail("a memo store with an empty stack")
        if len(self.stack) + len(self.memo) >= MAX_STACK:
            self.fail(f"more than {MAX_STACK} stack or memo entries")
        self.memo[index] = self.stack[-1]

    def op_get(self, index):
        if index not in self.memo:
            self.fail(f"memo entry {index} read before it was stored")
        self.push(self.memo[index])

    def op_frame(self):
        self.uint(8)                               # frame length: framing only, no semantics

    def op_long1(self):
        n = self.uint(1)
        if n > 8:
            self.fail(f"an integer of {n} bytes (at most 8 expected)")
        self.push(int.from_bytes(self.take(n), "little", signed=True))


_R = _PickleReader
_OPS = {
    b"\x80": lambda r: r.uint(1) and None,                                  # PROTO
    b"\x95": _R.op_frame,                                                   # FRAME
    b".": lambda r: True,                                                   # STOP
    b"(": lambda r: r.marks.append(len(r.stack)),                           # MARK
    b"]": lambda r: r.push([]),                                             # EMPTY_LIST
    b"l": _R.op_mark_list,                                                  # LIST
    b"a": _R.op_append, b"e": _R.op_appends,                                # APPEND(S)
    b")": lambda r: r.push(()),                                             # EMPTY_TUPLE
    b"t": lambda r: r.push(tuple(r.pop_mark())),                            # TUPLE
    b"\x85": lambda r: r.op_tuple_n(1), b"\x86": lambda r: r.op_tuple_n(2),
    b"\x87": lambda r: r.op_tuple_n(3),                                     # TUPLE1-3
    b"K": lambda r: r.push(r.uint(1)),                                      # BININT1
    b"M": lambda r: r.push(r.uint(2)),                                      # BININT2
    b"J": lambda r: r.push(struct.unpack("<i", r.take(4))[0]),              # BININT
    b"\x8a": _R.op_long1,                                                   # LONG1
    b"N": lambda r: r.push(None),                                           # NONE
    b"\x88": lambda r: r.push(True), b"\x89": lambda r: r.push(False),      # NEWTRUE/FALSE
    b"X": lambda r: r.push(r.text(r.uint(4), "utf-8")),                     # BINUNICODE
    b"\x8c": lambda r: r.push(r.text(r.uint(1), "utf-8")),                  # SHORT_BINUNICODE
    b"U": lambda r: r.push(r.text(r.uint(1), "latin1")),                    # SHORT_BINSTRING
    b"T": lambda r: r.push(r.text(r.uint(4), "latin1")),                    # BINSTRING
    b"C": lambda r: r.push(r.text(r.uint(1), None)),                        # SHORT_BINBYTES
    b"B": lambda r: r.push(r.text(r.uint(4), None)),                        # BINBYTES
    b"c": _R.op_global, b"\x93": _R.op_stack_global,                        # (STACK_)GLOBAL
    b"R": _R.op_reduce, b"b": _R.op_build,                                  # REDUCE, BUILD
    b"\x94": lambda r: r.op_put(len(r.memo)),                               # MEMOIZE
    b"q": lambda r: r.op_put(r.uint(1)), b"r": lambda r: r.op_put(r.uint(4)),   # (LONG_)BINPUT
    b"h": lambda r: r.op_get(r.uint(1)), b"j": lambda r: r.op_get(r.uint(4)),   # (LONG_)BINGET
}


def read(data, where):
    """The object array pickled in `data` (bytes); `where` names the file and member in errors."""
    return _PickleReader(data, where).read()
