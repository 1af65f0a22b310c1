"""The config topics the bridge last announced, kept in the data directory, so that the ones
it no longer announces are cleared even where the broker's wildcard cannot find them: a
changed unique-id prefix or discovery prefix, or discovery turned off."""

from __future__ import annotations

import json
import os
from pathlib import Path

from loguru import logger

FILE = "homeassistant_configs.json"
log = logger.bind(component="mqtt")


class PublishedConfigs:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / FILE

    def load(self) -> set[str]:
        """The topics recorded; none from a file that is missing or unreadable (it only
        helps clean up, so a bad one is reported and replaced, not fatal)."""
        try:
            loaded = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as exc:
            log.warning("{}: unreadable ({}); entities announced before may stay in Home Assistant", self.path, exc)
            return set()
        topics = loaded.get("topics") if isinstance(loaded, dict) else None
        if not isinstance(topics, list) or not all(isinstance(t, str) for t in topics):
            log.warning("{}: not a list of topics; entities announced before may stay in Home Assistant", self.path)
            return set()
        return set(topics)

    def save(self, topics: set[str]) -> None:
        """Record the topics; a data directory that cannot be written costs only the
        clean-up, so it is reported, not raised."""
        partial = self.path.with_name(f".{FILE}.partial")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps({"topics": sorted(topics)}, indent=1) + "\n", encoding="utf-8")
            os.replace(partial, self.path)  # a crash leaves the old list or the new one
        except OSError as exc:
            log.warning("{}: cannot record the announced entities ({})", self.path, exc)
