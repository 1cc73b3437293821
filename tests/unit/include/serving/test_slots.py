"""Slot layout, proxy configuration and slot state (no servers; the switch itself runs in e2e)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from include.serving import slots as slots_module
from include.serving.slots import (
    COLORS,
    SLOTS,
    SlotLayout,
    SlotState,
    SwitchError,
    hold_slot,
    live_programs,
    nginx_conf,
    proxy_conf,
    read_slot,
    release_slot_when_ready,
    restarting_conf,
    slot_conf_path,
    write_json,
    write_proxy_files,
    write_slot_conf,
)


def layout(tmp_path: Path) -> SlotLayout:
    return SlotLayout(tmp_path, ("flights", "hotels"), 8300)


def test_every_slot_and_server_gets_its_own_port(tmp_path: Path) -> None:
    slots = layout(tmp_path)
    ports = [slots.proxy_port(u, s) for u in slots.usecases for s in SLOTS] + \
            [slots.server_port(u, s, c) for u, s, c in slots.programs()]
    assert len(ports) == len(set(ports)) == 12
    assert min(ports) == 8300 and max(ports) == 8311
    assert slots.endpoint("hotels", "production") == "http://127.0.0.1:8307"
    with pytest.raises(SwitchError, match="no serving slots"):
        slots.proxy_port("unknown", "staging")


def test_a_slot_without_a_model_answers_503_and_a_live_one_proxies_to_its_colour(tmp_path: Path) -> None:
    slots = layout(tmp_path)
    empty = proxy_conf(slots, "flights", "production", None)
    assert "listen 127.0.0.1:8301;" in empty and "return 503" in empty and "proxy_pass" not in empty
    live = proxy_conf(slots, "flights", "production", "green")
    assert f"proxy_pass http://127.0.0.1:{slots.server_port('flights', 'production', 'green')};" in live
    assert "X-Served-By bento-flights-production-green" in live


def test_make_up_restores_what_each_slot_served(tmp_path: Path) -> None:
    slots = layout(tmp_path)
    write_json(slots.slot_file("flights", "production"),
               SlotState("green", "flights_delay:v2", "/env", "2", 0.0).to_dict())
    write_proxy_files(slots)
    assert live_programs(slots) == ["bento-flights-production-green"]
    assert read_slot(slots, "flights", "production") == SlotState("green", "flights_delay:v2", "/env", "2", 0.0)
    assert read_slot(slots, "hotels", "staging") is None
    conf = (tmp_path / "nginx" / "slots" / "flights-production.conf").read_text()
    assert "bento-flights-production-green" in conf
    assert "return 503" in (tmp_path / "nginx" / "slots" / "hotels-staging.conf").read_text()
    main = nginx_conf(slots)
    assert "daemon off;" in main and f"include {tmp_path / 'nginx' / 'slots'}/*.conf;" in main
    assert "0.0.0.0" not in main + conf


def test_every_process_reads_the_layout_the_stack_recorded(tmp_path: Path) -> None:
    slots = layout(tmp_path)
    with pytest.raises(SwitchError, match="never set up"):
        SlotLayout.load(tmp_path)
    slots.save()
    assert SlotLayout.load(tmp_path) == slots
    assert COLORS == ("blue", "green")


def test_a_restarting_live_server_holds_its_slot_at_503_until_it_is_ready(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    slots = layout(tmp_path)
    conf = slot_conf_path(slots, "flights", "production")
    write_slot_conf(slots, "flights", "production", "green")
    assert not hold_slot(slots, "flights", "production", "blue")  # a deployment starting the idle colour
    assert conf.read_text() == proxy_conf(slots, "flights", "production", "green")

    assert hold_slot(slots, "flights", "production", "green")  # the live server starting again
    held = conf.read_text()
    assert held == restarting_conf(slots, "flights", "production", "green")
    assert "listen 127.0.0.1:8301;" in held and "return 503" in held and "is restarting" in held
    assert "proxy_pass" not in held
    assert hold_slot(slots, "flights", "production", "green")  # restarted again before it was ready: still held

    answers = iter([OSError("refused"), SimpleNamespace(status_code=503), SimpleNamespace(status_code=200)])

    def readyz(url: str, timeout: float) -> SimpleNamespace:
        assert url == f"http://127.0.0.1:{slots.server_port('flights', 'production', 'green')}/readyz"
        answer = next(answers)
        if isinstance(answer, OSError):
            raise slots_module.requests.ConnectionError(str(answer))
        return answer

    monkeypatch.setattr(slots_module.requests, "get", readyz)
    monkeypatch.setattr(slots_module.time, "sleep", lambda seconds: None)
    assert release_slot_when_ready(slots, "flights", "production", "green", timeout=60)
    assert conf.read_text() == proxy_conf(slots, "flights", "production", "green")


def test_a_deployment_that_switched_the_held_slot_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    slots = layout(tmp_path)
    write_slot_conf(slots, "flights", "staging", "blue")
    assert hold_slot(slots, "flights", "staging", "blue")
    write_slot_conf(slots, "flights", "staging", "green")  # switch() meanwhile
    monkeypatch.setattr(slots_module.requests, "get", lambda url, timeout: SimpleNamespace(status_code=200))
    assert not release_slot_when_ready(slots, "flights", "staging", "blue", timeout=5)
    assert slot_conf_path(slots, "flights", "staging").read_text() == proxy_conf(slots, "flights", "staging", "green")
    write_slot_conf(slots, "flights", "staging", None)  # nothing deployed: nothing to hold
    assert not hold_slot(slots, "flights", "staging", "green")
