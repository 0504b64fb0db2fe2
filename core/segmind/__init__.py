"""Segmind's FLUX.2 API: `protocol` (what the answers mean, no I/O), `transport` (HTTP with the one
retry loop and its billed/safe policy), `results` (the sink results are written to), `client` (the
flows: submit, poll, fetch, upload) and `upload_body` (the streamed reference upload)."""

from core.segmind.client import SegmindClient, SegmindTimeouts
from core.segmind.results import GeneratedImage, ResultSink, StoredResult

__all__ = ["GeneratedImage", "ResultSink", "SegmindClient", "SegmindTimeouts", "StoredResult"]
