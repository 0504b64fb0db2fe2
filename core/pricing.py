"""What a job costs, in whole credits, from the operator-editable price file under data/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from core.errors import ConfigError
from core.models import GenerationSpec, ModelId


@dataclass(frozen=True)
class PriceList:
    per_model: dict[ModelId, int]

    @classmethod
    def load(cls, path: Path) -> PriceList:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
            models = raw["models"]
            per_model = {ModelId(name): int(models[name]) for name in models}
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ConfigError(["PRICES_PATH"], f"cannot read prices from {path}: {exc}") from None
        missing = [m.value for m in ModelId if m not in per_model]
        negative = [m.value for m, p in per_model.items() if p < 0]
        if missing or negative:
            raise ConfigError(["PRICES_PATH"], f"{path} needs a price ≥ 0 for {', '.join(missing + negative)}")
        return cls(per_model)

    def price_for(self, spec: GenerationSpec) -> int:
        return self.per_model[spec.model]
