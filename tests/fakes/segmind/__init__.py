"""A fake of Segmind's FLUX.2 serverless API over real sockets; see :mod:`.server`.

Layout: :mod:`.server` (the :class:`FakeSegmind` class, its state, lifecycle and request plumbing),
:mod:`.records` (models, prices, faults, bills, jobs), one mixin module per responsibility
(:mod:`.v1`, :mod:`.v2` (the queue), :mod:`.upload`, :mod:`.accept`, :mod:`.faults`), and the pure
helpers :mod:`.validation` and :mod:`.images`.
"""

from tests.fakes.segmind.images import render_image
from tests.fakes.segmind.records import Bill, FakeJob, Fault, RecordedRequest
from tests.fakes.segmind.server import FakeSegmind

__all__ = ["Bill", "FakeJob", "FakeSegmind", "Fault", "RecordedRequest", "render_image"]
