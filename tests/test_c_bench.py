"""bench/bench_c.py runs (quick mode: tiny sizes, nothing written) so that it cannot rot;
no timing is asserted (the figures are in bench/RESULTS.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from c_programs import needs_runtime

ROOT = Path(__file__).resolve().parent.parent


@needs_runtime
def test_bench_c_quick(tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_c.py"), "--quick",
                        "--json", str(out)], capture_output=True, text=True, timeout=600,
                       cwd=ROOT)
    assert p.returncode == 0, p.stderr
    fig = json.loads(out.read_text())
    assert fig["workload"]["same_output"]
    assert fig["workload"]["heapviz"]["wall"] > 0 and fig["sort"]["native"]["wall"] > 0
    assert fig["leaks"]["kinds"] == ["definitely lost", "still reachable"]
    assert "≤ 3× native" in p.stdout and "h.leaks()" in p.stdout
