"""What a generation asks for, and the exact request bodies Segmind's two FLUX.2 models accept.

`GenerationSpec` is what the bot stores for a job (model-neutral, references by content hash).
`ProRequest` / `KleinRequest` are the JSON bodies of the seed documents with their documented
ranges; `build_request` turns a spec into one of them once reference URLs are known.
"""

from __future__ import annotations

import enum
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.errors import InvalidRequest


class ModelId(enum.StrEnum):
    PRO = "flux-2-pro"
    KLEIN = "flux-2-klein-9b"

    @property
    def display_name(self) -> str:
        return {ModelId.PRO: "FLUX.2 Pro", ModelId.KLEIN: "FLUX.2 Klein 9B"}[self]

    @property
    def max_references(self) -> int:
        # Black Forest Labs' limits: 8 references for Pro, 4 for Klein.
        return {ModelId.PRO: 8, ModelId.KLEIN: 4}[self]


DEFAULT_MODEL = ModelId.KLEIN
PROMPT_MAX_CHARS = 2000
NEGATIVE_PROMPT_MAX_CHARS = 1000
SEED_MAX = 2**31 - 1
PRO_MAX_PIXELS = 2048 * 2048  # 4 MP
# "+1 more" on Segmind's page is most likely 21:9 (a guess, see README); Segmind answers 400 if not.
ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
MATCH_INPUT = "match_input_image"
KLEIN_FORMATS = ("png", "jpeg", "webp")
PRO_FORMATS = ("png", "jpeg")
SAMPLERS = ("euler", "res_2s")

PRO_ONLY_OPTIONS = ("width", "height")
KLEIN_ONLY_OPTIONS = ("negative_prompt", "steps", "cfg", "sampler", "go_fast", "quality")


def _multiple_of_16(value: int | None) -> int | None:
    if value is not None and value % 16:
        raise ValueError("must be a multiple of 16")
    return value


class _SegmindBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1)


class ProRequest(_SegmindBody):
    """Body of POST /v1|v2/flux-2-pro (seed 000)."""

    image_urls: list[str] | None = Field(default=None, max_length=8)
    width: int = Field(default=1024, ge=256, le=2048)
    height: int = Field(default=1024, ge=256, le=2048)
    output_format: Literal["jpeg", "png"] = "png"
    safety_tolerance: int = Field(default=2, ge=0, le=6)
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX)

    _w16 = field_validator("width", "height")(_multiple_of_16)

    @model_validator(mode="after")
    def _within_4mp(self) -> ProRequest:
        if self.width * self.height > PRO_MAX_PIXELS:
            raise ValueError("width × height must be at most 4 megapixels")
        return self


class KleinRequest(_SegmindBody):
    """Body of POST /v1|v2/flux-2-klein-9b (seed 004)."""

    image_urls: list[str] | None = Field(default=None, max_length=4)
    aspect_ratio: str = "1:1"
    negative_prompt: str | None = None
    seed: int | None = Field(default=None, ge=0, le=SEED_MAX)
    cfg: float = Field(default=5, ge=1, le=20)
    sampler: Literal["euler", "res_2s"] = "euler"
    steps: int = Field(default=20, ge=1, le=100)
    go_fast: bool = True
    image_format: Literal["png", "jpeg", "webp"] = "png"
    quality: int = Field(default=90, ge=10, le=100)

    @model_validator(mode="after")
    def _aspect(self) -> KleinRequest:
        if self.aspect_ratio not in ASPECT_RATIOS + (MATCH_INPUT,):
            raise ValueError(f"unknown aspect_ratio {self.aspect_ratio!r}")
        if self.aspect_ratio == MATCH_INPUT and not self.image_urls:
            raise ValueError("match_input_image needs a reference image")
        return self


SegmindRequest = ProRequest | KleinRequest


class GenerationSpec(BaseModel):
    """A job's parameters as the requester gave them (None = the model's default)."""

    model_config = ConfigDict(extra="forbid")

    model: ModelId = DEFAULT_MODEL
    prompt: str
    aspect_ratio: str | None = None
    seed: int | None = None
    image_format: str | None = None
    width: int | None = None
    height: int | None = None
    negative_prompt: str | None = None
    steps: int | None = None
    cfg: float | None = None
    sampler: str | None = None
    go_fast: bool | None = None
    quality: int | None = None
    # Pro's safety_tolerance, always set from the guild's policy (core/safety.py), never by the requester.
    safety_tolerance: int | None = Field(default=None, ge=0, le=5)
    # Set by the guild's review policy: the result goes to the mod log until a moderator approves it.
    hold_for_review: bool = False
    # Content hashes of stored reference images, in order; and the first one's size (for match_input).
    references: list[str] = Field(default_factory=list)
    reference_size: tuple[int, int] | None = None
    # How the result is posted (never sent to Segmind): behind a spoiler, with the style it came from.
    spoiler: bool = False
    style: str | None = None
    locale: str | None = None  # the server's Discord locale, for the public progress messages
    private: bool = False  # shown only to the requester (ephemeral, else by DM), never in the channel

    def validate_for_model(self) -> GenerationSpec:
        """Raise InvalidRequest naming the first option that this model cannot take."""
        prompt = self.prompt.strip()
        if not prompt:
            raise InvalidRequest("prompt", "is empty")
        if len(prompt) > PROMPT_MAX_CHARS:
            raise InvalidRequest("prompt", f"is longer than {PROMPT_MAX_CHARS} characters")
        if self.negative_prompt is not None and len(self.negative_prompt) > NEGATIVE_PROMPT_MAX_CHARS:
            raise InvalidRequest("negative_prompt", f"is longer than {NEGATIVE_PROMPT_MAX_CHARS} characters")
        foreign = KLEIN_ONLY_OPTIONS if self.model is ModelId.PRO else PRO_ONLY_OPTIONS
        for name in foreign:
            if getattr(self, name) is not None:
                raise InvalidRequest(name, f"is not an option of {self.model.display_name}")
        if len(self.references) > self.model.max_references:
            raise InvalidRequest(
                "image", f"{self.model.display_name} takes at most {self.model.max_references} reference images"
            )
        if self.aspect_ratio is not None:
            if self.aspect_ratio == MATCH_INPUT and not self.references:
                raise InvalidRequest("aspect_ratio", "match_input_image needs a reference image")
            if self.aspect_ratio not in ASPECT_RATIOS + (MATCH_INPUT,):
                raise InvalidRequest("aspect_ratio", f"must be one of {', '.join(ASPECT_RATIOS)}")
        if self.model is ModelId.PRO:
            if self.aspect_ratio is not None and (self.width is not None or self.height is not None):
                raise InvalidRequest("aspect_ratio", "give either aspect_ratio or width/height, not both")
            if self.image_format is not None and self.image_format not in PRO_FORMATS:
                raise InvalidRequest("image_format", f"{self.model.display_name} can output png or jpeg")
        elif self.image_format is not None and self.image_format not in KLEIN_FORMATS:
            raise InvalidRequest("image_format", "must be png, jpeg or webp")
        # The final word on ranges is the request model itself.
        try:
            build_request(self, ["https://placeholder.invalid/x.png"] * len(self.references), safety_tolerance=2)
        except ValidationError as exc:
            first = exc.errors()[0]
            loc = str(first["loc"][0]) if first["loc"] else "options"
            raise InvalidRequest(loc, first["msg"].removeprefix("Value error, ")) from None
        return self

    def output_extension(self) -> str:
        fmt = self.image_format or "png"
        return "jpg" if fmt == "jpeg" else fmt


def dimensions_for_ratio(ratio: str, megapixels: float = 1.0) -> tuple[int, int]:
    """Width and height (multiples of 16, within Pro's limits) for an aspect ratio at ~`megapixels`."""
    a, b = (int(x) for x in ratio.split(":"))
    area = megapixels * 1024 * 1024
    width = math.sqrt(area * a / b)
    height = width * b / a
    return _fit16(width), _fit16(height)


def _fit16(value: float) -> int:
    return max(256, min(2048, int(round(value / 16)) * 16))


def fit_to_pro(size: tuple[int, int]) -> tuple[int, int]:
    """Scale an input image's size into Pro's range (multiples of 16, ≤ 2 MP recommended)."""
    w, h = size
    scale = min(1.0, math.sqrt(2 * 1024 * 1024 / (w * h)), 2048 / max(w, h))
    return _fit16(w * scale), _fit16(h * scale)


def switch_to_klein(spec: GenerationSpec) -> GenerationSpec:
    """The same request on Klein: Pro's pixel size becomes the nearest listed aspect ratio."""
    ratio = spec.aspect_ratio
    if ratio is None and spec.width and spec.height:
        target = spec.width / spec.height
        ratio = min(ASPECT_RATIOS, key=lambda r: abs(int(r.split(":")[0]) / int(r.split(":")[1]) - target))
    return spec.model_copy(update={"model": ModelId.KLEIN, "width": None, "height": None, "aspect_ratio": ratio})


def output_megapixels(spec: GenerationSpec) -> float:
    """Megapixels of the image the spec will produce (1 MP where the model decides the size)."""
    if spec.model is ModelId.PRO:
        width, height = _pro_size(spec)
        return width * height / (1024 * 1024)
    return 1.0


def _pro_size(spec: GenerationSpec) -> tuple[int, int]:
    """Pro has no aspect_ratio parameter: the bot turns a ratio (or the reference's) into a size."""
    if spec.aspect_ratio == MATCH_INPUT and spec.reference_size:
        return fit_to_pro(spec.reference_size)
    if spec.aspect_ratio and spec.aspect_ratio != MATCH_INPUT:
        return dimensions_for_ratio(spec.aspect_ratio)
    return spec.width or 1024, spec.height or 1024


def build_request(spec: GenerationSpec, reference_urls: list[str], *, safety_tolerance: int) -> SegmindRequest:
    """The Segmind body for `spec`."""
    urls = reference_urls or None
    if spec.model is ModelId.PRO:
        width, height = _pro_size(spec)
        return ProRequest(
            prompt=spec.prompt,
            image_urls=urls,
            width=width,
            height=height,
            output_format=spec.image_format or "png",
            safety_tolerance=safety_tolerance,
            seed=spec.seed,
        )
    fields = {
        name: getattr(spec, name)
        for name in ("aspect_ratio", "negative_prompt", "seed", "steps", "cfg", "sampler", "go_fast", "quality")
        if getattr(spec, name) is not None
    }
    if spec.image_format is not None:
        fields["image_format"] = spec.image_format
    return KleinRequest(prompt=spec.prompt, image_urls=urls, **fields)


def request_body(request: SegmindRequest) -> dict:
    """JSON body as sent to Segmind: unset optionals are left out (image_urls only with references)."""
    return request.model_dump(exclude_none=True)
