"""Style: ruff (pyflakes, bugbear, import order, pyupgrade) is clean over the code, scripts, benchmarks and tests."""
import subprocess
import sys
from pathlib import Path


def test_ruff_is_clean(repo):
    ruff = Path(sys.executable).with_name("ruff")
    result = subprocess.run([str(ruff), "check", "convatlas", "scripts", "bench", "tests"], cwd=repo,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
