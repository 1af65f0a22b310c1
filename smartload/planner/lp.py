"""A small builder for sparse (mixed-integer) linear programs in scipy's milp form.

Variables are added in vectorised blocks, rows as COO triplets: building a model of tens
of thousands of non-zeros takes a few milliseconds instead of a Python loop per entry.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, OptimizeResult, linprog, milp

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# HiGHS options milp does not name, which it passes on verbatim (with a warning). Two of
# HiGHS's root heuristics find nothing on the planner's neighbourhoods that its sub-MIP
# does not find first: off, the narrow MILPs take about a third less time (3 cars) with
# the same plans. Cuts that leave the pool sooner keep the root's cut loop short, where
# HiGHS otherwise spends most of a hard neighbourhood's second (10 cars, grid limit).
_MILP_EXTRA_OPTIONS: dict[str, float | bool] = {
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_pool_age_limit": 5,
}


def _full(value: float | npt.ArrayLike, n: int) -> FloatArray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), (n,)).copy()


@dataclass
class LinearProgram:
    """min c·x subject to row_lb <= A x <= row_ub, lb <= x <= ub, some x integer."""

    _cost: list[FloatArray] = field(default_factory=list)
    _lb: list[FloatArray] = field(default_factory=list)
    _ub: list[FloatArray] = field(default_factory=list)
    _int: list[npt.NDArray[np.int8]] = field(default_factory=list)
    _rows: list[IntArray] = field(default_factory=list)
    _cols: list[IntArray] = field(default_factory=list)
    _vals: list[FloatArray] = field(default_factory=list)
    _row_lb: list[FloatArray] = field(default_factory=list)
    _row_ub: list[FloatArray] = field(default_factory=list)
    n_vars: int = 0
    n_rows: int = 0

    def add_vars(
        self,
        n: int,
        lb: float | npt.ArrayLike = 0.0,
        ub: float | npt.ArrayLike = np.inf,
        cost: float | npt.ArrayLike = 0.0,
        integer: bool = False,
    ) -> IntArray:
        """Add n variables; returns their column indices."""
        idx = np.arange(self.n_vars, self.n_vars + n, dtype=np.int64)
        self._lb.append(_full(lb, n))
        self._ub.append(_full(ub, n))
        self._cost.append(_full(cost, n))
        self._int.append(np.full(n, 1 if integer else 0, dtype=np.int8))
        self.n_vars += n
        return idx

    def add_rows(
        self,
        n: int,
        rows: npt.ArrayLike,
        cols: npt.ArrayLike,
        vals: npt.ArrayLike,
        lb: float | npt.ArrayLike,
        ub: float | npt.ArrayLike,
    ) -> IntArray:
        """Add n rows; rows holds local indices 0..n-1 of each (row, col, val) triplet."""
        rows_a = np.asarray(rows, dtype=np.int64)
        cols_a = np.asarray(cols, dtype=np.int64)
        vals_a = np.broadcast_to(np.asarray(vals, dtype=np.float64), rows_a.shape)
        self._rows.append(rows_a + self.n_rows)
        self._cols.append(cols_a)
        self._vals.append(vals_a.astype(np.float64))
        self._row_lb.append(_full(lb, n))
        self._row_ub.append(_full(ub, n))
        idx = np.arange(self.n_rows, self.n_rows + n, dtype=np.int64)
        self.n_rows += n
        return idx

    def freeze(self) -> FrozenProgram:
        def cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
            return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

        matrix = sparse.csr_array(
            (cat(self._vals, np.float64), (cat(self._rows, np.int64), cat(self._cols, np.int64))),
            shape=(self.n_rows, self.n_vars),
        )
        return FrozenProgram(
            cost=cat(self._cost, np.float64),
            lb=cat(self._lb, np.float64),
            ub=cat(self._ub, np.float64),
            integrality=cat(self._int, np.int8),
            matrix=matrix,
            row_lb=cat(self._row_lb, np.float64),
            row_ub=cat(self._row_ub, np.float64),
        )


@dataclass(frozen=True)
class Relaxation:
    """The LP relaxation's answer. reduced_cost[j]: how much the objective rises per unit
    that x[j] moves up from its lower bound (meaningful where x[j] sits at it)."""

    x: FloatArray | None
    objective: float
    reduced_cost: FloatArray | None
    status: int


@dataclass(frozen=True)
class FrozenProgram:
    cost: FloatArray
    lb: FloatArray
    ub: FloatArray
    integrality: npt.NDArray[np.int8]
    matrix: sparse.csr_array
    row_lb: FloatArray
    row_ub: FloatArray

    def violation(self, x: FloatArray) -> float:
        """The largest violation of any bound, row or integrality by x (0 when feasible)."""
        ax = self.matrix @ x
        worst = [
            np.max(self.lb - x, initial=0.0),
            np.max(x - self.ub, initial=0.0),
            np.max(self.row_lb - ax, initial=0.0),
            np.max(ax - self.row_ub, initial=0.0),
        ]
        ints = self.integrality.astype(bool)
        if ints.any():
            worst.append(float(np.max(np.abs(x[ints] - np.round(x[ints])), initial=0.0)))
        return float(max(worst))

    def objective(self, x: FloatArray) -> float:
        return float(self.cost @ x)

    def relax(self, time_limit_s: float, cost: FloatArray | None = None) -> Relaxation:
        """The LP relaxation by HiGHS through linprog, which (unlike milp) reports the
        reduced costs that tell which variables an integer solution may want to move.
        cost replaces the objective."""
        equal = self.row_lb == self.row_ub
        upper = ~equal & np.isfinite(self.row_ub)
        lower = ~equal & np.isfinite(self.row_lb)
        a_ub = sparse.vstack([self.matrix[upper], -self.matrix[lower]]).tocsr()
        result = linprog(
            self.cost if cost is None else cost,
            A_ub=a_ub,
            b_ub=np.r_[self.row_ub[upper], -self.row_lb[lower]],
            A_eq=self.matrix[equal],
            b_eq=self.row_lb[equal],
            bounds=np.c_[self.lb, self.ub],
            method="highs",
            options={"time_limit": max(time_limit_s, 1e-3)},
        )
        if result.status != 0 or result.x is None:
            return Relaxation(None, np.inf, None, int(result.status))
        return Relaxation(result.x, float(result.fun), np.asarray(result.lower.marginals), 0)

    def solve(
        self,
        time_limit_s: float,
        mip_rel_gap: float,
        *,
        relax: bool = False,
        lb: FloatArray | None = None,
        ub: FloatArray | None = None,
    ) -> OptimizeResult:
        """HiGHS through scipy.optimize.milp; relax drops integrality, lb/ub replace the bounds."""
        options: dict[str, float | bool] = {"time_limit": max(time_limit_s, 1e-3), "mip_rel_gap": mip_rel_gap,
                                            "disp": False}
        with warnings.catch_warnings():
            if not relax:
                warnings.filterwarnings("ignore", "Unrecognized options", RuntimeWarning)
                options.update(_MILP_EXTRA_OPTIONS)
            return milp(
                self.cost,
                integrality=np.zeros_like(self.integrality) if relax else self.integrality,
                bounds=Bounds(self.lb if lb is None else lb, self.ub if ub is None else ub),
                constraints=LinearConstraint(self.matrix, self.row_lb, self.row_ub),
                options=options,
            )
