"""The faults a run can inject into one job, what each should lead to, and the plan of a run.

Each `FaultKind` is armed for one job only: Segmind faults are targeted by the job's prompt marker
(the fake Segmind matches a generation's submit, polls and result file by its prompt), Discord
faults by the interaction's token or by the marker in the posted embed. `expect` is the job's
final outcome when nothing else (a kill, a gateway drop) got in the way:
    posted         the image was posted (`where`: in the interaction, in the channel, or by DM)
    refunded       the job failed, its reservation was released and the requester was told
    undeliverable  paid, but Discord made posting impossible: the image is kept on disk
    none           no job was created (the interaction could not even be acknowledged)
"a|b" accepts either.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from tests.fakes.segmind_server import Fault

# Given the run's random generator: [(endpoint, faults)]; endpoint "fail_job" = the generation FAILs.
SegmindArm = Callable[[random.Random], list[tuple[str, list[Fault]]]]


def _reset_in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _png_truncated() -> bytes:
    return bytes.fromhex("89504e470d0a1a0a0000000d49484452000000200000002008020000")


@dataclass(frozen=True)
class FaultKind:
    name: str
    layer: str  # "segmind" or "discord"
    weight: float
    expect: str
    where: str = "interaction"
    segmind: SegmindArm | None = None
    discord: str | None = None  # an action the harness performs (see Harness._arm_discord)
    slow: float = 0.0  # Segmind takes this long for the job, so Discord-side faults are in place in time
    command: str = "imagine"


def _s(endpoint: str, *faults: Fault) -> SegmindArm:
    return lambda rng: [(endpoint, list(faults))]


BAD_BODIES = {
    "truncated": Fault(200, _png_truncated(), headers={"Content-Type": "image/png"}),
    "empty": Fault(200, b""),
    "html": Fault(200, "<html><body>Access denied</body></html>", headers={"Content-Type": "image/png"}),
    "notimage": Fault(200, b"%PDF-1.4 not an image at all", headers={"Content-Type": "image/png"}),
}

CATALOG: list[FaultKind] = [
    # --- Segmind ----------------------------------------------------------------------------
    FaultKind(
        "seg_429_reset",
        "segmind",
        3,
        "posted",
        segmind=lambda rng: [
            ("submit", [Fault(429, {"error": "Rate limit exceeded"}, headers={"x-rate-limit-reset-at-utc": _reset_in(0.4)})])
        ],
    ),
    FaultKind("seg_429_no_reset", "segmind", 3, "posted", segmind=_s("submit", Fault(429), Fault(429))),
    FaultKind(
        "seg_5xx_burst",
        "segmind",
        4,
        "posted",
        segmind=lambda rng: [("submit", [Fault(rng.choice((500, 502, 504))) for _ in range(rng.randint(1, 3))])],
    ),
    FaultKind("seg_5xx_exhausted", "segmind", 2, "refunded", segmind=_s("submit", *[Fault(503)] * 4)),
    FaultKind("seg_poll_5xx", "segmind", 2, "posted", segmind=_s("status", Fault(502), Fault(504))),
    FaultKind(
        "seg_poll_429",
        "segmind",
        1.5,
        "posted",
        segmind=lambda rng: [
            ("status", [Fault(429, headers={"x-rate-limit-reset-at-utc": _reset_in(0.3)}), Fault(429)])
        ],
    ),
    FaultKind(
        "seg_poll_not_json", "segmind", 2, "posted", segmind=_s("status", Fault(200, "<html>Bad Gateway</html>"))
    ),
    FaultKind("seg_submit_hangs", "segmind", 0.4, "refunded", segmind=_s("submit", Fault(hang=True))),
    FaultKind("seg_submit_reply_lost", "segmind", 1.5, "refunded", segmind=_s("submit", Fault(accept=True, drop=True))),
    FaultKind("seg_poll_404_expired", "segmind", 2, "refunded", segmind=_s("status", Fault(404, expire=True))),
    *(
        FaultKind(f"seg_result_{kind}", "segmind", 1.2, "posted", segmind=_s("download", fault))
        for kind, fault in BAD_BODIES.items()
    ),
    FaultKind("seg_401", "segmind", 1, "refunded", segmind=_s("submit", Fault(401, {"error": "Invalid API key"}))),
    FaultKind("seg_403", "segmind", 1, "refunded", segmind=_s("submit", Fault(403, {"error": "Model not allowed"}))),
    FaultKind(
        "seg_406_no_credits", "segmind", 1, "refunded", segmind=_s("submit", Fault(406, {"error": "Insufficient credits"}))
    ),
    FaultKind("seg_410", "segmind", 1, "refunded", segmind=_s("submit", Fault(410, {"error": "Model retired"}))),
    FaultKind(
        "seg_moderated_submit",
        "segmind",
        1.5,
        "refunded",
        segmind=_s("submit", Fault(400, {"error": "Request Moderated: input flagged"})),
    ),
    FaultKind("seg_moderated_result", "segmind", 1.5, "refunded", segmind=lambda rng: [("fail_job", [])]),
    FaultKind(
        "seg_download_slow", "segmind", 2, "posted", segmind=_s("download", Fault(delay=1.5, passthrough=True))
    ),
    FaultKind("seg_download_fails", "segmind", 2, "posted", segmind=_s("download", Fault(502), Fault(drop=True))),
    FaultKind(
        "seg_download_404_once", "segmind", 1, "posted", segmind=_s("download", Fault(404, "<Error>NoSuchKey</Error>"))
    ),
    # --- Discord ----------------------------------------------------------------------------
    FaultKind("dc_ack_late_10062", "discord", 2, "none", discord="ack_late"),
    # An earlier try of the same callback got through (its answer was lost, discord.py retried):
    # giving up costs nothing; carrying on (the interaction is acknowledged) posts the image.
    FaultKind("dc_ack_twice_40060", "discord", 2, "none|posted", discord="ack_twice"),
    FaultKind("dc_result_5xx", "discord", 3, "posted", discord="result_5xx", slow=0.5),
    FaultKind("dc_result_5xx_after_done", "discord", 2, "posted", discord="result_5xx_after_done", slow=0.5),
    FaultKind("dc_result_5xx_exhausted", "discord", 0.4, "posted", discord="result_5xx_exhausted", slow=0.5),
    FaultKind("dc_result_429", "discord", 2, "posted", discord="result_429", slow=0.5),
    # Slower than the first progress edit (PROGRESS_INTERVAL is 2 s in a fault run), or nothing is edited to fail.
    FaultKind("dc_progress_5xx", "discord", 1.5, "posted", discord="progress_5xx", slow=3.0),
    FaultKind("dc_token_expired_50027", "discord", 3, "posted", where="channel", discord="expire", slow=0.8),
    FaultKind("dc_channel_5xx", "discord", 2, "posted", where="channel", discord="channel_5xx", slow=0.8),
    FaultKind(
        "dc_channel_5xx_after_done", "discord", 2, "posted", where="channel", discord="channel_5xx_after_done", slow=0.8
    ),
    FaultKind("dc_channel_429", "discord", 1.5, "posted", where="channel", discord="channel_429", slow=0.8),
    FaultKind("dc_channel_deleted", "discord", 1.5, "posted", where="dm", discord="delete_channel", slow=1.0),
    FaultKind("dc_permission_removed", "discord", 1.5, "posted", where="dm", discord="deny_permission", slow=1.0),
    FaultKind("dc_nowhere_to_post", "discord", 0.8, "undeliverable", discord="nowhere", slow=1.0),
    FaultKind("dc_followup_5xx", "discord", 1.5, "none", discord="followup_5xx", command="edit_broken"),
]
BY_NAME = {kind.name: kind for kind in CATALOG}
# Faults that can make Segmind bill a request whose id the bot never gets (the operator's cost).
LOSES_BILL = {"seg_submit_reply_lost", "seg_submit_hangs"}
# Where a victim job is when the bot is SIGKILLed; "random": at a random moment, wherever it is.
KILL_POINTS = ("queued", "submitting", "submitted", "succeeded", "posting", "posting_channel", "random")
# Sync (v1) mode: one billed call brings the image, so a job goes submitting → succeeded directly.
SYNC_KILL_POINTS = ("queued", "submitting", "succeeded", "posting_channel", "random")
# In sync mode the billed call is v1's: a fault planned for the v2 submit is put on it instead.
SYNC_ENDPOINTS = {"submit": "v1", "fail_job": "fail_job"}


def applies_to(kind: FaultKind, mode: str) -> bool:
    """Whether `kind` can happen in this Segmind mode: v2's polls, result and download do not
    exist in sync mode (the v1 answer is the image)."""
    if mode == "queue" or kind.segmind is None:
        return True
    return all(endpoint in SYNC_ENDPOINTS for endpoint, _ in kind.segmind(random.Random(0)))


@dataclass
class Plan:
    n: int
    guild_id: int
    channel_id: int
    user_id: int
    command: str  # "imagine", "edit" (a valid reference) or "edit_broken" (a file that is not an image)
    options: dict
    fault: FaultKind | None = None
    kill_point: str | None = None
    # filled in while running
    interaction: object = None
    lost_in_crash: bool = False  # dispatched to a bot process that died before it made a job row
    affected: set[str] = field(default_factory=set)  # "kill", "gateway": things beyond the fault
    timed_out: bool = False
    acted: bool = False  # the harness changed the world as the fault says (expired, deleted, denied...)
    killed_submitting: bool = False  # its job was `submitting` when the bot died: a bill it may never see

    @property
    def marker(self) -> str:
        return f"fz{self.n:06d}"

    @property
    def prompt(self) -> str:
        return f"{self.marker} {self.options.get('_words', 'a small test picture')}"


WORDS = ["fox", "lantern", "harbour", "glacier", "orchard", "comet", "violin", "desert", "tram", "owl"]


def make_plans(
    rng: random.Random,
    *,
    jobs: int,
    kills: int,
    guilds: list[int],
    channels: dict[int, list[int]],
    users: list[int],
    fault_share: float = 0.42,
    kill_points: tuple[str, ...] = KILL_POINTS,
    mode: str = "queue",
) -> list[Plan]:
    """`jobs` plans: about `fault_share` of them with one fault (weighted), `kills` kill victims."""
    plans: list[Plan] = []
    kinds = [kind for kind in CATALOG if applies_to(kind, mode)]
    weights = [k.weight for k in kinds]
    # Victims spread evenly, each with a kill point (cycling through them) and no other fault.
    step = max(1, jobs // kills) if kills else 0
    victims = {min(jobs, i * step + step // 2 + 1): kill_points[i % len(kill_points)] for i in range(kills)}
    # Every kind at least once (in a random order), then by weight.
    unused = rng.sample(kinds, len(kinds))
    for n in range(1, jobs + 1):
        guild = rng.choice(guilds)
        fault = None
        if n not in victims and rng.random() < fault_share:
            fault = unused.pop() if unused else rng.choices(kinds, weights)[0]
        command = fault.command if fault else ("edit" if rng.random() < 0.1 and n not in victims else "imagine")
        options: dict = {"_words": " ".join(rng.sample(WORDS, 3))}
        if rng.random() < 0.25:
            options["model"] = "flux-2-pro"
        if rng.random() < 0.3:
            options["seed"] = rng.randint(0, 2**31 - 1)
        if rng.random() < 0.2 and options.get("model") != "flux-2-pro":
            options["aspect_ratio"] = rng.choice(["1:1", "16:9", "3:4"])
        if rng.random() < 0.3:  # the exact-image check must see every format, not only PNG
            options["image_format"] = "jpeg" if options.get("model") == "flux-2-pro" else rng.choice(["jpeg", "webp"])
        plan = Plan(n, guild, rng.choice(channels[guild]), rng.choice(users), command, options, fault)
        plan.kill_point = victims.get(n)
        plans.append(plan)
    return plans
