"""Written hand-ins (markdown or LaTeX): derivations checked step by step, final answers
read and judged by the sheet's own checks.

The pieces, in the order they run: ``document`` (the bytes, safely, as text), ``split``
(the text, by task), ``math`` (formulas, as chains of equal sides), ``read`` (LaTeX sides as
sympy, with the sheet's definitions), ``steps`` (each step judged), ``answers`` (final
answers found), ``runner`` (the answers, as a ``ProbeRunner`` for the checks), ``grading``
(``grade_written``), ``view`` (the derivations for the report).
"""
