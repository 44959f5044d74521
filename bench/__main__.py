"""Run every `bench/bench_*.py` module's `main()` in name order: `python -m bench` (what `make bench` runs)."""

from __future__ import annotations

import importlib
import pkgutil

import bench


def main() -> None:
    names = sorted(info.name for info in pkgutil.iter_modules(bench.__path__) if info.name.startswith("bench_"))
    for name in names:
        print(f"== bench.{name} ==", flush=True)
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main()
