"""Prices that follow the request: model, output megapixels, reference images."""

from __future__ import annotations

import json

import pytest

from core.errors import ConfigError
from core.models import GenerationSpec, ModelId
from core.pricing import PriceList

PRICES = {
    "models": {
        "flux-2-pro": {"base": 8, "per_extra_megapixel": 4, "per_reference": 2, "usd_estimate": 0.073},
        "flux-2-klein-9b": 2,
    }
}


@pytest.fixture
def prices(tmp_path):
    path = tmp_path / "prices.json"
    path.write_text(json.dumps(PRICES))
    return PriceList.load(path)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (GenerationSpec(prompt="x"), 2),
        (GenerationSpec(prompt="x", references=["a", "b"]), 2),  # Klein charges nothing per reference here
        (GenerationSpec(model=ModelId.PRO, prompt="x"), 8),  # 1024×1024 = 1 MP
        (GenerationSpec(model=ModelId.PRO, prompt="x", width=2048, height=1024), 12),  # 2 MP: one extra
        (GenerationSpec(model=ModelId.PRO, prompt="x", width=2048, height=2048), 20),  # 4 MP: three extra
        (GenerationSpec(model=ModelId.PRO, prompt="x", width=1040, height=1024), 12),  # just over 1 MP
        (GenerationSpec(model=ModelId.PRO, prompt="x", references=["a", "b", "c"]), 14),
    ],
)
def test_price_follows_the_request(prices, spec, expected):
    assert prices.price_for(spec) == expected


def test_shipped_price_file_loads():
    from core.config import DEFAULT_PRICES_PATH

    shipped = PriceList.load(DEFAULT_PRICES_PATH)
    assert shipped.price_for(GenerationSpec(prompt="x")) == 2
    assert shipped.price_for(GenerationSpec(model=ModelId.PRO, prompt="x")) == 8
    assert shipped.usd_estimate(ModelId.PRO) > shipped.usd_estimate(ModelId.KLEIN) > 0


@pytest.mark.parametrize(
    "models",
    [{"flux-2-pro": 8}, {"flux-2-pro": -1, "flux-2-klein-9b": 2}, {"flux-2-pro": "eight", "flux-2-klein-9b": 2}],
)
def test_bad_price_files_are_configuration_errors(tmp_path, models):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"models": models}))
    with pytest.raises(ConfigError):
        PriceList.load(path)
