"""What must hold after a fault run, checked from the bot's SQLite file and the fakes' records.

`Snapshot` is plain data (rows and records), so every check here is a pure function that the
unit tests in test_invariants.py can feed a broken world and watch fail. The checks:

- final:    every job is in a final state (posted, refunded and told, undeliverable).
- money:    per job exactly one reservation (entry and row), settled exactly once, captured iff
            the image was kept (posted / undeliverable), released iff refunded; capture amount = price.
- billing:  Segmind accepted at most one submit per job (never re-posted); every bill belongs to a
            job; a captured job was billed under the request id the bot recorded; a job Segmind
            billed under a request id the bot knew is captured (unless Segmind itself lost the
            result, then released); a bill the bot never learned of is allowed only where the plan
            can cause one (the reply was lost, the submit hung, the bot was killed while submitting),
            is released (the operator's cost, never the guild's) and counted as operator_cost;
            no bill, no charge.
- posting:  a posted job has exactly one result message (the one recorded in the job, not deleted),
            carrying the exact image Segmind served (every format, both modes); other jobs have
            none; an undeliverable image is kept.
- balances: per guild balance = grants - captures + refunds, reserved = 0.
- faults:   (fault_firing) every armed fault fired: a fault that never fires looks exactly like
            one the bot survived. A kill may leave its jobs' faults unused: those are excused.
- outcome:  a job with one injected fault and nothing else in its way ends as the fault predicts; a
            job with no fault is posted in its interaction; one in flight at a kill is posted or
            refunded.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

MARKER = re.compile(r"\bfz(\d{6})\b")
FOOTER = re.compile(r"^Job (\d+)\b")
FINAL = {"posted", "refunded", "undeliverable"}


def marker_of(text: str | None) -> str | None:
    match = MARKER.search(text or "")
    return match.group(0) if match else None


@dataclass
class PlanRecord:
    marker: str
    fault: str | None
    expect: str | None  # None: no expectation (no fault, or something else got in the way)
    where: str | None
    user_id: int
    channel_id: int
    original_message_id: int | None
    lost_in_crash: bool = False
    may_lose_bill: bool = False  # its plan can make Segmind bill a request the bot never learns of


@dataclass
class ResultMessage:
    message_id: int
    channel_id: int
    job_id: int
    deleted: bool
    image_sha256: str | None
    is_dm: bool


@dataclass
class Snapshot:
    jobs: list[dict]
    reservations: list[dict]
    ledger: list[dict]
    credits: list[dict]
    bills: list[dict]  # request_id, prompt
    accepted_submits: Counter  # marker -> submits Segmind accepted
    expired_requests: set[str]
    segmind_images: dict[str, str]  # request_id -> sha256 of the result file
    results: list[ResultMessage]
    blobs_present: dict[int, bool]  # job id -> its result blob is on disk
    plans: list[PlanRecord] = field(default_factory=list)


@dataclass
class Report:
    violations: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def fail(self, check: str, text: str) -> None:
        self.violations.append(f"[{check}] {text}")

    @property
    def ok(self) -> bool:
        return not self.violations


@dataclass
class Armed:
    """A plan's fault as armed: fired when the fakes consumed one of its faults or `acted`."""

    marker: str
    fault: str
    acted: bool = False  # the harness changed the world itself (expired the token, deleted the channel)
    excused: bool = False  # a kill got in the way: its faults may legitimately stay unused


def fault_firing(armed: list[Armed], fired: list[str], pending: list[str]) -> tuple[set[str], list[str]]:
    """(markers whose fault fired, problems) from the fakes' `fired` and `pending_faults()` texts."""
    done = {marker_of(entry) for entry in fired} | {a.marker for a in armed if a.acted}
    done.discard(None)
    excused = {a.marker for a in armed if a.excused}
    problems = [f"armed but never fired: {text}" for text in pending if marker_of(text) not in excused]
    problems += [
        f"{a.marker} ({a.fault}): planned, but nothing of it ever happened"
        for a in armed
        if a.marker not in done and a.marker not in excused
    ]
    return done, problems


def sha256(data: bytes | None) -> str | None:
    return None if data is None else hashlib.sha256(data).hexdigest()


def check(snap: Snapshot) -> Report:
    report = Report()
    jobs = {j["id"]: j for j in snap.jobs}
    by_marker: dict[str, list[dict]] = defaultdict(list)
    for job in snap.jobs:
        marker = marker_of(job["prompt"])
        if marker:
            by_marker[marker].append(job)
    _final(snap, report)
    _money(snap, jobs, report)
    _billing(snap, jobs, by_marker, report)
    _posting(snap, jobs, report)
    _balances(snap, report)
    _outcomes(snap, by_marker, report)
    states = Counter(j["state"] for j in snap.jobs)
    report.counts.update({f"jobs_{state}": n for state, n in states.items()})
    report.counts["jobs"] = len(snap.jobs)
    return report


def _final(snap: Snapshot, report: Report) -> None:
    for job in snap.jobs:
        if job["state"] not in FINAL:
            report.fail("final", f"job {job['id']} is still {job['state']}")
        elif job["state"] == "refunded" and not job["notified"]:
            report.fail("final", f"job {job['id']} was refunded but the requester was never told")


def _money(snap: Snapshot, jobs: dict[int, dict], report: Report) -> None:
    entries: dict[int, Counter] = defaultdict(Counter)
    amounts: dict[tuple[int, str], int] = {}
    for entry in snap.ledger:
        if entry["job_id"] is not None:
            entries[entry["job_id"]][entry["kind"]] += 1
            amounts[(entry["job_id"], entry["kind"])] = entry["amount"]
    reservations = {r["job_id"]: r for r in snap.reservations}
    for job_id, job in jobs.items():
        kinds = entries.get(job_id, Counter())
        if kinds["reserve"] != 1:
            report.fail("money", f"job {job_id} has {kinds['reserve']} reservations")
        if kinds["capture"] > 1 or kinds["release"] > 1 or kinds["refund"] > 1:
            report.fail("money", f"job {job_id} was settled more than once: {dict(kinds)}")
        if kinds["capture"] and kinds["release"]:
            report.fail("money", f"job {job_id} was both captured and released")
        state = job["state"]
        reservation = reservations.get(job_id)
        if reservation is None:
            report.fail("money", f"job {job_id} has no reservation row")
        if state in ("posted", "undeliverable"):
            if kinds["capture"] != 1 or (reservation and reservation["state"] != "captured"):
                report.fail("money", f"job {job_id} is {state} but was not captured exactly once")
            elif amounts.get((job_id, "capture")) != job["price"]:
                report.fail("money", f"job {job_id} was charged {amounts.get((job_id, 'capture'))}, price {job['price']}")
        elif state == "refunded":
            if kinds["release"] != 1 or kinds["capture"] or (reservation and reservation["state"] != "released"):
                report.fail("money", f"job {job_id} is refunded but its reservation was not released exactly once")
    for job_id in entries:
        if job_id not in jobs:
            report.fail("money", f"ledger entries for job {job_id}, which does not exist")


def _billing(snap: Snapshot, jobs: dict[int, dict], by_marker: dict[str, list[dict]], report: Report) -> None:
    may_lose = {plan.marker for plan in snap.plans if plan.may_lose_bill}
    for marker, count in snap.accepted_submits.items():
        if count > 1:
            report.fail("billing", f"Segmind accepted {count} submits for {marker}: a billed POST was sent again")
    bills_by_marker: dict[str, list[dict]] = defaultdict(list)
    for bill in snap.bills:
        marker = marker_of(bill["prompt"])
        if marker is None:
            report.fail("billing", f"bill {bill['request_id']} is for no known prompt")
            continue
        bills_by_marker[marker].append(bill)
        if not by_marker.get(marker):
            report.fail("billing", f"Segmind billed {bill['request_id']} ({marker}) but the bot has no job for it")
    counts = Counter()
    for marker, marker_jobs in by_marker.items():
        if len(marker_jobs) > 1:
            report.fail("billing", f"{marker} has {len(marker_jobs)} jobs (the harness makes one per prompt)")
        job = marker_jobs[0]
        bills = bills_by_marker.get(marker, [])
        captured = job["state"] in ("posted", "undeliverable")
        known = [b for b in bills if b["request_id"] == job["request_id"]]
        unknown = [b for b in bills if b["request_id"] != job["request_id"]]
        if captured and not known:
            report.fail("billing", f"job {job['id']} ({marker}) was charged but Segmind never billed its request")
        for bill in known:
            lost = bill["request_id"] in snap.expired_requests
            if lost:
                counts["billed_result_lost_by_provider"] += 1
                if captured:
                    continue  # it got the image before Segmind forgot it: fine
                if job["state"] != "refunded":
                    report.fail("billing", f"job {job['id']}: Segmind lost the result but the job is {job['state']}")
            elif not captured:
                report.fail(
                    "billing",
                    f"job {job['id']} ({marker}) was billed by Segmind as {bill['request_id']}, which the bot "
                    f"recorded, but it is {job['state']} ({job['error_kind']}): a paid image was thrown away",
                )
            else:
                counts["billed_and_captured"] += 1
        for bill in unknown:
            counts["billed_unknown_to_bot"] += 1
            if captured:
                report.fail(
                    "billing", f"job {job['id']} was charged, but Segmind billed {bill['request_id']} it never recorded"
                )
            elif marker not in may_lose:
                report.fail(
                    "billing",
                    f"job {job['id']} ({marker}): Segmind billed {bill['request_id']}, which the bot never learned "
                    "of, and nothing in its plan (reply lost, submit hung, killed while submitting) explains it",
                )
            else:
                counts["operator_cost"] += 1
        if not bills and captured:
            report.fail("billing", f"job {job['id']} was charged without any Segmind bill")
        if not bills:
            counts["not_billed"] += 1
    report.counts.update(counts)


def _posting(snap: Snapshot, jobs: dict[int, dict], report: Report) -> None:
    per_job: dict[int, list[ResultMessage]] = defaultdict(list)
    for message in snap.results:
        per_job[message.job_id].append(message)
        if message.job_id not in jobs:
            report.fail("posting", f"message {message.message_id} shows job {message.job_id}, which does not exist")
    for job_id, job in jobs.items():
        posts = per_job.get(job_id, [])
        if job["state"] == "posted":
            if len(posts) != 1:
                ids = [m.message_id for m in posts]
                report.fail("posting", f"job {job_id} was posted {len(posts)} times (messages {ids})")
                continue
            post = posts[0]
            if post.deleted:
                report.fail("posting", f"job {job_id} is posted but its result message {post.message_id} was deleted")
            if post.message_id != job["result_message_id"] or post.channel_id != job["result_channel_id"]:
                report.fail(
                    "posting",
                    f"job {job_id} records message {job['result_message_id']} in {job['result_channel_id']}, "
                    f"but its result is message {post.message_id} in {post.channel_id}",
                )
            expected = snap.segmind_images.get(job["request_id"] or "")
            if expected is None:
                report.fail("posting", f"job {job_id} is posted but Segmind served no image for {job['request_id']}")
            elif post.image_sha256 != expected:
                report.fail("posting", f"job {job_id} posted an image that is not the one Segmind produced")
        elif posts:
            report.fail("posting", f"job {job_id} is {job['state']} but has {len(posts)} result message(s)")
        if job["state"] == "undeliverable" and not snap.blobs_present.get(job_id):
            report.fail("posting", f"job {job_id} is undeliverable and its paid image is not kept on disk")
    report.counts["results_in_dm"] = sum(1 for m in snap.results if m.is_dm)
    formats = Counter(job["result_mime"] for job in snap.jobs if job["state"] == "posted")
    report.counts.update({f"posted_{mime.split('/')[-1]}": n for mime, n in formats.items() if mime})


def _balances(snap: Snapshot, report: Report) -> None:
    totals: dict[int, Counter] = defaultdict(Counter)
    for entry in snap.ledger:
        totals[entry["guild_id"]][entry["kind"]] += entry["amount"]
    held: Counter = Counter()
    for reservation in snap.reservations:
        if reservation["state"] == "held":
            held[reservation["guild_id"]] += reservation["amount"]
    for row in snap.credits:
        guild, sums = row["guild_id"], totals[row["guild_id"]]
        expected = sums["grant"] - sums["capture"] + sums["refund"]
        if row["balance"] != expected:
            report.fail(
                "balances",
                f"guild {guild}: balance {row['balance']} != grants {sums['grant']} - captures "
                f"{sums['capture']} + refunds {sums['refund']} = {expected}",
            )
        if row["reserved"] != 0:
            report.fail("balances", f"guild {guild}: {row['reserved']} credits still reserved at the end")
        if held[guild] != row["reserved"]:
            report.fail("balances", f"guild {guild}: reserved {row['reserved']} != held reservations {held[guild]}")


def _outcomes(snap: Snapshot, by_marker: dict[str, list[dict]], report: Report) -> None:
    dm_channels = {m.channel_id for m in snap.results if m.is_dm}
    for plan in snap.plans:
        rows = by_marker.get(plan.marker, [])
        if plan.expect is None:
            continue
        accepted = set(plan.expect.split("|"))
        if not rows:
            if "none" not in accepted and not plan.lost_in_crash:
                report.fail("outcome", f"{plan.marker} ({plan.fault}) never became a job")
            continue
        job = rows[0]
        if job["state"] not in accepted:
            report.fail(
                "outcome",
                f"{plan.marker} ({plan.fault}): job {job['id']} is {job['state']} ({job['error_kind']}), "
                f"expected {plan.expect.replace('|', ' or ')}",
            )
            continue
        if job["state"] == "posted" and plan.where:
            channel, message = job["result_channel_id"], job["result_message_id"]
            where = (
                "dm"
                if channel in dm_channels
                else "interaction"
                if message == plan.original_message_id
                else "channel"
                if channel == plan.channel_id
                else "elsewhere"
            )
            if where != plan.where:
                report.fail("outcome", f"{plan.marker} ({plan.fault}): posted via {where}, expected {plan.where}")
