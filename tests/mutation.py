"""Mutation testing of the money, policy and screening code, as a measured figure (not run by CI):

    .venv/bin/python -m tests.mutation                     every module of [tool.mutmut] only_mutate
    .venv/bin/python -m tests.mutation ledger policy       some of them
    .venv/bin/python -m tests.mutation --report            the figures of the last run, nothing re-run

mutmut (configured in pyproject.toml: what is mutated, which fast unit tests run) plants one small
change at a time in a copy of core/ under mutants/ and runs the tests that cover the changed
function; a mutant no test notices has "survived". Per module this prints killed / total, and the
share once the equivalent mutants are set aside: in the ledger, a change of letter case inside a
string (SQLite keywords, table and column names and sqlite3.Row keys all ignore case, so such a
mutant is the same program); elsewhere, the mutants listed in EQUIVALENT, each with the reason no
test can tell it apart. Every other survivor is listed, to be killed by a test or explained.

LEDGER_STATE_EXAMPLES is lowered to 60 for the run (the ledger state machine is run once per mutant
it covers; 60 examples still find a double settlement in a few steps).
"""

from __future__ import annotations

import argparse
import ast
import functools
import os
import re
import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MUTMUT = [sys.executable, "-m", "mutmut"]
LINE = re.compile(r"^\s*(\S+): (.+)$")


def modules() -> dict[str, str]:
    """Short name -> dotted module, from the files [tool.mutmut] only_mutate matches: core/ledger.py is
    "ledger" (core.ledger), core/screening/ages.py "screening.ages", core/screening/__init__.py "screening"."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    found = {}
    for pattern in config["only_mutate"]:
        for path in sorted(ROOT.glob(pattern)):
            parts = path.relative_to(ROOT).with_suffix("").parts
            dotted = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[dotted.removeprefix("core.")] = dotted
    return found


def chosen(names: list[str], known: dict[str, str]) -> list[str]:
    """A name picks its module and, for a package, every module in it ("screening" -> all of core/screening/)."""
    return [dotted for short, dotted in known.items() if not names or any(short == n or short.startswith(n + ".") for n in names)]


def module_of(mutant: str) -> str:
    """core.screening.ages.x_fold__mutmut_3 -> core.screening.ages; core.screening.x_check_prompt__mutmut_1
    (a package's __init__) -> core.screening; methods are xǁClassǁmethod."""
    parts = mutant.split(".")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].startswith(("x_", "xǁ")):
            return ".".join(parts[:i])
    return mutant.rsplit(".", 1)[0]


def run(dotted: list[str], children: int) -> None:
    env = {
        **os.environ,
        "LEDGER_STATE_EXAMPLES": os.environ.get("LEDGER_STATE_EXAMPLES", "60"),
        "SCREENING_COMPOSED_EXAMPLES": os.environ.get("SCREENING_COMPOSED_EXAMPLES", "200"),
    }
    # A package's own functions are named after the package (mutmut drops __init__), so only they are asked for.
    packages = {d for d in dotted if (ROOT / d.replace(".", "/") / "__init__.py").exists()}
    patterns = [p for d in dotted for p in ((f"{d}.x_*", f"{d}.xǁ*") if d in packages else (f"{d}.*",))]
    subprocess.run([*MUTMUT, "run", "--max-children", str(children), *patterns], cwd=ROOT, env=env, check=False)


def results() -> dict[str, str]:
    out = subprocess.run([*MUTMUT, "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True).stdout
    return {m.group(1): m.group(2) for line in out.splitlines() if (m := LINE.match(line))}


@functools.cache
def _functions(path: Path) -> dict[str, list[str]]:
    """The lines of each function mutmut wrote into a file of mutants/, by name."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    return {
        node.name: lines[node.lineno - 1 : node.end_lineno]
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name
    }


def diff(mutant: str) -> tuple[str, str]:
    """The original and the mutated line of a mutant (first changed pair), read from mutants/
    (`mutmut show` takes a second or two per mutant)."""
    name = mutant.rpartition(".")[2]
    base = ROOT / "mutants" / module_of(mutant).replace(".", "/")
    path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
    functions = _functions(path)
    mutated = functions.get(name, [])
    original = functions.get(name.rpartition("__mutmut_")[0] + "__mutmut_orig", [])
    for before, after in zip(original[1:], mutated[1:], strict=False):
        if before != after:
            return before, after
    return (original[1] if len(original) > 1 else "", mutated[1] if len(mutated) > 1 else "")


# Modules whose strings are SQL or sqlite3.Row keys, where letter case does not matter.
CASE_BLIND = {"core.ledger"}

# Survivors that are the same program as the original, by name (mutmut numbers a function's mutants
# in a fixed order, so a name stays valid until that function changes).
EQUIVALENT = {
    "core.admission.xǁAdmissionǁevaluate__mutmut_27": "gate.check(facts, None) reads the same usage again",
    "core.admission.xǁAdmissionǁevaluate__mutmut_29": "gate.check(facts) reads the same usage again",
    "core.admission.xǁAdmissionǁ_klein__mutmut_21": (
        "`and` for `or`: unreachable, Klein passes the policy Pro passed (same texts, channel, roles; "
        "lower cost) and is cheaper than Pro, which fitted every allowance"
    ),
    "core.admission.xǁAdmissionǁ_klein__mutmut_24": (
        "`>=` for `>`: the allowance left is at least Pro's price, above Klein's"
    ),
    "core.admission.xǁAdmissionǁ_klein__mutmut_29": "approved=None for approved=False: both falsy",
    "core.admission.xǁAdmissionǁ_allowance_left__mutmut_34": (
        "max(1, left) for max(0, left): past the check, left >= price >= 1"
    ),
}
_RE2_OPTIONS = "RE2's memory budget, capture groups and error logging do not change what matches"
EQUIVALENT |= {f"core.screening.guild.x__options__mutmut_{n}": _RE2_OPTIONS for n in range(3, 10)}
EQUIVALENT |= {f"core.screening.guild.xǁGuildMatcherǁ__init____mutmut_{n}": _RE2_OPTIONS for n in (9, 20, 22)}
EQUIVALENT |= {
    "core.screening.guild.xǁGuildMatcherǁ_which__mutmut_1": "the per-chunk set is rebuilt: same answer",
    "core.screening.guild.xǁGuildMatcherǁ_which__mutmut_2": "the per-chunk set is rebuilt: same answer",
    "core.screening.guild.xǁGuildMatcherǁ_which__mutmut_11": "the per-chunk set is rebuilt: same answer",
    "core.screening.guild.xǁGuildMatcherǁ_which__mutmut_5": _RE2_OPTIONS,
    "core.screening.guild.xǁGuildMatcherǁ_which__mutmut_9": (
        "the next chunk's terms only add higher indices; min() picks this chunk's, which matched"
    ),
    "core.screening.guild.xǁGuildMatcherǁ_which__mutmut_15": (
        "indices is never empty: the text matched this chunk's alternation, so one of its terms"
    ),
    "core.screening.guild.x_guild_matcher__mutmut_9": "popitem(last=None) is popitem(last=False)",
    "core.screening.matching.x__kind__mutmut_7": "strip('XX*XX') strips {X, *}; keys are lower case",
    "core.screening.matching.x__kind__mutmut_12": "rstrip('XX*XX') strips {X, *}; keys are lower case",
    "core.screening.matching.x__kind__mutmut_17": "lstrip('XX*XX') strips {X, *}; keys are lower case",
    "core.screening.matching.x_word_forms__mutmut_38": "an added 'X' is never the last letter of a lower-case key",
    "core.screening.matching.x_word_forms__mutmut_65": "an added 'X' is never the last letter of a lower-case key",
    "core.screening.matching.xǁTermIndexǁadd__mutmut_16": "spaces are ASCII: isascii() is the same with or without them",
    "core.screening.matching.xǁTermIndexǁadd__mutmut_17": "spaces are ASCII: isascii() is the same with or without them",
    "core.screening.matching.xǁTermIndexǁunmask__mutmut_23": (
        "the default is read only for lengths no list word has; 'XXXX' needs four, and four-letter words exist"
    ),
    "core.screening.matching.xǁTermIndexǁunmask__mutmut_34": "zip(strict=None) is zip(strict=False)",
    "core.screening.matching.xǁTermIndexǁunmask__mutmut_37": "zip() is zip(strict=False)",
    "core.screening.normalise.xǁ_LatinTableǁ_map__mutmut_4": "latin() case-folds what the table returns",
    "core.screening.normalise.xǁ_LatinTableǁ_map__mutmut_17": "latin() case-folds what the table returns",
    "core.screening.normalise.x__is_latin__mutmut_6": "a default name 'XXXX' does not start with LATIN either",
    "core.screening.lists.xǁSafetyListsǁload__mutmut_6": "codec names ignore case",
    "core.screening.ages.x__unit_pattern__mutmut_18": "rstrip('XX*XX') strips {X, *}; units are case-folded",
    "core.screening.ages.x__unit_pattern__mutmut_41": "'XX(?!)XX' never matches, like '(?!)'",
}
_PREFIX_FIRST = (
    "reverse text order puts a word before every shorter word it starts with, as length order does; "
    "that is all the alternation needs"
)
EQUIVALENT |= {f"core.screening.ages.x__unit_pattern__mutmut_{n}": _PREFIX_FIRST for n in (3, 6)}
EQUIVALENT |= {f"core.screening.ages.xǁAgeReaderǁ__init____mutmut_{n}": _PREFIX_FIRST for n in (17, 20)}
EQUIVALENT |= {
    f"core.screening.ages.xǁAgeReaderǁ__init____mutmut_{n}": (
        "the order of the words before an age: searched for a yes/no answer, every alternative is tried"
    )
    for n in (69, 72, 73, 74)
}
EQUIVALENT |= {
    "core.screening.ages.xǁAgeReaderǁ__init____mutmut_25": "'XX(?!)XX' is never in the lower-case latin view, like '(?!)'",
    "core.screening.ages.xǁAgeReaderǁminor_age__mutmut_19": "'.' and ',' are in 'XX.,XX'; 'X' is never in the lower-case latin view",
    "core.screening.ages.xǁAgeReaderǁ_numbers_in__mutmut_8": (
        "has_words only skips a loop that finds nothing; `or` runs it more often, same numbers"
    ),
    "core.screening.ages.xǁAgeReaderǁsexual_before__mutmut_7": "at 0 the window is empty and the pattern needs a word",
}
EQUIVALENT |= {
    f"core.screening.matching.xǁTermIndexǁscan__mutmut_{n}": (
        "the running maximum of benign ends starts below the first end: every span ends at 1 or later"
    )
    for n in (34, 35)
}
EQUIVALENT |= {
    f"core.screening.matching.xǁTermIndexǁ__init____mutmut_{n}": "finish(), which every index goes through, sets it"
    for n in (3, 4)
}
EQUIVALENT["core.screening.matching.xǁTermIndexǁ__init____mutmut_2"] = (
    "add() resets the automaton; an index with no term cannot be scanned either way (pyahocorasick raises)"
)
EQUIVALENT |= {
    f"core.screening.normalise.x__merged__mutmut_{n}": "last_end is read only after the first token has set it"
    for n in (4, 5, 6)
}
EQUIVALENT |= {
    f"core.screening.normalise.x__merged__mutmut_{n}": "breaks is built from run: the lengths always agree"
    for n in (67, 70, 71)
}
EQUIVALENT["core.screening.normalise.x__load_confusables__mutmut_10"] = "codec names ignore case"
EQUIVALENT["core.screening.matching.xǁTermIndexǁ_compounds__mutmut_65"] = (
    "range(0, ...) adds only positions already visited (ascending order), whose reach is never read again"
)


def equivalent(mutant: str, before: str, after: str) -> bool:
    if mutant in EQUIVALENT:
        return True
    case_only = bool(before) and before != after and before.lower() == after.lower()
    return case_only and module_of(mutant) in CASE_BLIND


def report(dotted: list[str]) -> int:
    states = results()
    worst = 100.0
    for name in dotted:
        mine = {m: s for m, s in states.items() if module_of(m) == name}
        counts = Counter(mine.values())
        if not mine or counts.get("not checked", 0) == len(mine):
            print(f"{name}: not run yet")
            continue
        survivors = sorted(m for m, s in mine.items() if s in ("survived", "no tests"))
        same = [m for m in survivors if equivalent(m, *diff(m))]
        total = len(mine) - counts.get("not checked", 0) - counts.get("skipped", 0)
        killed = counts.get("killed", 0) + counts.get("timeout", 0)
        share = 100 * killed / max(1, total - len(same))
        worst = min(worst, share)
        print(
            f"{name}: {killed} killed of {total} mutants ({100 * killed / max(1, total):.1f} %); "
            f"{len(same)} equivalent -> {share:.1f} % of the rest; "
            f"{counts.get('survived', 0)} survived, {counts.get('no tests', 0)} without a covering test"
        )
        for mutant in same:
            if mutant in EQUIVALENT:
                print(f"    equivalent: {mutant}: {EQUIVALENT[mutant]}")
        for mutant in survivors:
            if mutant not in same:
                before, after = diff(mutant)
                print(f"    {mine[mutant]}: {mutant}\n        - {before.strip()}\n        + {after.strip()}")
    return 0 if worst >= 85 else 1


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__.split("\n\n")[0])
    known = modules()
    parser.add_argument("modules", nargs="*", help=f"default: all of {sorted(known)}")
    parser.add_argument("--report", action="store_true", help="only print the figures of the last run")
    parser.add_argument("--children", type=int, default=2, help="mutants tested at once (default 2)")
    args = parser.parse_args(argv)
    unknown = [name for name in args.modules if not chosen([name], known)]
    if unknown:
        parser.error(f"unknown module(s) {unknown}; one of {sorted(known)}")
    dotted = chosen(args.modules, known)
    if not args.report:
        run(dotted, args.children)
    return report(dotted)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
