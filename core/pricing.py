"""What a job costs, in whole credits, from the operator-editable price file under data/.

A model's price is `base` for an image of up to one megapixel, plus `per_extra_megapixel` for each
started megapixel above one, plus `per_reference` per reference image. `usd_estimate` is what the
bot expects Segmind to bill for one call (only used to check the Segmind account can pay).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError
from core.models import GenerationSpec, ModelId, output_megapixels


@dataclass(frozen=True)
class ModelPrice:
    base: int
    per_extra_megapixel: int = 0
    per_reference: int = 0
    usd_estimate: float = 0.0

    @classmethod
    def parse(cls, raw: object) -> ModelPrice:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            price = cls(base=int(raw))
        elif isinstance(raw, dict):
            price = cls(
                base=int(raw["base"]),
                per_extra_megapixel=int(raw.get("per_extra_megapixel", 0)),
                per_reference=int(raw.get("per_reference", 0)),
                usd_estimate=float(raw.get("usd_estimate", 0.0)),
            )
        else:
            raise ValueError("a price is a number or an object with base/per_extra_megapixel/per_reference")
        if min(price.base, price.per_extra_megapixel, price.per_reference) < 0 or price.usd_estimate < 0:
            raise ValueError("prices cannot be negative")
        return price


@dataclass(frozen=True)
class PriceList:
    per_model: dict[ModelId, ModelPrice]

    @classmethod
    def load(cls, path: Path) -> PriceList:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            models = raw["models"]
            per_model = {ModelId(name): ModelPrice.parse(models[name]) for name in models}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(["PRICES_PATH"], f"cannot read prices from {path}: {exc}") from None
        missing = [m.value for m in ModelId if m not in per_model]
        if missing:
            raise ConfigError(["PRICES_PATH"], f"{path} needs a price for {', '.join(missing)}")
        return cls(per_model)

    def price_for(self, spec: GenerationSpec) -> int:
        price = self.per_model[spec.model]
        extra_mp = max(0, math.ceil(output_megapixels(spec) - 1 - 1e-9))
        return price.base + extra_mp * price.per_extra_megapixel + len(spec.references) * price.per_reference

    def usd_estimate(self, model: ModelId) -> float:
        return self.per_model[model].usd_estimate

    def base_prices(self) -> dict[ModelId, int]:
        return {model: price.base for model, price in self.per_model.items()}
