"""A stand-in for a cluster's status command: ``running``, ``success`` or ``failed`` for a job id
that submit.py printed."""
import os
import sys
from pathlib import Path

done = Path(os.environ["STANDIN_CLUSTER_DIR"]) / f"{sys.argv[1]}.exit"
print("running" if not done.exists() else "success" if done.read_text().strip() == "0" else "failed")
