"""The decision-log sink: one structured log line per decision trigger."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from loguru import logger

from smartload.domain import Snapshot
from smartload.recording.records import snapshot_record


def _age(reading: dict[str, Any]) -> str:
    return "age unknown" if reading["age_s"] is None else f"{reading['age_s'] / 60:.0f} min old"


def _summary(record: dict[str, Any]) -> str:
    socs = ", ".join(f"{v} {r['soc_pct']:.0f}% ({r['source']}, {_age(r)})" for v, r in record["socs"].items())
    price = record["tariffs"]["grid_price_now"]
    evcc = record["evcc"]
    plugged = (
        ", ".join(f"lp{lp['id']}: {lp['vehicle'] or 'guest'}" for lp in evcc["loadpoints"]
                  if lp["connected"] and not lp.get("device"))
        if evcc
        else "evcc not reached yet"
    )
    price_text = f"{price:.3f}/kWh" if price is not None else "unknown"
    return (
        f"decision {record['at']} ({record['reason']}): grid price {price_text}, "
        f"{record['tariffs']['grid_slots']} slots ahead; plugged: {plugged or 'none'}; SoC: {socs or 'none'}"
    )


class DecisionLogSink:
    name = "decision-log"

    def __init__(self, write: Callable[[dict[str, Any]], None] | None = None) -> None:
        self._write = write

    def on_snapshot(self, snapshot: Snapshot) -> None:
        record = snapshot_record(snapshot)
        if self._write is not None:
            self._write(record)
        logger.bind(kind="decision", decision=record).info(_summary(record))

    def close(self) -> None:
        return None
