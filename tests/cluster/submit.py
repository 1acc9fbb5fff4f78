"""A stand-in for ``sbatch``: runs a Snakemake job script as its own local process, in the
background, and prints a job id, as a cluster's submit command does. status.py reports on it.

The job's exit code lands in ``<state>/<id>.exit`` (written atomically when the job ends); the
ledger ``<state>/ledger.tsv`` records each job's id, process id and job script. ``<state>`` is
``$STANDIN_CLUSTER_DIR``.
"""
import os
import subprocess
import sys
import uuid
from pathlib import Path

state = Path(os.environ["STANDIN_CLUSTER_DIR"])
state.mkdir(parents=True, exist_ok=True)
jobscript = Path(sys.argv[-1])
job = uuid.uuid4().hex[:12]
kept = state / f"{job}.sh"  # the submitted script, kept as a cluster's spool keeps it
kept.write_bytes(jobscript.read_bytes())
done = state / f"{job}.exit"
with open(state / f"{job}.out", "w") as out:
    process = subprocess.Popen(
        ["/bin/sh", "-c", '/bin/sh "$1"; echo $? > "$2.tmp"; mv "$2.tmp" "$2"', "standin-job", str(kept), str(done)],
        stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
with open(state / "ledger.tsv", "a") as ledger:
    ledger.write(f"{job}\t{process.pid}\t{jobscript.name}\n")
print(job)
