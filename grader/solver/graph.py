"""Reference solver for computational graphs: gradients by substitution and by backprop.

A graph is a set of nodes, each an expression in the inputs and other
nodes (``c = a + b``, ``d = b + 1``, ``e = c * d``). The gradient of the
output with respect to each input is found by substituting the graph into
one expression and differentiating it; the node-by-node backward pass gives
the same gradient as a sum over the paths from the input to the output,
which is what feedback explains ("∂e/∂b = ∂e/∂c·∂c/∂b + ∂e/∂d·∂d/∂b").
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

import sympy

#: beyond this many paths from one input the per-path explanation is not spelt out
MAX_PATHS = 32


class GraphError(ValueError):
    """The graph is not well-formed; ``node`` is the node at fault (None: the graph as a whole)."""

    def __init__(self, node: str | None, message: str) -> None:
        self.node = node
        super().__init__(message)


@dataclass(frozen=True)
class Path:
    """One path from an input to the output, and the product of its local derivatives."""

    nodes: tuple[sympy.Symbol, ...]  # input … output
    factors: tuple[sympy.Expr, ...]  # ∂(next)/∂(this) for each edge, in node symbols

    @property
    def product(self) -> sympy.Expr:
        return sympy.Mul(*self.factors)

    def arrow(self) -> str:
        return " → ".join(s.name for s in self.nodes)

    def chain(self) -> str:
        """``∂e/∂c·∂c/∂b`` for the path b → c → e."""
        out = self.nodes[-1].name
        parts = []
        for nxt, this in zip(reversed(self.nodes[1:]), reversed(self.nodes[:-1]), strict=True):
            parts.append(f"∂{nxt.name}/∂{this.name}")
        return "·".join(parts) if parts else f"∂{out}/∂{out}"


@dataclass
class Graph:
    inputs: tuple[sympy.Symbol, ...]
    #: node symbol -> its expression, in an order where every node follows the nodes it uses
    nodes: dict[sympy.Symbol, sympy.Expr]
    output: sympy.Symbol

    # ---------------------------------------------------------------- building
    @classmethod
    def build(
        cls,
        inputs: Sequence[sympy.Symbol],
        nodes: Mapping[sympy.Symbol, sympy.Expr],
        output: sympy.Symbol,
    ) -> Graph:
        """Check the graph and order it; GraphError names the node at fault."""
        names = [s.name for s in inputs]
        if len(set(names)) != len(names):
            raise GraphError(None, "an input is listed twice")
        if not inputs:
            raise GraphError(None, "the graph needs at least one input")
        known = set(inputs) | set(nodes)
        for node, expr in nodes.items():
            if node in inputs:
                raise GraphError(node.name, f"{node.name} is an input and cannot be a node too")
            unknown = sorted(s.name for s in expr.free_symbols if s not in known)
            if unknown:
                raise GraphError(
                    node.name, f"uses {', '.join(unknown)}, which is neither an input nor a node"
                )
        if output not in nodes:
            raise GraphError(None, f"the output {output.name} is not a node")
        order: list[sympy.Symbol] = []
        state: dict[sympy.Symbol, int] = {}  # 1: being visited, 2: done

        def visit(node: sympy.Symbol, trail: list[sympy.Symbol]) -> None:
            if state.get(node) == 2 or node not in nodes:
                return
            if state.get(node) == 1:
                cycle = trail[trail.index(node) :] + [node]
                raise GraphError(
                    node.name, "the graph has a cycle: " + " → ".join(s.name for s in cycle)
                )
            state[node] = 1
            for dep in sorted(nodes[node].free_symbols & set(nodes), key=lambda s: s.name):
                visit(dep, [*trail, node])
            state[node] = 2
            order.append(node)

        for node in nodes:
            visit(node, [])
        return cls(tuple(inputs), {n: nodes[n] for n in order}, output)

    # ---------------------------------------------------------------- solving
    def substitute(self, expr: sympy.Expr) -> sympy.Expr:
        """``expr`` (in node names) written in the inputs only."""
        for node in reversed(self.nodes):
            if node in expr.free_symbols:
                expr = expr.subs(node, self.nodes[node])
        return expr

    @cached_property
    def expression(self) -> sympy.Expr:
        return self.substitute(self.output)

    @cached_property
    def gradient(self) -> tuple[sympy.Expr, ...]:
        """∂output/∂input for each input, in the inputs."""
        return tuple(sympy.diff(self.expression, x) for x in self.inputs)

    def local(self, node: sympy.Symbol, dep: sympy.Symbol) -> sympy.Expr:
        """∂node/∂dep with every other node held fixed (the edge's local derivative)."""
        return sympy.diff(self.nodes[node], dep)

    @cached_property
    def adjoints(self) -> dict[sympy.Symbol, sympy.Expr]:
        """The backward pass: ∂output/∂v for every input and node, in node names."""
        adj: dict[sympy.Symbol, sympy.Expr] = {self.output: sympy.Integer(1)}
        for node in reversed(self.nodes):
            if node not in adj:
                continue  # does not reach the output
            for dep in self.nodes[node].free_symbols:
                if dep in self.nodes or dep in self.inputs:
                    adj[dep] = adj.get(dep, sympy.Integer(0)) + adj[node] * self.local(node, dep)
        for x in self.inputs:
            adj.setdefault(x, sympy.Integer(0))
        return adj

    def users(self, v: sympy.Symbol) -> list[sympy.Symbol]:
        return [n for n, e in self.nodes.items() if v in e.free_symbols]

    def paths(self, source: sympy.Symbol) -> list[Path]:
        """Every path from ``source`` to the output (at most MAX_PATHS + 1 of them)."""
        found: list[Path] = []

        def walk(
            v: sympy.Symbol, nodes: tuple[sympy.Symbol, ...], factors: tuple[sympy.Expr, ...]
        ) -> None:
            if len(found) > MAX_PATHS:
                return
            if v == self.output:
                found.append(Path(nodes, factors))
                return
            for user in self.users(v):
                walk(user, (*nodes, user), (*factors, self.local(user, v)))

        walk(source, (source,), ())
        return found

    def partial_sums(self, source: sympy.Symbol) -> list[tuple[list[Path], sympy.Expr]]:
        """Each proper, non-empty subset of the paths from ``source``, with its sum in the inputs.

        A student who forgets a path returns one of these; empty when there is only one path.
        """
        paths = self.paths(source)
        if len(paths) < 2 or len(paths) > 6:
            return []
        out = []
        for k in range(1, len(paths)):
            for subset in itertools.combinations(paths, k):
                total = self.substitute(sympy.Add(*(p.product for p in subset)))
                out.append((list(subset), total))
        return out

    def explain(self, source: sympy.Symbol) -> str:
        """``∂e/∂b = ∂e/∂c·∂c/∂b + ∂e/∂d·∂d/∂b = d + c = a + 2*b + 1``."""
        out, name = self.output.name, source.name
        paths = self.paths(source)
        final = tidy(self.gradient[self.inputs.index(source)])
        if not paths:
            return f"∂{out}/∂{name} = 0: no path leads from {name} to {out}."
        if len(paths) > MAX_PATHS:
            every = f"summed over every path from {name} to {out}"
            return f"∂{out}/∂{name} = {sympy.sstr(final)} ({every})."
        chain = " + ".join(p.chain() for p in paths)
        local = " + ".join(_paren(tidy(p.product)) for p in paths)
        steps = [f"∂{out}/∂{name}", chain, local, sympy.sstr(final)]
        return " = ".join(dict.fromkeys(steps))  # drop repeated steps (a one-edge path)


def tidy(expr: sympy.Expr) -> sympy.Expr:
    """A short form for feedback: expanded where that is not longer."""
    try:
        expanded = sympy.expand(expr)
    except (TypeError, ValueError):  # pragma: no cover - defensive
        return expr
    return expanded if sympy.count_ops(expanded) <= sympy.count_ops(expr) else expr


def _paren(expr: sympy.Expr) -> str:
    text = sympy.sstr(expr)
    return f"({text})" if isinstance(expr, sympy.Add) else text
