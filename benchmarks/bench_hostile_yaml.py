"""How fast hostile YAML is refused, as a ratio to reading one real trial file (not a test).

    .venv/bin/python benchmarks/bench_hostile_yaml.py

Each input is read with trialmeta.io.read_yaml (best of 5). The "billion laughs" files
expand to 10^9 and 10^10 values if expanded; they are refused on the parser's events, so their
time is that of parsing ~1 KB of text. Prints seconds and the ratio to trials/faktion.yaml.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from trialmeta.errors import InputError
from trialmeta.io import read_yaml

ROOT = Path(__file__).resolve().parents[1]


def bomb(levels: int) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def best(path: Path) -> float:
    times = []
    for _ in range(5):
        t = time.perf_counter()
        try:
            read_yaml(path)
        except InputError:
            pass
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    base = best(ROOT / "trials" / "faktion.yaml")
    print(f"trials/faktion.yaml (baseline)  {base * 1e3:8.2f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        cases = {"alias bomb, 9 levels": bomb(9), "alias bomb, 10 levels": bomb(10),
                 "nesting 5000 deep": "x: " + "[" * 5000 + "]" * 5000 + "\n",
                 "5000-digit integer": "x: " + "9" * 5000 + "\n"}
        for name, text in cases.items():
            path = Path(tmp) / "case.yaml"
            path.write_text(text)
            t = best(path)
            print(f"{name:<31} {t * 1e3:8.2f} ms  ({len(text.encode()):,} bytes; ratio {t / base:.2f})")


if __name__ == "__main__":
    main()
