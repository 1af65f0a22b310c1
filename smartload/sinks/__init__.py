"""The sink of the design card: the sequencer-and-planner sink (planning.py) settles the
requests (sequencer.py, requests.py, taper.py), has the pure planner (smartload.planner)
solve all cars and the battery (solver.py), and hands the plan's current slot to the
actuator (actuator.py), which writes what differs to evcc (desired.py: a plan as evcc
settings; evcc_keys.py: how each setting is read and written; restore_book.py: what to
put back on shutdown). The learned house load the planner is told lives in
house_profile.py."""
