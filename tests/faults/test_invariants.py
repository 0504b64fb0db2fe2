"""The invariant checker itself: a clean world passes, and each kind of damage is caught."""

from __future__ import annotations

import copy
from collections import Counter

import pytest

from tests.faults.invariants import Armed, PlanRecord, ResultMessage, Snapshot, check, fault_firing

GUILD = 1


def clean() -> Snapshot:
    """Three jobs: one posted, one refunded (never billed), one billed but lost by Segmind."""
    jobs = [
        _job(1, "posted", "rid-1", result=(10, 100)),
        _job(2, "refunded", None),
        _job(3, "refunded", "rid-3"),
    ]
    reservations = [
        {"job_id": 1, "guild_id": GUILD, "amount": 2, "state": "captured"},
        {"job_id": 2, "guild_id": GUILD, "amount": 2, "state": "released"},
        {"job_id": 3, "guild_id": GUILD, "amount": 2, "state": "released"},
    ]
    ledger = [
        _entry(None, "grant", 100),
        _entry(1, "reserve", 2),
        _entry(2, "reserve", 2),
        _entry(3, "reserve", 2),
        _entry(1, "capture", 2),
        _entry(2, "release", 2),
        _entry(3, "release", 2),
    ]
    return Snapshot(
        jobs=jobs,
        reservations=reservations,
        ledger=ledger,
        credits=[{"guild_id": GUILD, "balance": 98, "reserved": 0}],
        bills=[{"request_id": "rid-1", "prompt": "fz000001 a"}, {"request_id": "rid-3", "prompt": "fz000003 c"}],
        accepted_submits=Counter({"fz000001": 1, "fz000003": 1}),
        expired_requests={"rid-3"},
        segmind_images={"rid-1": "abc"},
        results=[ResultMessage(100, 10, 1, False, "abc", False)],
        blobs_present={1: True, 2: False, 3: False},
        plans=[
            PlanRecord("fz000001", None, "posted", "interaction", 5, 10, 100),
            PlanRecord("fz000002", "seg_401", "refunded", None, 5, 10, 101),
            PlanRecord("fz000003", "seg_poll_404_expired", "refunded", None, 5, 10, 102),
        ],
    )


def _job(job_id, state, request_id, result=(None, None)):
    return {
        "id": job_id,
        "guild_id": GUILD,
        "channel_id": 10,
        "user_id": 5,
        "state": state,
        "notified": 1 if state == "refunded" else 0,
        "request_id": request_id,
        "price": 2,
        "result_blob": "b" * 64 if state in ("posted", "undeliverable") else None,
        "result_mime": "image/png",
        "result_channel_id": result[0],
        "result_message_id": result[1],
        "error_kind": "ProviderAuthError" if state == "refunded" else None,
        "prompt": f"fz{job_id:06d} words",
    }


def _entry(job_id, kind, amount):
    return {"guild_id": GUILD, "job_id": job_id, "kind": kind, "amount": amount}


def test_a_clean_world_passes():
    report = check(clean())
    assert report.ok, report.violations
    assert report.counts["billed_and_captured"] == 1
    assert report.counts["billed_result_lost_by_provider"] == 1


def damaged(change) -> list[str]:
    snap = copy.deepcopy(clean())
    change(snap)
    return check(snap).violations


@pytest.mark.parametrize(
    ("what", "change", "check_name"),
    [
        ("a job left running", lambda s: s.jobs[1].update(state="submitted"), "final"),
        ("a refund nobody was told about", lambda s: s.jobs[1].update(notified=0), "final"),
        ("a second capture", lambda s: s.ledger.append(_entry(1, "capture", 2)), "money"),
        ("a posted job never charged", lambda s: s.ledger.pop(4), "money"),
        ("a refunded job also charged", lambda s: s.ledger.append(_entry(2, "capture", 2)), "money"),
        ("a charge of the wrong amount", lambda s: s.ledger[4].update(amount=5), "money"),
        ("a billed POST sent twice", lambda s: s.accepted_submits.update({"fz000001": 1}), "billing"),
        ("a bill without a job", lambda s: s.bills.append({"request_id": "x", "prompt": "fz000009 z"}), "billing"),
        (
            "a paid image thrown away",
            lambda s: (s.jobs[0].update(state="refunded", notified=1), s.results.clear()),
            "billing",
        ),
        ("a charge without a bill", lambda s: s.bills.pop(0), "billing"),
        ("a job posted twice", lambda s: s.results.append(ResultMessage(101, 10, 1, False, "abc", False)), "posting"),
        ("a posted job with no message", lambda s: s.results.clear(), "posting"),
        ("the wrong image posted", lambda s: setattr(s.results[0], "image_sha256", "zzz"), "posting"),
        ("a refunded job with a result", lambda s: s.results.append(ResultMessage(7, 10, 2, False, None, False)), "posting"),
        (
            "an undeliverable image not kept",
            lambda s: (s.jobs[0].update(state="undeliverable"), s.results.clear(), s.blobs_present.update({1: False})),
            "posting",
        ),
        ("a missing reservation row", lambda s: s.reservations.pop(0), "money"),
        ("a deleted result message", lambda s: setattr(s.results[0], "deleted", True), "posting"),
        (
            "the wrong JPEG posted",
            lambda s: (s.jobs[0].update(result_mime="image/jpeg"), setattr(s.results[0], "image_sha256", "zzz")),
            "posting",
        ),
        ("a posted image Segmind never served", lambda s: s.segmind_images.clear(), "posting"),
        (
            "a bill the bot never learned of, with no plan to explain it",
            lambda s: s.bills.append({"request_id": "rid-lost", "prompt": "fz000002 b"}),
            "billing",
        ),
        ("a job without a fault not posted", lambda s: s.jobs[0].update(state="refunded", notified=1), "outcome"),
        ("a job without a fault posted elsewhere", lambda s: s.plans[0].__setattr__("original_message_id", 99), "outcome"),
        ("a balance off by one", lambda s: s.credits[0].update(balance=97), "balances"),
        ("credits left reserved", lambda s: s.credits[0].update(reserved=2), "balances"),
        ("an outcome the fault does not explain", lambda s: s.plans[1].__setattr__("expect", "posted"), "outcome"),
        ("a job that should not exist", lambda s: s.plans[1].__setattr__("expect", "none"), "outcome"),
    ],
)
def test_each_kind_of_damage_is_caught(what, change, check_name):
    violations = damaged(change)
    assert any(v.startswith(f"[{check_name}]") for v in violations), f"{what} went unnoticed: {violations}"


def test_a_bill_lost_where_the_plan_explains_it_is_the_operators_cost():
    snap = copy.deepcopy(clean())
    snap.bills.append({"request_id": "rid-lost", "prompt": "fz000002 b"})
    snap.plans[1].may_lose_bill = True
    report = check(snap)
    assert report.ok, report.violations
    assert report.counts["operator_cost"] == 1


ARMED = [Armed("fz000001", "seg_5xx_burst"), Armed("fz000002", "dc_token_expired_50027", acted=True)]


def test_faults_that_fired_are_counted():
    fired, problems = fault_firing(ARMED, fired=["submit:fz000001", "submit:fz000001"], pending=[])
    assert problems == [] and fired == {"fz000001", "fz000002"}


@pytest.mark.parametrize(
    ("what", "fired", "pending"),
    [
        ("a fault left armed", ["submit:fz000001"], ["status:fz000001: 1 fault(s)"]),
        ("a Discord fault whose route never matched", ["submit:fz000001"], ["fz000003: POST ^/nowhere$ -> 500 (never fired)"]),
        ("a planned fault that never happened", [], []),
        ("an unlabelled fault left armed", ["submit:fz000001"], ["submit: 1 fault(s)"]),
    ],
)
def test_a_fault_that_never_fired_fails_the_run(what, fired, pending):
    _, problems = fault_firing(ARMED, fired=fired, pending=pending)
    assert problems, f"{what} went unnoticed"


def test_a_kill_excuses_its_jobs_unused_faults():
    armed = [Armed("fz000001", "seg_5xx_burst", excused=True)]
    assert fault_firing(armed, fired=[], pending=["submit:fz000001: 2 fault(s)"])[1] == []
