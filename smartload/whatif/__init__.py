"""What-if cost simulation: a strategy drives the simulated site over real prices in virtual time.

    from smartload.whatif.runner import SimulationConfig, simulate
    report = simulate(SimulationConfig(strategy="smartload", start=date(2024, 1, 1), days=28,
                                       prices_csv=Path("prices.csv"), scenario="household"), settings)

Strategies (strategies/): uncontrolled, greedy (evcc's planner), smartload (the real
pipeline and planner against an in-process evcc, evcc_port.py), optimal (one perfect-
foresight plan for the whole period). Sites: a simulator scenario (household.py for what
its drivers announce) or ACN sessions on K wallboxes (sessions.py). metrics.py measures,
report.py writes the JSON, cli.py is `python -m smartload simulate`.
"""
