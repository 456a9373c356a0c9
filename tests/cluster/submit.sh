#!/bin/sh
# A stand-in for `sbatch`, to run the workflow's cluster path on one machine without a scheduler
# (tests/test_cluster.py does; see "Running on a cluster" in README.md):
#
#   .venv/bin/snakemake --executor cluster-generic --jobs 4 \
#     --cluster-generic-submit-cmd 'sh tests/cluster/submit.sh {rule}' \
#     --cluster-generic-status-cmd 'sh tests/cluster/status.sh'
#
# Snakemake calls it as `submit.sh RULE JOBSCRIPT` for every job that is not a localrule. Like sbatch it keeps a
# copy of the job script, starts it in a new session detached from Snakemake (its own process group, no
# terminal, stdin from /dev/null), returns at once and prints a job id. The job's files are kept in
# .snakemake/cluster/<id>/ under the working directory: `jobscript`, `output` (its stdout and stderr) and, once
# it has ended, `exit` (its exit status), which status.sh reads. Each submission is appended to
# .snakemake/cluster/submitted.tsv (job id, rule).
set -eu

if [ "$#" -ne 2 ]; then
    echo "usage: submit.sh RULE JOBSCRIPT" >&2
    exit 2
fi
rule=$1
jobscript=$2
queue=.snakemake/cluster

mkdir -p "$queue"
dir=$(mktemp -d "$queue/job.XXXXXXXX")
id=${dir#"$queue"/}
cp "$jobscript" "$dir/jobscript"

# The exit status is written under another name and renamed, so status.sh never reads a half-written file.
run='sh "$1/jobscript"; echo "$?" > "$1/exit.part"; mv "$1/exit.part" "$1/exit"'
if command -v setsid > /dev/null 2>&1; then
    setsid sh -c "$run" job "$dir" < /dev/null > "$dir/output" 2>&1 &
else
    nohup sh -c "$run" job "$dir" < /dev/null > "$dir/output" 2>&1 &
fi

printf '%s\t%s\n' "$id" "$rule" >> "$queue/submitted.tsv"
echo "$id"
