#!/bin/sh
# A stand-in for `squeue`/`sacct`, the partner of submit.sh: `status.sh JOBID` prints `running`, `success` or
# `failed`, as Snakemake's cluster-generic executor expects, from the files submit.sh keeps in
# .snakemake/cluster/JOBID/. Each answer is appended to .snakemake/cluster/status.tsv (job id, answer).
set -eu

if [ "$#" -ne 1 ]; then
    echo "usage: status.sh JOBID" >&2
    exit 2
fi
queue=.snakemake/cluster
dir=$queue/$1
if [ ! -d "$dir" ]; then
    echo "status.sh: no job $1 in $queue/" >&2
    exit 1
fi

if [ ! -f "$dir/exit" ]; then
    state=running
elif [ "$(cat "$dir/exit")" = 0 ]; then
    state=success
else
    state=failed
fi
printf '%s\t%s\n' "$1" "$state" >> "$queue/status.tsv"
echo "$state"
