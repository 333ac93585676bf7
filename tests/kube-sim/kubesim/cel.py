# SPDX-License-Identifier: Apache-2.0
"""A small evaluator of DRA device selectors (CEL), as users write them.

    evaluate(expr, device, driver) -> bool

device is one entry of a ResourceSlice's spec.devices (v1beta2/v1 shape,
or v1beta1's with the attributes under "basic"): {"name", "attributes":
{name: {"string"|"int"|"bool"|"version": v}}, "capacity": {name:
{"value": "80Gi"}}}.  driver is the slice's spec.driver: as in
k8s.io/dynamic-resource-allocation/cel, an attribute or capacity name
without a domain ("productName") is in the driver's domain, so it is
device.attributes["gpu.nvidia.com"].productName; a qualified one
("resource.kubernetes.io/pcieRoot") is in its own.  Looking up a domain
the device has nothing in gives an empty map (so has() works); a missing
name in a map is a runtime error ("no such key: x"), as in Kubernetes.

What is understood: device.driver, device.attributes[D].name and
device.attributes[D]["name"] (likewise device.capacity), string, int,
bool and null literals (single or double quotes, r"raw"), lists, ==, !=,
<, <=, >, >= (ints, strings, versions), + and - on ints, string +, in
(lists and maps), &&, || (with CEL's commutative error absorption), !,
unary -, ?:, parentheses; the functions and methods size, startsWith,
endsWith, contains, matches (RE2 read as Python re: search semantics),
lowerAscii, upperAscii, int, string, has(x.f), quantity, isQuantity,
semver, isSemver, cel.bind; Quantity compareTo, isGreaterThan,
isLessThan, sign, asInteger, isInteger, add, sub; Semver compareTo,
isGreaterThan, isLessThan, major, minor, patch.

Anything else raises Unsupported naming the part, when the expression is
parsed (before any device is looked at), never a silent match.  A type
error or a missing key raises CelError: Kubernetes 1.33's allocator treats
such a runtime error as a failure of the whole allocation for the pod
("claim ns/x: selector #0 on device D: CEL runtime error: no such key:
y"), not as a non-matching device, and so does kubesim.dra.
"""

import fractions
import re
import threading


class Unsupported(Exception):
    """The expression uses something this evaluator does not implement."""


class CelError(Exception):
    """A runtime error: wrong types, a missing key, a bad quantity."""


# -- values

_SUFFIX = {"Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40, "Pi": 2 ** 50,
           "Ei": 2 ** 60, "n": fractions.Fraction(1, 10 ** 9),
           "u": fractions.Fraction(1, 10 ** 6), "m": fractions.Fraction(1, 1000), "": 1,
           "k": 10 ** 3, "M": 10 ** 6, "G": 10 ** 9, "T": 10 ** 12, "P": 10 ** 15,
           "E": 10 ** 18}
_QTY_RE = re.compile(r"^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
                     r"(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+|)$")


def parse_quantity(s):
    """A resource.Quantity string -> its exact value (a Fraction)."""
    m = _QTY_RE.match(s.strip()) if isinstance(s, str) else None
    if not m:
        raise CelError("quantities must match the regular expression "
                       "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': %r" % (s,))
    num, suf = fractions.Fraction(m.group(1)), m.group(2)
    if suf[:1] in ("e", "E"):
        return num * fractions.Fraction(10) ** int(suf[1:])
    return num * _SUFFIX[suf]


class Quantity:
    def __init__(self, text):
        self.text, self.value = text, parse_quantity(text)

    def __eq__(self, other):
        return isinstance(other, Quantity) and self.value == other.value

    def __hash__(self):
        return hash(self.value)

    def __repr__(self):
        return "quantity(%r)" % self.text


_SEMVER_RE = re.compile(r"^v?(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)"
                        r"(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


class Semver:
    def __init__(self, text):
        m = _SEMVER_RE.match(text) if isinstance(text, str) else None
        if not m:
            raise CelError("could not parse %r as semver" % (text,))
        self.text = text
        self.core = tuple(int(m.group(i)) for i in (1, 2, 3))
        self.pre = m.group(4)

    def key(self):
        # a pre-release sorts before the release; identifiers compare
        # numerically when numeric (semver 2.0.0, section 11)
        if self.pre is None:
            return (self.core, 1, ())
        ids = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in self.pre.split("."))
        return (self.core, 0, ids)

    def __eq__(self, other):
        return isinstance(other, Semver) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())

    def __repr__(self):
        return "semver(%r)" % self.text


class _Null:
    def __repr__(self):
        return "null"


NULL = _Null()


def _tname(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    if isinstance(v, Quantity):
        return "kubernetes.Quantity"
    if isinstance(v, Semver):
        return "kubernetes.Semver"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "map"
    if v is NULL:
        return "null_type"
    return type(v).__name__


def _cmp(a, b, op):
    def num(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool)
    if num(a) and num(b) or (isinstance(a, str) and isinstance(b, str)):
        x, y = a, b
    elif isinstance(a, Semver) and isinstance(b, Semver):
        x, y = a.key(), b.key()
    elif isinstance(a, bool) and isinstance(b, bool):
        x, y = a, b
    else:
        raise CelError("no such overload: %s %s %s" % (_tname(a), op, _tname(b)))
    return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]


def _eq(a, b):
    def num(x):
        return isinstance(x, (int, float)) and not isinstance(x, bool)
    if num(a) and num(b):
        return a == b
    if type(a) is not type(b):
        return False             # heterogeneous equality: false, not an error
    return a == b


# -- lexer

_TOKEN_RE = re.compile(r"""
    (?P<ws>\s+)
  | (?P<float>[0-9]+\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)
  | (?P<int>0[xX][0-9a-fA-F]+u?|[0-9]+u?)
  | (?P<str>[rR]?(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>&&|\|\||==|!=|<=|>=|[-+*/%<>!?:.,()\[\]{}])
""", re.VERBOSE)

_KEYWORDS = {"true": True, "false": False, "null": NULL}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "`": "`",
            "?": "?", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}


def _unquote(tok):
    raw = tok[0] in "rR"
    body = tok[2:-1] if raw else tok[1:-1]
    if raw:
        return body
    out, i = [], 0
    while i < len(body):
        c = body[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        e = body[i + 1]
        if e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        elif e in "xuU":
            n = {"x": 2, "u": 4, "U": 8}[e]
            out.append(chr(int(body[i + 2:i + 2 + n], 16)))
            i += 2 + n
        else:
            raise Unsupported("the escape sequence '\\%s'" % e)
    return "".join(out)


def _lex(expr):
    if '"""' in expr or "'''" in expr:
        raise Unsupported("triple-quoted strings")
    toks, pos = [], 0
    while pos < len(expr):
        m = _TOKEN_RE.match(expr, pos)
        if not m:
            raise Unsupported("the character %r at offset %d" % (expr[pos], pos))
        kind = m.lastgroup
        text = m.group(kind)
        if kind != "ws":
            toks.append((kind, text, pos))
        pos = m.end()
    toks.append(("end", "", pos))
    return toks


# -- parser: AST nodes are tuples

# functions and methods understood (anything else is Unsupported)
_FUNCS = {"size", "quantity", "isQuantity", "semver", "isSemver", "int", "string", "has"}
_METHODS = {"startsWith", "endsWith", "contains", "matches", "size", "lowerAscii",
            "upperAscii", "compareTo", "isGreaterThan", "isLessThan", "sign", "asInteger",
            "isInteger", "add", "sub", "major", "minor", "patch"}
_MACROS = {"all", "exists", "exists_one", "map", "filter"}


class _Parser:
    def __init__(self, expr):
        self.expr = expr
        self.toks = _lex(expr)
        self.i = 0

    def peek(self, k=0):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def accept(self, text):
        t = self.peek()
        if t[0] == "op" and t[1] == text:
            self.i += 1
            return True
        return False

    def expect(self, text):
        t = self.next()
        if t[0] != "op" or t[1] != text:
            raise CelError("syntax error at offset %d: expected %r, got %r" % (t[2], text, t[1]))

    def parse(self):
        node = self.ternary()
        t = self.peek()
        if t[0] != "end":
            raise CelError("syntax error at offset %d: unexpected %r" % (t[2], t[1]))
        return node

    def ternary(self):
        cond = self.or_()
        if self.accept("?"):
            a = self.ternary()
            self.expect(":")
            b = self.ternary()
            return ("?:", cond, a, b)
        return cond

    def or_(self):
        node = self.and_()
        while self.accept("||"):
            node = ("||", node, self.and_())
        return node

    def and_(self):
        node = self.rel()
        while self.accept("&&"):
            node = ("&&", node, self.rel())
        return node

    def rel(self):
        node = self.add()
        while True:
            t = self.peek()
            if t[0] == "op" and t[1] in ("==", "!=", "<", "<=", ">", ">="):
                self.next()
                node = ("cmp", t[1], node, self.add())
            elif t[0] == "ident" and t[1] == "in":
                self.next()
                node = ("in", node, self.add())
            else:
                return node

    def add(self):
        node = self.mul()
        while True:
            t = self.peek()
            if t[0] == "op" and t[1] in ("+", "-"):
                self.next()
                node = ("arith", t[1], node, self.mul())
            else:
                return node

    def mul(self):
        node = self.unary()
        t = self.peek()
        if t[0] == "op" and t[1] in ("*", "/", "%"):
            raise Unsupported("the operator '%s' (offset %d)" % (t[1], t[2]))
        return node

    def unary(self):
        if self.accept("!"):
            return ("!", self.unary())
        if self.accept("-"):
            return ("neg", self.unary())
        return self.member()

    def member(self):
        node = self.primary()
        while True:
            if self.accept("."):
                t = self.next()
                if t[0] != "ident":
                    raise CelError("syntax error at offset %d: a field name after '.'" % t[2])
                if self.accept("("):
                    args = self.args(")")
                    if t[1] in _MACROS:
                        raise Unsupported("the macro '%s' (offset %d)" % (t[1], t[2]))
                    if t[1] not in _METHODS:
                        raise Unsupported("the method '%s' (offset %d)" % (t[1], t[2]))
                    node = ("call", t[1], node, args)
                else:
                    node = ("field", node, t[1])
            elif self.accept("["):
                key = self.ternary()
                self.expect("]")
                node = ("index", node, key)
            else:
                return node

    def args(self, close):
        out = []
        if self.accept(close):
            return out
        while True:
            out.append(self.ternary())
            if self.accept(close):
                return out
            self.expect(",")

    def primary(self):
        t = self.next()
        kind, text, pos = t
        if kind == "int":
            return ("lit", int(text.rstrip("u"), 0))
        if kind == "float":
            return ("lit", float(text))
        if kind == "str":
            return ("lit", _unquote(text))
        if kind == "ident":
            if text in _KEYWORDS:
                return ("lit", _KEYWORDS[text])
            if text == "cel" and self.peek()[1] == "." and self.peek(1)[1] == "bind":
                self.next()
                self.next()
                self.expect("(")
                v = self.next()
                if v[0] != "ident":
                    raise CelError("syntax error at offset %d: cel.bind wants a name" % v[2])
                self.expect(",")
                init = self.ternary()
                self.expect(",")
                body = self.ternary()
                self.expect(")")
                return ("bind", v[1], init, body)
            if self.accept("("):
                args = self.args(")")
                if text not in _FUNCS:
                    raise Unsupported("the function '%s' (offset %d)" % (text, pos))
                if text == "has":
                    if len(args) != 1 or args[0][0] != "field":
                        raise CelError("has() wants a field selection, as has(a.b)")
                    return ("has", args[0][1], args[0][2])
                return ("func", text, args)
            return ("var", text)
        if kind == "op" and text == "(":
            node = self.ternary()
            self.expect(")")
            return node
        if kind == "op" and text == "[":
            return ("list", self.args("]"))
        if kind == "op" and text == "{":
            raise Unsupported("map literals (offset %d)" % pos)
        if kind == "end":
            raise CelError("syntax error: unexpected end of expression")
        raise CelError("syntax error at offset %d: unexpected %r" % (pos, text))


_CACHE = {}
_CACHE_LOCK = threading.Lock()


def compile_expr(expr):
    """The parsed expression (cached); raises Unsupported or CelError."""
    with _CACHE_LOCK:
        hit = _CACHE.get(expr)
    if hit is not None:
        if isinstance(hit, Exception):
            raise hit
        return hit
    try:
        ast = _Parser(expr).parse()
    except (Unsupported, CelError) as e:
        with _CACHE_LOCK:
            _CACHE[expr] = e
        raise
    with _CACHE_LOCK:
        if len(_CACHE) > 4096:
            _CACHE.clear()
        _CACHE[expr] = ast
    return ast


def check(expr):
    """Raises Unsupported (or CelError for a syntax error) unless the
    expression can be evaluated here."""
    compile_expr(expr)


# -- the device as CEL sees it

def _attr_value(name, attr):
    if not isinstance(attr, dict):
        raise CelError("attribute %s: unsupported attribute value" % name)
    if "int" in attr:
        return int(attr["int"])
    if "bool" in attr:
        return bool(attr["bool"])
    if "string" in attr:
        return str(attr["string"])
    if "version" in attr:
        return Semver(attr["version"])
    raise CelError("attribute %s: unsupported attribute value" % name)


def _split(name, driver):
    domain, sep, ident = name.partition("/")
    return (domain, ident) if sep else (driver, name)


def device_env(device, driver):
    """{"driver", "attributes", "capacity"} of a slice device, by domain."""
    body = device.get("basic") if isinstance(device.get("basic"), dict) else device
    attrs, caps = {}, {}
    for name, attr in (body.get("attributes") or {}).items():
        d, i = _split(name, driver)
        attrs.setdefault(d, {})[i] = _attr_value(name, attr)
    for name, cap in (body.get("capacity") or {}).items():
        d, i = _split(name, driver)
        caps.setdefault(d, {})[i] = Quantity(cap.get("value") if isinstance(cap, dict) else cap)
    return {"driver": driver, "attributes": _DefaultMap(attrs), "capacity": _DefaultMap(caps)}


class _DefaultMap(dict):
    """A domain map: an unknown domain is an empty map (Kubernetes' mapper)."""


# -- evaluation

def _get(container, key):
    if isinstance(container, _DefaultMap):
        if not isinstance(key, str):
            raise CelError("no such overload: map[%s]" % _tname(key))
        return container.get(key, {})
    if isinstance(container, dict):
        if key not in container:
            raise CelError("no such key: %s" % key)
        return container[key]
    if isinstance(container, list):
        if not isinstance(key, int) or isinstance(key, bool):
            raise CelError("no such overload: list[%s]" % _tname(key))
        if not 0 <= key < len(container):
            raise CelError("index out of bounds: %d" % key)
        return container[key]
    raise CelError("no such overload: %s[%s]" % (_tname(container), _tname(key)))


def _truth(v, what):
    if not isinstance(v, bool):
        raise CelError("no such overload: %s of %s" % (what, _tname(v)))
    return v


class _Eval:
    def __init__(self, env):
        self.env = env

    def ev(self, n):
        op = n[0]
        if op == "lit":
            return n[1]
        if op == "var":
            if n[1] not in self.env:
                raise CelError("undeclared reference to '%s'" % n[1])
            return self.env[n[1]]
        if op == "field":
            obj = self.ev(n[1])
            if isinstance(obj, dict):
                if obj is self.env.get("device") and n[2] not in obj:
                    raise CelError("undefined field '%s'" % n[2])
                return _get(obj, n[2])
            raise CelError("no such field '%s' on %s" % (n[2], _tname(obj)))
        if op == "index":
            return _get(self.ev(n[1]), self.ev(n[2]))
        if op == "has":
            obj = self.ev(n[1])
            if isinstance(obj, _DefaultMap):
                return n[2] in obj
            if isinstance(obj, dict):
                return n[2] in obj
            raise CelError("has() on %s" % _tname(obj))
        if op in ("&&", "||"):
            # CEL's commutative logic: false && error == false, true || error == true
            short = op == "||"
            err = None
            for side in (n[1], n[2]):
                try:
                    v = _truth(self.ev(side), op)
                except CelError as e:
                    err = err or e
                    continue
                if v == short:
                    return short
            if err is not None:
                raise err
            return not short
        if op == "!":
            return not _truth(self.ev(n[1]), "!")
        if op == "neg":
            v = self.ev(n[1])
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return -v
            raise CelError("no such overload: -%s" % _tname(v))
        if op == "?:":
            return self.ev(n[2]) if _truth(self.ev(n[1]), "?:") else self.ev(n[3])
        if op == "cmp":
            a, b = self.ev(n[2]), self.ev(n[3])
            if n[1] == "==":
                return _eq(a, b)
            if n[1] == "!=":
                return not _eq(a, b)
            return _cmp(a, b, n[1])
        if op == "in":
            a, b = self.ev(n[1]), self.ev(n[2])
            if isinstance(b, list):
                return any(_eq(a, x) for x in b)
            if isinstance(b, dict):
                return a in b
            raise CelError("no such overload: %s in %s" % (_tname(a), _tname(b)))
        if op == "arith":
            a, b = self.ev(n[2]), self.ev(n[3])
            if type(a) is int and type(b) is int:
                return a + b if n[1] == "+" else a - b
            if n[1] == "+" and isinstance(a, str) and isinstance(b, str):
                return a + b
            if n[1] == "+" and isinstance(a, list) and isinstance(b, list):
                return a + b
            raise CelError("no such overload: %s %s %s" % (_tname(a), n[1], _tname(b)))
        if op == "list":
            return [self.ev(x) for x in n[1]]
        if op == "bind":
            inner = dict(self.env)
            inner[n[1]] = self.ev(n[2])
            return _Eval(inner).ev(n[3])
        if op == "func":
            return self.func(n[1], [self.ev(a) for a in n[2]])
        if op == "call":
            return self.method(n[1], self.ev(n[2]), [self.ev(a) for a in n[3]])
        raise Unsupported("the construct %r" % (op,))

    @staticmethod
    def func(name, args):
        def one(t):
            if len(args) != 1 or not isinstance(args[0], t):
                raise CelError("no such overload: %s(%s)" % (
                    name, ", ".join(_tname(a) for a in args)))
            return args[0]
        if name == "size":
            v = one((str, list, dict))
            return len(v)
        if name == "quantity":
            return Quantity(one(str))
        if name == "isQuantity":
            try:
                parse_quantity(one(str))
                return True
            except CelError:
                return False
        if name == "semver":
            return Semver(one(str))
        if name == "isSemver":
            return _SEMVER_RE.match(one(str)) is not None
        if name == "int":
            v = one((int, float, str))
            try:
                return int(v)
            except ValueError:
                raise CelError("cannot convert %r to int" % v)
        if name == "string":
            v = one((int, float, str, bool))
            return ("true" if v else "false") if isinstance(v, bool) else str(v)
        raise Unsupported("the function '%s'" % name)

    @staticmethod
    def method(name, recv, args):
        def sig(*types):
            ok = len(args) == len(types) and all(isinstance(a, t) for a, t in zip(args, types))
            if not ok:
                raise CelError("no such overload: %s.%s(%s)" % (
                    _tname(recv), name, ", ".join(_tname(a) for a in args)))
        if isinstance(recv, str):
            if name in ("startsWith", "endsWith", "contains", "matches"):
                sig(str)
                if name == "startsWith":
                    return recv.startswith(args[0])
                if name == "endsWith":
                    return recv.endswith(args[0])
                if name == "contains":
                    return args[0] in recv
                return _regex(args[0]).search(recv) is not None
            if name == "size":
                sig()
                return len(recv)
            if name in ("lowerAscii", "upperAscii"):
                sig()
                f = (lambda c: c.lower()) if name == "lowerAscii" else (lambda c: c.upper())
                return "".join(f(c) if c.isascii() else c for c in recv)
        if isinstance(recv, (list, dict)) and name == "size":
            sig()
            return len(recv)
        if isinstance(recv, Quantity):
            if name == "compareTo":
                sig(Quantity)
                a, b = recv.value, args[0].value
                return (a > b) - (a < b)
            if name == "isGreaterThan":
                sig(Quantity)
                return recv.value > args[0].value
            if name == "isLessThan":
                sig(Quantity)
                return recv.value < args[0].value
            if name == "sign":
                sig()
                return (recv.value > 0) - (recv.value < 0)
            if name == "isInteger":
                sig()
                return recv.value.denominator == 1 and abs(recv.value) < 2 ** 63
            if name == "asInteger":
                sig()
                if recv.value.denominator != 1 or abs(recv.value) >= 2 ** 63:
                    raise CelError("cannot convert value to integer")
                return int(recv.value)
            if name in ("add", "sub"):
                if len(args) == 1 and type(args[0]) is int:
                    other = fractions.Fraction(args[0])
                else:
                    sig(Quantity)
                    other = args[0].value
                q = Quantity("0")
                q.value = recv.value + other if name == "add" else recv.value - other
                q.text = str(q.value)
                return q
        if isinstance(recv, Semver):
            if name == "compareTo":
                sig(Semver)
                a, b = recv.key(), args[0].key()
                return (a > b) - (a < b)
            if name == "isGreaterThan":
                sig(Semver)
                return recv.key() > args[0].key()
            if name == "isLessThan":
                sig(Semver)
                return recv.key() < args[0].key()
            if name in ("major", "minor", "patch"):
                sig()
                return recv.core[("major", "minor", "patch").index(name)]
        raise CelError("no such overload: %s.%s(%s)" % (
            _tname(recv), name, ", ".join(_tname(a) for a in args)))


_RE_CACHE = {}


def _regex(pattern):
    r = _RE_CACHE.get(pattern)
    if r is None:
        # RE2 has no backreferences or lookaround; Python's re would
        # accept them, so refuse them as RE2 would
        if re.search(r"\(\?[=!<]|\\[1-9]", pattern):
            raise CelError("invalid RE2 pattern %r: lookaround or backreference" % pattern)
        try:
            r = re.compile(pattern)
        except re.error as e:
            raise CelError("invalid RE2 pattern %r: %s" % (pattern, e))
        _RE_CACHE[pattern] = r
    return r


def evaluate(expr, device, driver):
    """Whether the slice device matches the selector expression.  Raises
    Unsupported (a part this evaluator lacks) or CelError (runtime)."""
    ast = compile_expr(expr)
    v = _Eval({"device": device_env(device, driver)}).ev(ast)
    if not isinstance(v, bool):
        raise CelError("must evaluate to bool, not %s" % _tname(v))
    return v
