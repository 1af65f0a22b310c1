"""Persistence: one SQLite file in the data directory, behind one Database.

database.py opens it once per process (one connection policy: WAL, synchronous FULL,
foreign keys, one busy timeout) and brings its schema to the newest version
(schema.py: ordered migrations, the version in PRAGMA user_version). The stores take
that Database: requests.py (charge requests), house.py (the learned house load),
evcc_restore.py (what evcc had before smartload changed it), history.py with energy.py
(SoC readings, plans, events, energy and cost per quarter-hour, kept for the retention).
datadir.py keeps the directory private and owned by one instance at a time.
"""
