"""The seed of the e2e property tests: random per run (so CI explores), printed in the summary.

Set E2E_HYPOTHESIS_SEED to replay a run; tests/conftest.py prints the seed a run used.
"""

from __future__ import annotations

import os
import secrets

E2E_SEED = int(os.environ.get("E2E_HYPOTHESIS_SEED") or secrets.randbelow(2**32))
