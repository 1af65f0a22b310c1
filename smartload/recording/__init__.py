"""Recordings: evcc polls written as JSON lines by the live service (recorder.py), read
back and replayed through the composed system in virtual time (replay.py), with the
JSON records of what happened (records.py) and the decision log both write."""
