"""Symbolic judgement: safe parsing, equivalence with proof or witness, answer tests."""
