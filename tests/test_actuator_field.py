"""The actuator at a real site: writes evcc accepts but does not apply, the battery mode's
keep-alive, plug swaps between two polls, and restoring what smartload changed after a
crash (a real SQLite file)."""

from __future__ import annotations

from dataclasses import replace

from smartload.domain import BatteryState, ChargeMode, LoadpointState, SiteState
from smartload.settings import ControlSettings
from smartload.sinks.actuator import Actuator, NotApplied, Notice, Override, SessionChange, Write, WriteOutcome
from smartload.sinks.desired import Intent
from smartload.store.database import Database
from smartload.store.evcc_restore import EvccRestoreStore
from tests.builders import at


class Evcc:
    """A minimal evcc: applies what smartload writes, unless told not to."""

    def __init__(self, battery_controllable: bool = True) -> None:
        self.lp = LoadpointState(id=1, connected=True, vehicle_name="zoe", mode=ChargeMode.PV, limit_soc_pct=0,
                                 max_current_a=16, session_energy_wh=100.0)
        self.battery_mode = "normal"
        self.controllable = battery_controllable
        self.sent: list[Write] = []
        self.notices: list[Notice] = []

    def state(self, seconds: float) -> SiteState:
        return SiteState(at=at(seconds), loadpoints=(self.lp,),
                         battery=BatteryState(power_w=0, soc_pct=50, capacity_kwh=10, mode=self.battery_mode))

    def apply(self, write: Write) -> None:
        if write.key == "batterymode":
            if self.controllable:
                self.battery_mode = write.value or "normal"
            return
        setting = write.key.split(".", 1)[1]
        if setting == "mode":
            self.lp = replace(self.lp, mode=ChargeMode(write.value))
        elif setting == "limitsoc":
            self.lp = replace(self.lp, limit_soc_pct=float(write.value or 0))
        elif setting == "maxcurrent":
            self.lp = replace(self.lp, max_current_a=float(write.value or 0))


def actuator(evcc: Evcc, store: EvccRestoreStore | None = None) -> Actuator:
    queue: list[Write] = []
    act = Actuator(ControlSettings(), restore_store=store)
    act.outbox.subscribe(queue.append)
    act.notices.subscribe(evcc.notices.append)

    def poll(seconds: float) -> list[str]:
        act.on_state(evcc.state(seconds))
        done = []
        while queue:
            write = queue.pop(0)
            evcc.apply(write)
            evcc.sent.append(write)
            act.ack(WriteOutcome(write, at(seconds)))
            done.append(f"{write.kind} {write.method} {write.path}")
        return done

    act.poll = poll  # type: ignore[attr-defined]
    return act


ZOE = {"lp1.mode": Intent("now", "cheap", "zoe"), "lp1.limitsoc": Intent("80", "target", "zoe")}


def test_a_battery_mode_evcc_does_not_apply_is_reported_once_and_not_sent_in_a_loop():
    evcc = Evcc(battery_controllable=False)
    act = actuator(evcc)
    act.set_desired({"batterymode": Intent("hold", "kept for the evening")})
    assert act.poll(0) == ["change POST /api/batterymode/hold"]
    assert act.poll(10) == []
    assert act.poll(20) == []  # second poll without it: not applied
    [notice] = evcc.notices
    assert notice == NotApplied("batterymode", at(20), "hold", "normal")
    for seconds in range(30, 600, 10):
        assert act.poll(seconds) == []  # neither a keep-alive nor another try
    assert len(evcc.notices) == 1
    # A different mode is a new request evcc may apply; hand-back still happens once.
    act.set_desired({"batterymode": Intent("charge", "cheap hour")})
    assert act.poll(600) == ["change POST /api/batterymode/charge"]
    act.set_desired({"batterymode": Intent("normal", "battery runs on its own")})
    assert act.poll(610) == ["change DELETE /api/batterymode"]
    assert act.poll(620) == []
    # The plan asks for hold again an hour later: evcc did not apply it, so it is not sent
    # (nor told again) for six hours; after them it is tried once more.
    act.set_desired({"batterymode": Intent("hold", "kept for the evening")})
    assert [act.poll(s) for s in (3600, 3610, 3620)] == [[], [], []]
    assert act.poll(20 + 6 * 3600) == ["change POST /api/batterymode/hold"]
    assert [n.written for n in evcc.notices] == ["hold"]  # charge was replaced within one poll


def test_the_battery_mode_keep_alive_is_its_own_kind():
    evcc = Evcc()
    act = actuator(evcc)
    act.set_desired({"batterymode": Intent("hold", "kept for the evening")})
    assert act.poll(0) == ["change POST /api/batterymode/hold"]
    assert act.poll(10) == [] and act.poll(20) == []
    assert act.poll(30) == ["keepalive POST /api/batterymode/hold"]
    evcc.battery_mode = "normal"  # evcc let it expire (a keep-alive missed)
    assert act.poll(40) == ["change POST /api/batterymode/hold"]
    assert evcc.notices == []


def test_a_loadpoint_write_evcc_does_not_show_is_reported_once():
    evcc = Evcc()
    act = actuator(evcc)
    act.set_desired({"lp1.maxcurrent": Intent("17", "above what the wallbox takes", "zoe")})
    assert act.poll(0) == ["change POST /api/loadpoints/1/maxcurrent/17"]
    evcc.lp = replace(evcc.lp, max_current_a=16)  # evcc clamps to the charger's maximum
    assert [act.poll(s) for s in (10, 20, 30, 90, 300)] == [[], [], [], [], []]
    assert evcc.notices == [NotApplied("lp1.maxcurrent", at(20), "17", "16")]


def test_a_swap_between_two_polls_is_not_an_override_and_the_new_car_gets_its_settings():
    evcc = Evcc()
    act = actuator(evcc)
    act.set_desired(ZOE)
    assert act.poll(0) == ["change POST /api/loadpoints/1/mode/now", "change POST /api/loadpoints/1/limitsoc/80"]
    assert act.poll(10) == []  # confirmed
    # zoe out, ioniq in between two polls: evcc resets the session limit and identifies.
    evcc.lp = replace(evcc.lp, vehicle_name="", vehicle_detection_active=True, limit_soc_pct=0, session_energy_wh=0)
    assert act.poll(20) == []  # the plan for zoe is not applied to the car that came
    evcc.lp = replace(evcc.lp, vehicle_name="ioniq", vehicle_detection_active=False)
    assert act.poll(50) == []
    assert act.overrides == [] and act.paused == {}
    assert evcc.notices == [SessionChange(1, at(20), "zoe", "")]
    act.set_desired({"lp1.mode": Intent("now", "cheap", "ioniq"), "lp1.limitsoc": Intent("80", "target", "ioniq")})
    assert act.poll(60) == ["change POST /api/loadpoints/1/limitsoc/80"]  # what evcc reset, written again
    assert act.poll(70) == []


def test_the_same_car_plugged_in_again_between_two_polls_is_a_new_session():
    evcc = Evcc()
    act = actuator(evcc)
    act.set_desired(ZOE)
    act.poll(0)
    evcc.lp = replace(evcc.lp, session_energy_wh=2500.0)
    assert act.poll(10) == []
    evcc.lp = replace(evcc.lp, session_energy_wh=0.0, limit_soc_pct=0)  # replugged: evcc reset the session
    assert act.poll(20) == ["change POST /api/loadpoints/1/limitsoc/80"]
    assert act.overrides == []
    assert evcc.notices == [SessionChange(1, at(20), "zoe", "zoe")]


def test_a_change_no_vehicle_change_explains_is_an_override():
    evcc = Evcc()
    act = actuator(evcc)
    act.set_desired(ZOE)
    act.poll(0)
    act.poll(10)
    evcc.lp = replace(evcc.lp, mode=ChargeMode.PV)  # a person in evcc's UI
    assert act.poll(20) == []
    assert act.overrides == [Override(1, "lp1.mode", at(20), "now", "pv")]
    assert act.poll(30) == []  # paused


def test_restore_skips_what_a_person_changed_and_keeps_nothing_of_smartloads_behind():
    evcc = Evcc()
    act = actuator(evcc)
    act.set_desired(ZOE)
    act.poll(0)
    act.poll(10)
    evcc.lp = replace(evcc.lp, mode=ChargeMode.MINPV)  # the person's choice: paused
    act.poll(20)
    restores = [f"{w.kind} {w.method} {w.path}" for w in act.restore_writes(evcc.state(30))]
    # smartload's own limit does not stay in evcc; the person's mode does.
    assert restores == ["restore POST /api/loadpoints/1/limitsoc/0"]


def test_what_to_restore_survives_a_crash_in_the_data_directory(tmp_path):
    path = tmp_path / "smartload.db"
    evcc = Evcc()
    with Database.open(path) as killed, Database.open(path) as next_run:
        first = actuator(evcc, EvccRestoreStore(killed))
        first.set_desired({**ZOE, "lp1.maxcurrent": Intent("10", "6.9 kW", "zoe")})
        first.poll(0)
        first.set_desired({**ZOE, "lp1.maxcurrent": Intent("12", "8.3 kW", "zoe")})
        first.poll(60)
        # kill -9: nothing of `first` runs again. The next run starts from the file.
        store = EvccRestoreStore(next_run)
        second = actuator(evcc, store)
        assert second.original("lp1.maxcurrent") == "16"
        restores = [f"{w.method} {w.path}" for w in second.restore_writes(evcc.state(120))]
        assert restores == ["POST /api/loadpoints/1/limitsoc/0", "POST /api/loadpoints/1/maxcurrent/16",
                            "POST /api/loadpoints/1/mode/pv"]
        second.restored(failed={"lp1.mode"})
        assert store.load() == {"lp1.mode": ("pv", "now", None)}


def test_a_write_evcc_took_just_before_the_run_was_killed_is_restored_by_the_next(tmp_path):
    """evcc applied 6 A, the run was killed before its answer was kept. The next run wants
    6 A too and evcc shows it, so it writes nothing: only the value kept as on its way
    says the 6 A is smartload's, and its clean stop puts evcc's 16 A back."""
    path = tmp_path / "smartload.db"
    evcc = Evcc()
    six = {"lp1.maxcurrent": Intent("6", "4.1 kW", "zoe")}
    with Database.open(path) as killed, Database.open(path) as next_run:
        first = Actuator(ControlSettings(), restore_store=EvccRestoreStore(killed))
        sent: list[Write] = []
        first.outbox.subscribe(sent.append)
        first.set_desired(six)
        first.on_state(evcc.state(0))
        [write] = sent
        evcc.apply(write)  # and no ack: kill -9
        assert EvccRestoreStore(next_run).load() == {"lp1.maxcurrent": ("16", None, "6")}
        second = actuator(evcc, EvccRestoreStore(next_run))
        second.set_desired(six)
        assert second.poll(60) == []
        restores = [f"{w.method} {w.path}" for w in second.restore_writes(evcc.state(120))]
        assert restores == ["POST /api/loadpoints/1/maxcurrent/16"]


def test_keep_alives_of_an_acknowledged_value_leave_the_data_directory_alone(tmp_path):
    saved: list[tuple[str, str | None, str | None, str | None]] = []

    class Counting(EvccRestoreStore):
        def save(self, key: str, original: str | None, ours: str | None, sent: str | None) -> None:
            saved.append((key, original, ours, sent))
            super().save(key, original, ours, sent)

    evcc = Evcc()
    with Database.open(tmp_path / "smartload.db") as db:
        act = actuator(evcc, Counting(db))
        act.set_desired({"batterymode": Intent("hold", "kept for the evening")})
        act.poll(0)
        assert saved == [("batterymode", "normal", None, "hold"), ("batterymode", "normal", "hold", None)]
        written = len(evcc.sent)
        for seconds in range(10, 3600, 10):
            act.poll(seconds)
        assert len(evcc.sent) > written  # keep-alives went out
        assert len(saved) == 2


def test_a_value_evcc_did_not_apply_is_tried_again_after_six_hours_once():
    evcc = Evcc(battery_controllable=False)
    act = actuator(evcc)
    act.set_desired({"batterymode": Intent("hold", "kept for the evening")})
    assert act.poll(0) == ["change POST /api/batterymode/hold"]
    assert act.poll(10) == [] and act.poll(20) == []  # not shown in two polls: not applied
    assert [act.poll(s) for s in range(600, 6 * 3600, 600)] == [[]] * 35  # the plan keeps asking
    assert act.poll(6 * 3600 + 20) == ["change POST /api/batterymode/hold"]  # evcc may apply it now
    assert [act.poll(6 * 3600 + s) for s in (30, 40, 50, 600)] == [[], [], [], []]
    assert len(evcc.notices) == 1  # told once, not at every try


def test_a_poll_counts_once_however_often_the_actuator_looks_at_it():
    evcc = Evcc(battery_controllable=False)
    act = actuator(evcc)
    act.set_desired({"batterymode": Intent("hold", "kept for the evening")})
    act.poll(0)
    for _ in range(3):  # a plan made right after the poll at 10 s looks at it again
        act.poll(10)
    assert evcc.notices == []
    act.poll(20)
    assert [n.at for n in evcc.notices] == [at(20)]


def test_a_value_evcc_shows_as_unknown_for_a_poll_is_no_change_by_a_person():
    evcc = Evcc()
    act = actuator(evcc)
    act.set_desired({"lp1.maxcurrent": Intent("10", "6.9 kW", "zoe")})
    assert act.poll(0) == ["change POST /api/loadpoints/1/maxcurrent/10"]
    act.poll(10)
    evcc.lp = replace(evcc.lp, max_current_a=None)  # dropped by the parser as impossible
    assert act.poll(20) == []
    evcc.lp = replace(evcc.lp, max_current_a=10)
    assert act.poll(30) == []
    assert act.overrides == [] and act.paused == {} and evcc.notices == []
