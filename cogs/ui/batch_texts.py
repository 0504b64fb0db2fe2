"""Sentences of a batch's one message (count 2-4): its progress and what it says about images not made."""

from __future__ import annotations

MAKING = "⏳ Making {count} images…"
IMAGE_DONE = "✅ Ready"
PART_FAILED = "❌ Failed: its credits were refunded"
PART_CANCELLED = "🛑 Cancelled: its credits are free again"
IMAGE_FAILED = "Image {number} failed and its {price} credits were refunded: {reason}"
IMAGE_CANCELLED = "Image {number} was cancelled: its {price} credits are free again."
NOT_STARTED = "Images {first} to {last} were not started, nothing was charged for them: {reason}"
ONE_NOT_STARTED = "Image {number} was not started, nothing was charged for it: {reason}"
SEEDS = "Seeds"
COST = "Cost"
COST_VALUE = "{credits} credits"
BALANCE_AFTER = "Balance after"
REQUESTED_BY = "Requested by"
NOT_MADE = "Not made"
