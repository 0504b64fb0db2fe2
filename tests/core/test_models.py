"""Request models: the seeds' ranges, wrong-model options, and the bodies sent to Segmind."""

from __future__ import annotations

import pytest

from core.errors import InvalidRequest
from core.models import GenerationSpec, ModelId, build_request, dimensions_for_ratio, request_body


@pytest.mark.parametrize(
    ("options", "option"),
    [
        ({"model": "flux-2-pro", "steps": 10}, "steps"),
        ({"model": "flux-2-pro", "negative_prompt": "x"}, "negative_prompt"),
        ({"model": "flux-2-pro", "quality": 50}, "quality"),
        ({"model": "flux-2-klein-9b", "width": 512}, "width"),
        ({"model": "flux-2-klein-9b", "height": 512}, "height"),
        ({"model": "flux-2-pro", "width": 500}, "width"),
        ({"model": "flux-2-pro", "width": 4096}, "width"),
        ({"model": "flux-2-pro", "image_format": "webp"}, "image_format"),
        ({"model": "flux-2-pro", "aspect_ratio": "1:1", "width": 512}, "aspect_ratio"),
        ({"steps": 0}, "steps"),
        ({"steps": 101}, "steps"),
        ({"cfg": 0.5}, "cfg"),
        ({"quality": 9}, "quality"),
        ({"sampler": "ddim"}, "sampler"),
        ({"aspect_ratio": "7:3"}, "aspect_ratio"),
        ({"aspect_ratio": "match_input_image"}, "aspect_ratio"),
        ({"seed": -1}, "seed"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": "x" * 2001}, "prompt"),
        ({"negative_prompt": "n" * 1001}, "negative_prompt"),
        ({"references": ["a"] * 5}, "image"),
    ],
)
def test_invalid_options_name_the_option(options, option):
    spec = GenerationSpec(**{"prompt": "a cat", **options})
    with pytest.raises(InvalidRequest) as info:
        spec.validate_for_model()
    assert info.value.option == option


def test_pro_over_four_megapixels_is_refused():
    spec = GenerationSpec(model=ModelId.PRO, prompt="x", width=2048, height=2048)
    spec.validate_for_model()  # exactly 4 MP is allowed
    assert build_request(spec, [], safety_tolerance=2).width == 2048


def test_pro_aspect_ratio_becomes_a_size_in_multiples_of_16():
    spec = GenerationSpec(model=ModelId.PRO, prompt="x", aspect_ratio="16:9").validate_for_model()
    body = request_body(build_request(spec, [], safety_tolerance=2))
    assert body["width"] % 16 == 0 and body["height"] % 16 == 0
    assert body["width"] > body["height"]
    assert "aspect_ratio" not in body and "image_urls" not in body


def test_klein_body_has_only_seed_parameters_and_references():
    spec = GenerationSpec(prompt="x", steps=30, references=["h1", "h2"]).validate_for_model()
    body = request_body(build_request(spec, ["https://a/1.png", "https://a/2.png"], safety_tolerance=2))
    assert body["image_urls"] == ["https://a/1.png", "https://a/2.png"]
    assert body["steps"] == 30
    allowed = {"prompt", "image_urls", "aspect_ratio", "negative_prompt", "seed", "cfg", "sampler", "steps",
               "go_fast", "image_format", "quality"}
    assert set(body) <= allowed


def test_pro_match_input_uses_the_reference_size():
    spec = GenerationSpec(
        model=ModelId.PRO, prompt="x", aspect_ratio="match_input_image", references=["h"], reference_size=(3000, 1500)
    ).validate_for_model()
    req = build_request(spec, ["https://a/1.png"], safety_tolerance=2)
    assert req.width * req.height <= 2 * 1024 * 1024 + 16 * 2048
    assert abs(req.width / req.height - 2.0) < 0.05


@pytest.mark.parametrize("ratio", ["1:1", "2:3", "3:2", "9:16", "16:9", "21:9"])
def test_dimensions_for_ratio(ratio):
    width, height = dimensions_for_ratio(ratio)
    a, b = (int(x) for x in ratio.split(":"))
    assert width % 16 == 0 and height % 16 == 0
    assert abs(width / height - a / b) < 0.05
