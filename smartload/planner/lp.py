"""A small builder for sparse mixed-integer linear programs, solved by HiGHS (highspy).

Variables are added in vectorised blocks, rows as COO triplets: building a model of tens
of thousands of non-zeros takes a few milliseconds instead of a Python loop per entry.
The frozen program holds the matrix column-wise (CSC, duplicates summed), which is how
HiGHS stores it, and hands it over as flat arrays (Highs.passModel): no scipy at run time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from highspy import _core as highs

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# HiGHS options for the MILPs (not the LPs). Two of HiGHS's root heuristics find nothing
# on the planner's neighbourhoods that its sub-MIP does not find first: off, the narrow
# MILPs take about a third less time (3 cars) with the same plans. Cuts that leave the
# pool sooner keep the root's cut loop short, where HiGHS otherwise spends most of a hard
# neighbourhood's second (10 cars, grid limit).
_MILP_EXTRA_OPTIONS: dict[str, float | bool] = {
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_heuristic_run_feasibility_jump": False,
    "mip_pool_age_limit": 5,
}
# Status codes of SolveResult (scipy.optimize.milp's, which the planner was written against).
OPTIMAL, LIMIT, INFEASIBLE, UNBOUNDED, OTHER = 0, 1, 2, 3, 4
# kObjectiveTarget: a MILP stopped at an incumbent as good as the objective_target asked for.
_LIMITS = (highs.HighsModelStatus.kTimeLimit, highs.HighsModelStatus.kIterationLimit,
           highs.HighsModelStatus.kSolutionLimit, highs.HighsModelStatus.kInterrupt,
           highs.HighsModelStatus.kObjectiveTarget)
_BOUND_TOL = 1e-9
_COLWISE = 1
_MINIMIZE = 1


def _full(value: float | npt.ArrayLike, n: int) -> FloatArray:
    # Scalars and whole arrays without broadcast_to: a model build calls this hundreds of times.
    if isinstance(value, (int, float)):
        return np.full(n, value, dtype=np.float64)
    array = np.asarray(value, dtype=np.float64)
    if array.shape == (n,):
        return array.copy()
    return np.broadcast_to(array, (n,)).copy()


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

        matrix = SparseMatrix.from_triplets(cat(self._rows, np.int64), cat(self._cols, np.int64),
                                            cat(self._vals, np.float64), (self.n_rows, self.n_vars))
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
class SparseMatrix:
    """A column-wise (CSC) matrix: column j's entries are index[start[j]:start[j + 1]]
    (rows, ascending) and value[...]; row per entry, for products."""

    shape: tuple[int, int]
    start: npt.NDArray[np.int32]
    index: npt.NDArray[np.int32]
    value: FloatArray

    @classmethod
    def from_triplets(cls, rows: IntArray, cols: IntArray, vals: FloatArray, shape: tuple[int, int]) -> SparseMatrix:
        """Entries at the same (row, col) are summed (HiGHS refuses duplicates)."""
        key = cols * max(shape[0], 1) + rows
        order = np.argsort(key, kind="stable")
        key, vals = key[order], vals[order]
        first = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else np.zeros(0, dtype=np.int64)
        summed = np.add.reduceat(vals, first) if key.size else np.zeros(0)
        key = key[first]
        col = key // max(shape[0], 1)
        start = np.searchsorted(col, np.arange(shape[1] + 1), side="left").astype(np.int32)
        return cls(shape, start, (key - col * max(shape[0], 1)).astype(np.int32), summed.astype(np.float64))

    def dot(self, x: FloatArray) -> FloatArray:
        cols = np.repeat(np.arange(self.shape[1]), np.diff(self.start))
        return np.asarray(np.bincount(self.index, weights=self.value * x[cols], minlength=self.shape[0]),
                          dtype=np.float64)


@dataclass(frozen=True)
class Relaxation:
    """The LP relaxation's answer. reduced_cost[j]: how much the objective rises per unit
    that x[j] moves up from its lower bound (meaningful where x[j] sits at it)."""

    x: FloatArray | None
    objective: float
    reduced_cost: FloatArray | None
    status: int


@dataclass(frozen=True)
class SolveResult:
    """A MILP's (or LP's) answer: x None where HiGHS has no feasible point; fun its
    objective (nan without x); status OPTIMAL, LIMIT (time limit, x may be an incumbent),
    INFEASIBLE, UNBOUNDED or OTHER; mip_dual_bound the MILP's proven bound (None for an LP)."""

    x: FloatArray | None
    fun: float
    status: int
    mip_dual_bound: float | None

    @property
    def success(self) -> bool:
        return self.status == OPTIMAL


def _status(model_status: highs.HighsModelStatus) -> int:
    if model_status == highs.HighsModelStatus.kOptimal:
        return OPTIMAL
    if model_status in _LIMITS:
        return LIMIT
    if model_status == highs.HighsModelStatus.kInfeasible:
        return INFEASIBLE
    if model_status in (highs.HighsModelStatus.kUnbounded, highs.HighsModelStatus.kUnboundedOrInfeasible):
        return UNBOUNDED
    return OTHER


@dataclass(frozen=True)
class FrozenProgram:
    cost: FloatArray
    lb: FloatArray
    ub: FloatArray
    integrality: npt.NDArray[np.int8]
    matrix: SparseMatrix
    row_lb: FloatArray
    row_ub: FloatArray

    def violation(self, x: FloatArray) -> float:
        """The largest violation of any bound, row or integrality by x (0 when feasible)."""
        ax = self.matrix.dot(x)
        worst: list[float] = [
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

    def within(self, x: FloatArray, lb: FloatArray | None = None, ub: FloatArray | None = None) -> bool:
        """Whether x keeps to the bounds (default: the program's)."""
        lo = self.lb if lb is None else lb
        hi = self.ub if ub is None else ub
        return bool(np.all(x >= lo - _BOUND_TOL) and np.all(x <= hi + _BOUND_TOL))

    def _highs(self, time_limit_s: float, mip_rel_gap: float, *, relax: bool, lb: FloatArray | None = None,
               ub: FloatArray | None = None, cost: FloatArray | None = None) -> highs._Highs:
        """A HiGHS instance with the program loaded and the options set, not yet run."""
        h = highs._Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("time_limit", max(time_limit_s, 1e-3))
        h.setOptionValue("mip_rel_gap", mip_rel_gap)
        mip = not relax and bool(self.integrality.any())
        if mip:
            for key, value in _MILP_EXTRA_OPTIONS.items():
                h.setOptionValue(key, value)
        m = self.matrix
        status = h.passModel(
            m.shape[1], m.shape[0], int(m.value.size), _COLWISE, _MINIMIZE, 0.0,
            self.cost if cost is None else cost, self.lb if lb is None else lb, self.ub if ub is None else ub,
            self.row_lb, self.row_ub, m.start[:-1], m.index, m.value,
            self.integrality.astype(np.int32) if mip else np.zeros(m.shape[1], dtype=np.int32),
        )
        if status == highs.HighsStatus.kError:
            raise ValueError("HiGHS refused the model (a NaN or an inconsistent bound)")
        return h

    def relax(self, time_limit_s: float, cost: FloatArray | None = None) -> Relaxation:
        """The LP relaxation, with the reduced costs that tell which variables an integer
        solution may want to move (a column's dual where it sits at its lower bound, else
        0). cost replaces the objective."""
        return LpSession(self, cost).relax(time_limit_s)

    def session(self, cost: FloatArray | None = None, presolve: bool = True) -> LpSession:
        """The LP relaxation loaded once, for a series of LPs that differ in bounds.
        presolve: off where HiGHS's presolve removes little (see LpSession)."""
        return LpSession(self, cost, presolve)

    def solve(
        self,
        time_limit_s: float,
        mip_rel_gap: float,
        *,
        relax: bool = False,
        lb: FloatArray | None = None,
        ub: FloatArray | None = None,
        start: FloatArray | None = None,
        target: float | None = None,
    ) -> SolveResult:
        """The MILP (relax: its LP relaxation); lb/ub replace the bounds. start: a feasible
        point HiGHS starts from (a MIP start: its first incumbent), used only where it
        keeps to the bounds (HiGHS would drop it anyway). target: HiGHS stops (status
        LIMIT) at the first incumbent whose objective is at most this (objective_target)."""
        h = self._highs(time_limit_s, mip_rel_gap, relax=relax, lb=lb, ub=ub)
        if target is not None and not relax:
            h.setOptionValue("objective_target", target)
        if start is not None and not relax and self.within(start, lb, ub):
            solution = highs.HighsSolution()
            solution.col_value = start
            h.setSolution(solution)
        h.run()
        model_status = h.getModelStatus()
        info = h.getInfo()
        mip = not relax and bool(self.integrality.any())
        status = _status(model_status)
        # An LP's answer counts only when optimal; a MILP stopped by a limit keeps its incumbent.
        has_x = status == OPTIMAL or (mip and status == LIMIT and info.objective_function_value < highs.kHighsInf)
        if not has_x:
            return SolveResult(None, np.nan, status, None)
        x = np.asarray(h.getSolution().col_value, dtype=np.float64)
        # The objective of the x returned, not the one HiGHS reports: started from a MIP start,
        # HiGHS (1.16) can report its incumbent's objective and return the start's columns
        # (a 12-slot case: 2.80 reported, 13.10 returned), which would then pass for the better.
        return SolveResult(x, self.objective(x), status, float(info.mip_dual_bound) if mip else None)


class LpSession:
    """One HiGHS instance holding the program's LP relaxation (integrality dropped), re-solved
    after each change of bounds or cost from the basis it last found. The planner's LPs (the
    relaxation, the turn orders' and neighbourhoods' checks, the dive, the polish) differ in a few
    bounds: the dual simplex goes on from the last basis in a few iterations, where a new
    passModel would solve each from scratch (3 cars: 1-2 ms against 5-15 ms)."""

    def __init__(self, program: FrozenProgram, cost: FloatArray | None = None, presolve: bool = True) -> None:
        """presolve: HiGHS's presolve before the first LP (the later ones start from its
        basis and skip it). Without plug swaps to drop (each car at its own wallbox) it
        costs more than it saves: the relaxation takes 6.6 ms instead of 9.1 (3 cars),
        15 instead of 20 (10 cars; CPU, means over 10 days, load 2.9)."""
        self.program = program
        self._cost = (program.cost if cost is None else cost).copy()
        self._lb = program.lb.copy()
        self._ub = program.ub.copy()
        self._h = program._highs(1.0, 0.0, relax=True, cost=self._cost)
        if not presolve:
            self._h.setOptionValue("presolve", "off")

    def _set(self, lb: FloatArray, ub: FloatArray, cost: FloatArray) -> None:
        changed = np.flatnonzero((lb != self._lb) | (ub != self._ub)).astype(np.int32)
        if changed.size:
            self._h.changeColsBounds(int(changed.size), changed, lb[changed], ub[changed])
            self._lb[changed], self._ub[changed] = lb[changed], ub[changed]
        changed = np.flatnonzero(cost != self._cost).astype(np.int32)
        if changed.size:
            self._h.changeColsCost(int(changed.size), changed, cost[changed])
            self._cost[changed] = cost[changed]

    def _run(self, time_limit_s: float, lb: FloatArray | None, ub: FloatArray | None,
             cost: FloatArray | None) -> bool:
        program = self.program
        self._set(program.lb if lb is None else lb, program.ub if ub is None else ub,
                  self._cost if cost is None else cost)
        self._h.setOptionValue("time_limit", max(time_limit_s, 1e-3))
        self._h.run()
        return bool(self._h.getModelStatus() == highs.HighsModelStatus.kOptimal)

    def solve(self, time_limit_s: float, lb: FloatArray | None = None, ub: FloatArray | None = None,
              cost: FloatArray | None = None) -> SolveResult:
        """The LP with these bounds (None: the program's) and cost (None: the one in force)."""
        if not self._run(time_limit_s, lb, ub, cost):
            return SolveResult(None, np.nan, _status(self._h.getModelStatus()), None)
        return SolveResult(np.asarray(self._h.getSolution().col_value, dtype=np.float64),
                           float(self._h.getInfo().objective_function_value), OPTIMAL, None)

    def relax(self, time_limit_s: float) -> Relaxation:
        """The relaxation with the program's bounds and the session's cost, and its reduced
        costs (see FrozenProgram.relax)."""
        if not self._run(time_limit_s, None, None, None):
            return Relaxation(None, np.inf, None, _status(self._h.getModelStatus()))
        h = self._h
        solution = h.getSolution()
        lower = highs.HighsBasisStatus.kLower
        at_lower = np.fromiter((s is lower for s in h.getBasis().col_status), dtype=bool,
                               count=self.program.cost.size)
        reduced = np.where(at_lower, np.asarray(solution.col_dual, dtype=np.float64), 0.0)
        return Relaxation(np.asarray(solution.col_value, dtype=np.float64),
                          float(h.getInfo().objective_function_value), reduced, OPTIMAL)
