"""Evaluate a GX pandas ``row_condition`` on an Arrow record batch, with pandas' own semantics.

GX 1.x filters a pandas batch with ``frame.query(condition)`` (python engine: numexpr is not
installed). This module parses the condition with :mod:`ast` and evaluates the subset the project's
suites use on the Arrow columns, without building a pandas frame:

- column names, int/float/str/bool constants, ``+ - * / // %``, unary ``-`` and ``~``/``not``,
  one comparison per node (``== != < <= > >=``), ``and``/``or`` (and ``&``/``|``);
- ``col.isna()``, ``col.notna()`` (also ``isnull``/``notnull``);
- ``col.dt.tz_convert(tz)`` then ``.dt.strftime(fmt)``, ``.dt.month``, ``.dt.hour``, ``.dt.minute``,
  ``.dt.day``, ``.dt.weekday``; ``col.astype('datetime64[ns]')`` on ISO date strings.

Anything else raises :class:`UnsupportedCondition`: refusing is better than guessing.

Null semantics follow pandas. A column keeps the dtype ``pyarrow``'s ``to_pandas`` gives it (see
``pandas_dtypes``): numpy floats (NaN: ``!=`` is true, every other comparison false), numpy ints and
bools (no nulls), masked extension dtypes such as ``Int64`` (NA propagates through arithmetic and
comparisons, ``and``/``or`` follow Kleene logic, a NaN meeting a masked operand becomes NA), object
strings (a missing value is unequal to everything). The final mask keeps rows that are true: NA
counts as false, as in ``DataFrame.query``.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from include.common.parquet_batches import is_text


class UnsupportedCondition(ValueError):
    """The condition uses syntax or a function this evaluator does not implement."""


@dataclass(frozen=True)
class Num:
    """Numeric or boolean values as pandas holds them: ``mask`` marks NA of masked (extension) dtypes."""

    data: np.ndarray
    mask: np.ndarray | None = None


Value: TypeAlias = "Num | pa.Array | int | float | str | bool"

MASKED = {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float32", "Float64",
          "boolean"}
ARITHMETIC: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.BitAnd: operator.and_, ast.BitOr: operator.or_}
COMPARISONS: dict[type[ast.cmpop], tuple[Callable[[Any, Any], Any], str]] = {
    ast.Eq: (operator.eq, "equal"), ast.NotEq: (operator.ne, "not_equal"), ast.Lt: (operator.lt, "less"),
    ast.LtE: (operator.le, "less_equal"), ast.Gt: (operator.gt, "greater"),
    ast.GtE: (operator.ge, "greater_equal")}
DT_FIELDS = {"month": pc.month, "hour": pc.hour, "minute": pc.minute, "day": pc.day, "weekday": pc.day_of_week,
             "dayofweek": pc.day_of_week, "year": pc.year}


def pandas_dtypes(schema: pa.Schema, has_nulls: dict[str, bool]) -> dict[str, str]:
    """The dtype name each column gets from ``pyarrow``'s ``to_pandas`` (pandas metadata included):
    numpy ints with nulls become ``float64``, numpy bools with nulls ``object``."""
    dtypes = {name: str(dtype) for name, dtype in schema.empty_table().to_pandas().dtypes.items()}
    for name, dtype in dtypes.items():
        if has_nulls.get(name):
            if dtype.startswith(("int", "uint")):
                dtypes[name] = "float64"
            elif dtype == "bool":
                dtypes[name] = "object"
    return dtypes


def column_value(array: pa.Array, dtype: str) -> Value:
    """A column as the evaluator holds it: numbers and bools as ``Num``, strings and timestamps as Arrow."""
    if dtype in MASKED:
        filler = False if pa.types.is_boolean(array.type) else 0
        data = array.fill_null(filler).to_numpy(zero_copy_only=False)
        return Num(data, array.is_null().to_numpy(zero_copy_only=False))
    if dtype.startswith("float"):
        return Num(array.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))
    if dtype.startswith(("int", "uint")) or dtype == "bool":
        return Num(array.to_numpy(zero_copy_only=False))
    return array


def truthy(value: Value, rows: int) -> np.ndarray:
    """The rows a condition keeps (NA counts as false)."""
    if not isinstance(value, Num) or value.data.dtype != np.bool_:
        raise UnsupportedCondition("the condition does not evaluate to booleans")
    return value.data & ~value.mask if value.mask is not None else value.data


def evaluate(condition: str, columns: Callable[[str], Value], rows: int) -> np.ndarray:
    """The boolean row mask of ``condition`` (a pandas query string); ``columns`` returns a column's value."""
    try:
        tree = ast.parse(condition.strip(), mode="eval")
    except SyntaxError as error:
        raise UnsupportedCondition(f"cannot parse {condition!r}: {error}") from error
    return truthy(Evaluator(columns).visit(tree.body), rows)


def condition_columns(condition: str) -> set[str]:
    """Every name the condition reads (its columns; method names are attributes, not names)."""
    return {node.id for node in ast.walk(ast.parse(condition.strip(), mode="eval")) if isinstance(node, ast.Name)}


def merged_mask(*values: Any) -> np.ndarray | None:
    """pandas: once a masked operand is involved, NA propagates and numpy NaN becomes NA too."""
    nums = [v for v in values if isinstance(v, Num)]
    if not any(v.mask is not None for v in nums):
        return None
    mask: np.ndarray | None = None
    for value in nums:
        part = value.mask if value.mask is not None else (
            np.isnan(value.data) if value.data.dtype.kind == "f" else None)
        if part is not None:
            mask = part if mask is None else mask | part
    return mask


def raw(value: Any) -> Any:
    return value.data if isinstance(value, Num) else value


class Evaluator(ast.NodeVisitor):
    """Evaluates one parsed condition node by node (see the module docstring for the subset)."""

    def __init__(self, columns: Callable[[str], Value]) -> None:
        self.columns = columns

    def generic_visit(self, node: ast.AST) -> Any:
        raise UnsupportedCondition(f"unsupported syntax {type(node).__name__}: {ast.unparse(node)!r}")

    def visit_Name(self, node: ast.Name) -> Value:
        if node.id in ("True", "False"):
            return node.id == "True"
        return self.columns(node.id)

    def visit_Constant(self, node: ast.Constant) -> Value:
        if not isinstance(node.value, (int, float, str, bool)):
            raise UnsupportedCondition(f"unsupported constant {node.value!r}")
        return node.value

    def visit_BinOp(self, node: ast.BinOp) -> Value:
        left, right = self.visit(node.left), self.visit(node.right)
        if type(node.op) not in ARITHMETIC or isinstance(left, pa.Array) or isinstance(right, pa.Array):
            raise UnsupportedCondition(f"unsupported operation {ast.unparse(node)!r}")
        if isinstance(node.op, (ast.BitAnd, ast.BitOr)):
            return self.logical(node.op, left, right)
        with np.errstate(all="ignore"):
            data = ARITHMETIC[type(node.op)](raw(left), raw(right))
        if not isinstance(data, np.ndarray):
            return data
        return Num(data, merged_mask(left, right))

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Value:
        operand = self.visit(node.operand)
        if isinstance(node.op, ast.USub) and isinstance(operand, Num):
            return Num(-operand.data, operand.mask)
        if isinstance(node.op, (ast.Not, ast.Invert)) and isinstance(operand, Num) and operand.data.dtype == np.bool_:
            return Num(~operand.data, operand.mask)
        if isinstance(node.op, ast.USub) and isinstance(operand, (int, float)):
            return -operand
        raise UnsupportedCondition(f"unsupported operation {ast.unparse(node)!r}")

    def visit_BoolOp(self, node: ast.BoolOp) -> Value:
        result = self.visit(node.values[0])
        for value in node.values[1:]:
            result = self.logical(ast.BitAnd() if isinstance(node.op, ast.And) else ast.BitOr(), result,
                                  self.visit(value))
        return result

    @staticmethod
    def logical(op: ast.operator, left: Any, right: Any) -> Num:
        """Elementwise ``&``/``|`` with Kleene logic for NA (pandas' masked booleans)."""
        if not (isinstance(left, Num) and isinstance(right, Num)):
            raise UnsupportedCondition("and/or need boolean columns on both sides")
        conjunction = isinstance(op, ast.BitAnd)
        data = left.data & right.data if conjunction else left.data | right.data
        if left.mask is None and right.mask is None:
            return Num(data)
        lmask = left.mask if left.mask is not None else np.zeros(len(data), bool)
        rmask = right.mask if right.mask is not None else np.zeros(len(data), bool)
        if conjunction:  # NA unless one side is a known False
            decided = (~lmask & ~left.data) | (~rmask & ~right.data)
        else:  # NA unless one side is a known True
            decided = (~lmask & left.data) | (~rmask & right.data)
        mask = (lmask | rmask) & ~decided
        return Num(np.where(mask, False, data), mask)

    def visit_Compare(self, node: ast.Compare) -> Value:
        if len(node.ops) != 1 or type(node.ops[0]) not in COMPARISONS:
            raise UnsupportedCondition(f"unsupported comparison {ast.unparse(node)!r}")
        left, right = self.visit(node.left), self.visit(node.comparators[0])
        numpy_op, arrow_name = COMPARISONS[type(node.ops[0])]
        if isinstance(left, pa.Array) or isinstance(right, pa.Array):
            if isinstance(left, Num) or isinstance(right, Num):
                raise UnsupportedCondition(f"comparison of a text/time column with numbers: {ast.unparse(node)!r}")
            # object columns: a missing value is unequal to everything
            result = getattr(pc, arrow_name)(decoded(left), decoded(right))
            return Num(result.fill_null(arrow_name == "not_equal").to_numpy(zero_copy_only=False))
        with np.errstate(invalid="ignore"):
            data = numpy_op(raw(left), raw(right))
        if not isinstance(data, np.ndarray):
            raise UnsupportedCondition(f"a comparison of constants: {ast.unparse(node)!r}")
        mask = merged_mask(left, right)
        return Num(np.where(mask, False, data) if mask is not None else data, mask)

    def visit_Attribute(self, node: ast.Attribute) -> Value:
        if isinstance(node.value, ast.Attribute) and node.value.attr == "dt" and node.attr in DT_FIELDS:
            field = DT_FIELDS[node.attr]
            return numeric(by_distinct(self.timestamps(node.value.value), field))
        raise UnsupportedCondition(f"unsupported attribute {ast.unparse(node)!r}")

    def visit_Call(self, node: ast.Call) -> Value:
        func = node.func
        if not isinstance(func, ast.Attribute) or node.keywords:
            raise UnsupportedCondition(f"unsupported call {ast.unparse(node)!r}")
        args = [self.visit(arg) for arg in node.args]
        if func.attr in ("isna", "isnull", "notna", "notnull") and not args:
            return Num(self.missing(self.visit(func.value)) ^ func.attr.startswith("not"))
        if isinstance(func.value, ast.Attribute) and func.value.attr == "dt":
            if func.attr == "tz_convert" and len(args) == 1 and isinstance(args[0], str):
                times = self.timestamps(func.value.value)
                return times.cast(pa.timestamp(times.type.unit, args[0]))
            if func.attr == "strftime" and len(args) == 1 and isinstance(args[0], str):
                fmt = args[0]
                return by_distinct(self.timestamps(func.value.value), lambda t: pc.strftime(t, format=fmt))
        if func.attr == "astype" and args in (["datetime64[ns]"], ["datetime64"]):
            text = self.visit(func.value)
            if isinstance(text, pa.Array) and is_text(text.type):
                return by_distinct(text, iso_dates)
        raise UnsupportedCondition(f"unsupported call {ast.unparse(node)!r}")

    def timestamps(self, node: ast.expr) -> pa.Array:
        value = self.visit(node)
        if isinstance(value, pa.Array) and pa.types.is_timestamp(value.type):
            return value
        raise UnsupportedCondition(f"{ast.unparse(node)!r} is not a datetime column")

    @staticmethod
    def missing(value: Value) -> np.ndarray:
        if isinstance(value, Num):
            if value.mask is not None:
                return value.mask
            return np.isnan(value.data) if value.data.dtype.kind == "f" else np.zeros(len(value.data), bool)
        if isinstance(value, pa.Array):
            return value.is_null(nan_is_null=True).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]
        raise UnsupportedCondition("isna()/notna() of a constant")


def by_distinct(array: pa.Array, function: Callable[[pa.Array], pa.Array]) -> pa.Array:
    """``function`` applied to the distinct values only (dates and hours repeat a lot), spread back."""
    if pa.types.is_dictionary(array.type):
        return function(array.dictionary).take(array.indices)
    if len(array) < 4096:
        return function(array)
    encoded = pc.dictionary_encode(array)
    return function(encoded.dictionary).take(encoded.indices)


def decoded(value: Any) -> Any:
    """A dictionary-encoded Arrow array as plain values (Parquet text columns are read encoded)."""
    return value.dictionary_decode() if isinstance(value, pa.Array) and pa.types.is_dictionary(value.type) else value


class ConditionError(ValueError):
    """The condition is supported but fails on these values (pandas raises too: GX reports an error)."""


def iso_dates(text: pa.Array) -> pa.Array:
    """``astype('datetime64[ns]')`` of ``YYYY-MM-DD`` strings; other spellings or impossible dates raise."""
    parsed = pc.strptime(text, format="%Y-%m-%d", unit="ns", error_is_null=True)
    back = pc.strftime(parsed, format="%Y-%m-%d")
    if parsed.null_count > text.null_count or pc.all(pc.equal(back, text)).as_py() not in (True, None):
        raise ConditionError("values that are not ISO dates (YYYY-MM-DD) cannot be parsed as dates")
    return parsed


def numeric(array: pa.Array) -> Num:
    """Date parts as pandas returns them: ints, or floats with NaN where the time is missing."""
    if array.null_count:
        return Num(array.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False))
    return Num(array.to_numpy(zero_copy_only=False))
