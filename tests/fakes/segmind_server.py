"""Old import path of the fake Segmind; it lives in the package :mod:`tests.fakes.segmind`."""

from tests.fakes.segmind import Bill, FakeJob, FakeSegmind, Fault, RecordedRequest, render_image
from tests.fakes.segmind.records import _Refusal
from tests.fakes.segmind.validation import _validate_klein, _validate_pro

__all__ = [
    "Bill",
    "FakeJob",
    "FakeSegmind",
    "Fault",
    "RecordedRequest",
    "_Refusal",
    "_validate_klein",
    "_validate_pro",
    "render_image",
]
