"""The names an expression may use: standard functions, their aliases, constants.

A called name that is not here and not in the caller's ``functions`` is an abstract function
(``f(x)``, ``y(t)``, ``phi(x)``) when it is one letter (with digits or ``_`` after it) or a
Greek letter's name; any other unknown called name is an error that names it, so a student who
writes ``softplus(x)`` is told the grader does not know ``softplus`` instead of being marked
wrong because of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import sympy

__all__ = ["ALIASES", "CONSTANTS", "NUMBER_CONSTRUCTORS", "is_abstract_function_name",
           "known_function_names"]


def _log_base(base: int) -> Callable[[Any], Any]:
    return lambda x: sympy.log(x, base)


ALIASES: dict[str, Callable[..., Any]] = {
    # elementary
    "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "cot": sympy.cot,
    "sec": sympy.sec, "csc": sympy.csc, "cosec": sympy.csc,
    "asin": sympy.asin, "acos": sympy.acos, "atan": sympy.atan, "acot": sympy.acot,
    "asec": sympy.asec, "acsc": sympy.acsc, "atan2": sympy.atan2,
    "arcsin": sympy.asin, "arccos": sympy.acos, "arctan": sympy.atan, "arccot": sympy.acot,
    "sinh": sympy.sinh, "cosh": sympy.cosh, "tanh": sympy.tanh, "coth": sympy.coth,
    "sech": sympy.sech, "csch": sympy.csch, "cosech": sympy.csch,
    "asinh": sympy.asinh, "acosh": sympy.acosh, "atanh": sympy.atanh, "acoth": sympy.acoth,
    "asech": sympy.asech, "acsch": sympy.acsch,
    "arsinh": sympy.asinh, "arcosh": sympy.acosh, "artanh": sympy.atanh,
    "arcsinh": sympy.asinh, "arccosh": sympy.acosh, "arctanh": sympy.atanh,
    "exp": sympy.exp, "log": sympy.log, "ln": sympy.log, "sqrt": sympy.sqrt,
    "cbrt": sympy.cbrt, "root": sympy.root,
    # the names numerical libraries use (numpy, C, scipy)
    "log1p": lambda x: sympy.log(1 + x), "expm1": lambda x: sympy.exp(x) - 1,
    "log10": _log_base(10), "log2": _log_base(2), "exp2": lambda x: 2**x,
    "hypot": lambda x, y: sympy.sqrt(x**2 + y**2),
    # piecewise-ish
    "Abs": sympy.Abs, "abs": sympy.Abs, "sign": sympy.sign, "signum": sympy.sign,
    "sgn": sympy.sign, "Heaviside": sympy.Heaviside, "heaviside": sympy.Heaviside,
    "Max": sympy.Max, "Min": sympy.Min, "max": sympy.Max, "min": sympy.Min,
    "floor": sympy.floor, "ceiling": sympy.ceiling, "ceil": sympy.ceiling, "frac": sympy.frac,
    "Piecewise": sympy.Piecewise,
    # conditions, as sympy spells them (x == 1 and x < 0 work too)
    "Eq": sympy.Eq, "Ne": sympy.Ne, "Lt": sympy.Lt, "Le": sympy.Le, "Gt": sympy.Gt,
    "Ge": sympy.Ge, "And": sympy.And, "Or": sympy.Or, "Not": sympy.Not,
    # special functions
    "factorial": sympy.factorial, "binomial": sympy.binomial, "gamma": sympy.gamma,
    "loggamma": sympy.loggamma, "lgamma": sympy.loggamma, "gammaln": sympy.loggamma,
    "digamma": sympy.digamma, "polygamma": sympy.polygamma, "trigamma": sympy.trigamma,
    "beta": sympy.beta, "zeta": sympy.zeta, "harmonic": sympy.harmonic,
    "erf": sympy.erf, "erfc": sympy.erfc, "erfi": sympy.erfi, "erfinv": sympy.erfinv,
    "erfcinv": sympy.erfcinv, "Ei": sympy.Ei, "li": sympy.li, "Si": sympy.Si, "Ci": sympy.Ci,
    "Shi": sympy.Shi, "Chi": sympy.Chi, "sinc": sympy.sinc, "polylog": sympy.polylog,
    "LambertW": sympy.LambertW, "lowergamma": sympy.lowergamma,
    "uppergamma": sympy.uppergamma, "besselj": sympy.besselj, "bessely": sympy.bessely,
    "besseli": sympy.besseli, "besselk": sympy.besselk,
    "re": sympy.re, "im": sympy.im, "arg": sympy.arg, "conjugate": sympy.conjugate,
    # calculus: derivatives are cheap and evaluated, the rest stay unevaluated
    "diff": sympy.diff, "Derivative": sympy.Derivative,
    "integrate": sympy.Integral, "Integral": sympy.Integral,
    "summation": sympy.Sum, "Sum": sympy.Sum, "sum": sympy.Sum,
    "product": sympy.Product, "Product": sympy.Product,
    "limit": sympy.Limit, "Limit": sympy.Limit,
    # number constructors (arguments must be numbers)
    "Integer": sympy.Integer, "Rational": sympy.Rational, "Float": sympy.Float,
}

CONSTANTS: dict[str, sympy.Expr] = {
    "E": sympy.E, "e": sympy.E, "pi": sympy.pi, "I": sympy.I,
    "oo": sympy.oo, "inf": sympy.oo, "infinity": sympy.oo, "Infinity": sympy.oo,
    "zoo": sympy.zoo, "nan": sympy.nan, "EulerGamma": sympy.EulerGamma,
    "Catalan": sympy.Catalan, "GoldenRatio": sympy.GoldenRatio,
}

NUMBER_CONSTRUCTORS = {"Integer", "Rational", "Float"}

_GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "mu", "nu", "xi", "omicron", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
    "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
}
_ABSTRACT = re.compile(r"[A-Za-z](_?[0-9]+|_[A-Za-z0-9]+)?'*")


def is_abstract_function_name(name: str) -> bool:
    """``f``, ``F``, ``y``, ``f1``, ``f_x``, ``phi``: names of functions left undefined."""
    return bool(_ABSTRACT.fullmatch(name)) or name in _GREEK


def known_function_names() -> list[str]:
    return sorted(n for n in ALIASES if n not in NUMBER_CONSTRUCTORS)
