"""What is told and when, in virtual time: exact texts, one message per handoff, a risk
told once per departure, evcc down only after the grace time, and no storms."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from smartload.notify.rules import Alerts, Message
from smartload.settings.notify import NotifySettings
from smartload.sinks.sequencer import Handoff
from tests.web.builders import BERLIN, NOW, plan

TITLES = {"zoe": "Renault Zoe", "ioniq": "Hyundai Ioniq 5"}
SETTINGS = NotifySettings(webhook={"url": "http://127.0.0.1:1/hook"}, evcc_unreachable_after=timedelta(minutes=10),
                          min_interval=timedelta(hours=1), max_per_hour=3)


def alerts(**changes: object) -> Alerts:
    return Alerts(SETTINGS.model_copy(update=changes), BERLIN, TITLES)


def test_a_handoff_is_told_once_with_the_car_the_wallbox_and_the_time():
    rules = alerts()
    handoff = Handoff(1, "ioniq", NOW + timedelta(hours=1), "zoe", NOW)
    assert rules.handoff(handoff) == [Message(
        "handoff", "Plug in Hyundai Ioniq 5",
        "Plug in Hyundai Ioniq 5 at wallbox 1 by 21:00, unplug Renault Zoe first.", NOW, "ioniq", 4)]
    assert rules.handoff(replace(handoff, at=NOW + timedelta(minutes=15))) == []
    later = rules.handoff(Handoff(1, "ioniq", NOW + timedelta(hours=2), None, NOW + timedelta(minutes=30)))
    assert [m.text for m in later] == ["Plug in Hyundai Ioniq 5 at wallbox 1 by 22:00."]


def test_a_target_at_risk_is_told_once_per_departure_and_again_only_after_the_interval():
    rules = alerts()
    risky = plan()
    [zoe, ioniq] = rules.plan(risky, NOW)
    assert zoe.text == ("Renault Zoe may miss 80 % by 07:00, about 55 % by then (13.0 kWh short). "
                        "charges 5.5 kWh in the cheapest slots")
    assert (zoe.kind, zoe.title, ioniq.vehicle) == ("at-risk", "Renault Zoe may miss its target", "ioniq")
    assert rules.plan(risky, NOW + timedelta(minutes=15)) == []  # still the same risk
    fine = replace(risky, cars={"zoe": replace(risky.cars["zoe"], shortfall_kwh=0.0)})
    assert rules.plan(fine, NOW + timedelta(minutes=30)) == []
    assert rules.plan(risky, NOW + timedelta(minutes=45)) == []  # back, but told 45 min ago
    assert rules.plan(fine, NOW + timedelta(minutes=50)) == []
    assert [m.vehicle for m in rules.plan(risky, NOW + timedelta(minutes=61))] == ["zoe"]


def test_evcc_down_is_told_after_the_grace_time_and_its_return_once():
    rules = alerts()
    assert rules.evcc(NOW, False) == []
    assert rules.evcc(NOW + timedelta(minutes=9), False) == []
    [down] = rules.evcc(NOW + timedelta(minutes=10), False)
    assert down.text == "evcc has not answered since 20:00 (10 min); smartload keeps trying."
    assert rules.evcc(NOW + timedelta(minutes=11), False) == []
    [up] = rules.evcc(NOW + timedelta(minutes=12, seconds=10), True)
    assert (up.kind, up.text) == ("evcc-up", "evcc answers again after 12 min.")
    assert rules.evcc(NOW + timedelta(minutes=13), True) == []
    # A short outage says nothing at all.
    assert rules.evcc(NOW + timedelta(minutes=20), False) == []
    assert rules.evcc(NOW + timedelta(minutes=25), True) == []


def test_no_more_than_max_per_hour_and_the_held_back_are_counted():
    rules = alerts(max_per_hour=2)
    sent = []
    for minute in range(5):
        at = NOW + timedelta(minutes=minute)
        sent += rules.handoff(Handoff(1, "ioniq", at + timedelta(hours=1, minutes=minute * 15), None, at))
    assert len(sent) == 2
    [next_hour] = rules.handoff(Handoff(1, "zoe", NOW + timedelta(hours=3), None, NOW + timedelta(hours=1)))
    assert next_hour.text == "Plug in Renault Zoe at wallbox 1 by 23:00. (3 earlier messages held back)"
