"""Memory of ``perfscore.distributed``'s compiled-rubric cache as a worker sees many texts.

A worker that scores partitions for many rubric texts (one per bureau, say) keeps the
compiled rubrics it made, at most ``CACHE_SIZE`` of them. This script scores one small
partition with each of N distinct texts (the Shaoyang rubric, its id changed) and prints
the growth of the peak resident memory, and the pickled size and unpickling time of a
rubric and a compiled rubric::

    python benchmarks/cache_memory.py            # 300 texts
    python benchmarks/cache_memory.py --texts 50
"""

from __future__ import annotations

import argparse
import pickle
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import pandas  # noqa: E402  (after the path is set)

import perfscore  # noqa: E402
from perfscore.population import distributed  # noqa: E402

RUBRIC = ROOT / "rubrics" / "shaoyang" / "dept-overall-2023.yaml"
INPUTS = ROOT / "examples" / "daxiang-emergency-2023" / "inputs.yaml"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=300)
    args = parser.parse_args()
    text = RUBRIC.read_text(encoding="utf-8")
    # The rubric text with its 'uses' inlined is not needed: the shipped menu resolves.
    from perfscore.loading import load_document

    inputs, _ = load_document(INPUTS)
    frame = pandas.DataFrame([{"id": "d1", **inputs}])
    distributed.score_partition(frame, text)  # imports and first compile out of the way
    before = peak_mib()
    start = time.perf_counter()
    for i in range(args.texts):
        variant = text.replace("id: shaoyang-dept-overall-2023", f"id: shaoyang-{i}", 1)
        out = distributed.score_partition(frame, variant)
        assert out["status"].tolist() == ["ok"], out
    elapsed = time.perf_counter() - start
    print(f"texts scored: {args.texts} in {elapsed:.1f} s")
    size = getattr(distributed, "CACHE_SIZE", "unbounded")
    print(f"cache size: {size} (held: {len(distributed._COMPILED)})")
    print(f"peak resident memory growth: {peak_mib() - before:.0f} MiB")

    rubric = perfscore.load_rubric(RUBRIC)
    compiled = perfscore.compile_rubric(rubric)
    for name, obj in (("Rubric", rubric), ("CompiledRubric", compiled)):
        data = pickle.dumps(obj)
        runs = []
        for _ in range(5):
            start = time.perf_counter()
            restored = pickle.loads(data)
            if isinstance(restored, perfscore.Rubric):
                perfscore.compile_rubric(restored)
            runs.append(time.perf_counter() - start)
        runs.sort()
        print(
            f"{name}: pickled {len(data) / 1024:.0f} KiB, "
            f"unpickled and compiled in {runs[2] * 1000:.0f} ms (median of 5)"
        )


if __name__ == "__main__":
    main()
