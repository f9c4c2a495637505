"""The Jinja2 environment of key-date templates: sandboxed, immutable, and held to a budget (decision 0030).

Templates come from admins through the API and the console. Jinja2's sandbox stops them
reaching Python's internals but not from asking for unbounded work: ``{{ 'x' * 10**7 }}``
was accepted and a 2,000 × 2,000 loop took 5 s (issue 18, item 15). What a render may
cost is fixed here before it starts, and every way to exceed it is refused with
OverBudget naming the limit:

- values: a string, list or mapping made by an operator, a call or a filter has at most
  MAX_VALUE items (``*`` and ``%`` are checked before they run, calls and filters after),
  an integer at most MAX_INT_BITS bits (``*`` and ``**`` checked before), and no width
  or count given to a string method or a filter such as ``center`` is larger than
  MAX_VALUE, so no single step can allocate much: ``'x'.ljust(10**9)`` is refused, not
  attempted;
  printf and ``str.format`` widths are checked in the format string, since their
  arguments are values; ``range`` gives at most MAX_VALUE numbers; ``lipsum`` and
  ``namespace`` are not offered (the one writes pages of text, the other carries state
  from one loop pass to the next, the way to grow a value by doubling);
- output: at most MAX_OUTPUT_CHARS, counted as the template streams it;
- work: at most MAX_STEPS lines of template code (every loop pass and macro call runs
  some), macros nested at most MAX_DEPTH deep, and MAX_SECONDS, counted by a trace
  function on template frames only (``sys.settrace``, this thread, during this render;
  the previous tracer is restored).

A value inside a ``{% set %}`` block or a macro grows by at most MAX_VALUE per step, so a
render holds at most about MAX_STEPS × MAX_VALUE characters before it is stopped.
"""

from __future__ import annotations

import re
import string
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from functools import wraps
from types import BuiltinMethodType, FrameType
from typing import Any

from jinja2 import Template
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg

# A reminder is one sentence; an announcement's summary is at most 1,000 characters and
# Telegram's whole message 4,096.
MAX_OUTPUT_CHARS = 1000
MAX_VALUE = 1000
MAX_INT_BITS = 4096  # about 1,233 decimal digits
MAX_STEPS = 5000  # a reminder's template runs a few dozen
MAX_DEPTH = 32  # macros calling macros; Python's own limit (1,000 frames) is 200 or so of them
MAX_SECONDS = 0.5  # it renders in about 50 µs
# Jinja2 compiles a template made from a string under this file name.
TEMPLATE_FILE = "<template>"
# A printf conversion (Python's "printf-style String Formatting"): its width and precision.
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_NUMBER = re.compile(r"\d+")
# Filters whose integer parameters are widths or counts (Jinja2's builtin filters); the
# others' (``default(2027)``) are values.
WIDTH_FILTERS = frozenset({"batch", "center", "indent", "round", "slice", "truncate", "wordwrap"})


class OverBudget(Exception):
    """The template asked for more than its budget; the message names the limit."""


def _check_value(value: Any, where: str) -> Any:
    if isinstance(value, str | list | tuple | dict | set | frozenset | bytes) and len(value) > MAX_VALUE:
        raise OverBudget(f"{where} makes a value of {len(value):,} items; at most {MAX_VALUE:,}")
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise OverBudget(f"{where} makes a number over {MAX_INT_BITS:,} bits")
    return value


def _check_arguments(args: tuple[Any, ...], kwargs: Mapping[str, Any], where: str) -> None:
    for value in (*args, *kwargs.values()):
        _check_value(value, where)


def _check_widths(args: tuple[Any, ...], kwargs: Mapping[str, Any], where: str) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and abs(value) > MAX_VALUE:
            raise OverBudget(f"{where} with {value:,}: a width or count is at most {MAX_VALUE:,}")


def _check_printf(template: str, where: str) -> None:
    for width, precision in _PRINTF.findall(template):
        for number in (width, precision):
            if number == "*" or (number and int(number) > MAX_VALUE):
                raise OverBudget(f"{where}: a width or precision is at most {MAX_VALUE:,} (and not '*')")


def _check_format(template: str, where: str) -> None:
    for _, field, spec, _ in string.Formatter().parse(template):
        if field is not None and ("{" in (spec or "") or any(int(n) > MAX_VALUE for n in _NUMBER.findall(spec or ""))):
            raise OverBudget(f"{where}: a width or precision is at most {MAX_VALUE:,} (and not a nested field)")


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > MAX_VALUE:
        raise OverBudget(f"range() of {len(numbers):,} numbers; at most {MAX_VALUE:,}")
    return numbers


def _bounded_filter(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    leading = 1 if _PassArg.from_obj(function) is not None else 0  # the context or environment

    @wraps(function)  # keeps Jinja2's pass_context / pass_environment mark
    def bounded(*args: Any, **kwargs: Any) -> Any:
        where = f"the filter {name}"
        value, parameters = args[leading : leading + 1], args[leading + 1 :]
        _check_arguments((*value, *parameters), kwargs, where)
        if name in WIDTH_FILTERS:
            _check_widths(parameters, kwargs, where)
        if name == "format" and value:  # printf: the widths are in the string
            _check_printf(str(value[0]), where)
        return _check_value(function(*args, **kwargs), where)

    return bounded


class BoundedEnvironment(ImmutableSandboxedEnvironment):
    """ImmutableSandboxedEnvironment with the value limits of the module docstring."""

    intercepted_binops = frozenset({"*", "**", "%"})  # also keeps them from being folded at compile time

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.filters = {name: _bounded_filter(name, function) for name, function in self.filters.items()}
        self.globals = {name: value for name, value in self.globals.items() if name not in ("lipsum", "namespace")}
        self.globals["range"] = _bounded_range

    def call_binop(self, context: Context, operator_: str, left: Any, right: Any) -> Any:
        """``*``, ``**`` and ``%`` checked for the size of what they would make, before; OverBudget if over."""
        where = f"'{operator_}'"
        if operator_ == "*":
            sizes = [len(v) for v in (left, right) if isinstance(v, str | list | tuple)]
            counts = [v for v in (left, right) if isinstance(v, int)]
            if sizes and counts and sizes[0] * max(counts[0], 0) > MAX_VALUE:
                raise OverBudget(f"{where} makes a value of {sizes[0] * counts[0]:,} items; at most {MAX_VALUE:,}")
            if len(counts) == 2 and left.bit_length() + right.bit_length() > MAX_INT_BITS:
                raise OverBudget(f"{where} makes a number over {MAX_INT_BITS:,} bits")
        elif operator_ == "**" and isinstance(left, int) and isinstance(right, int):
            if right > 0 and abs(left) > 1 and left.bit_length() * right > MAX_INT_BITS:
                raise OverBudget(f"{where} makes a number over {MAX_INT_BITS:,} bits")
        elif operator_ == "%" and isinstance(left, str):
            _check_printf(left, where)
        return _check_value(self.binop_table[operator_](left, right), where)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format``/``format_map`` with their widths checked in the format string first; OverBudget if over."""
        wrapper = super().wrap_str_format(value)
        if wrapper is not None:
            _check_format(value.__self__, f"'{value.__name__}'")
        return wrapper

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Every call a template makes: arguments, widths and counts, then the value it returns, within budget."""
        where = f"calling {getattr(__obj, '__name__', type(__obj).__name__)}()"
        _check_arguments(args, kwargs, where)
        if isinstance(__obj, BuiltinMethodType):  # 'x'.ljust(n), 'x'.zfill(n): widths and counts
            _check_widths(args, kwargs, where)
        return _check_value(super().call(__context, __obj, *args, **kwargs), where)


class _Work:
    """The trace function counting template frames and lines against MAX_DEPTH, MAX_STEPS and MAX_SECONDS."""

    def __init__(self) -> None:
        self.steps = 0
        self.depth = 0  # template frames running: the render's own, and one per macro call
        self.deadline = time.monotonic() + MAX_SECONDS

    def enter(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename != TEMPLATE_FILE:
            return None
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise OverBudget(f"macros nested more than {MAX_DEPTH} deep")
        return self.line

    def line(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "return":  # also when leaving by an exception
            self.depth -= 1
        elif event == "line":
            self.steps += 1
            if self.steps > MAX_STEPS:
                raise OverBudget(f"more than {MAX_STEPS:,} steps (lines run, loop passes, macro calls)")
            if self.steps % 64 == 0 and time.monotonic() > self.deadline:
                raise OverBudget(f"more than {MAX_SECONDS:g} s of work")
        return self.line


def render(template: Template, values: Mapping[str, Any]) -> str:
    """``template`` rendered with ``values`` within the budget; OverBudget, or what the template raises."""
    work = _Work()
    previous = sys.gettrace()
    sys.settrace(work.enter)
    try:
        return _collected(template.generate(**values))
    finally:
        sys.settrace(previous)


def _collected(pieces: Iterator[str]) -> str:
    out: list[str] = []
    total = 0
    for piece in pieces:
        total += len(piece)
        if total > MAX_OUTPUT_CHARS:
            raise OverBudget(f"renders more than {MAX_OUTPUT_CHARS:,} characters")
        out.append(piece)
    return "".join(out)
