#!/usr/bin/env bash
# The test suite with two CPU-burning processes beside it, as on a busy 2-core machine.
#
#   tests/under_load.sh                    # the whole suite, once
#   RUNS=3 tests/under_load.sh -x -q       # three times in a row, stopping at the first failure
#   tests/under_load.sh tests/test_locks.py
#
# Arguments go to pytest. PYTHON picks the interpreter (default .venv/bin/python, else python3).
# The burners are stopped when the script ends, whether the tests pass, fail or are interrupted.
set -u
cd "$(dirname "$0")/.."
python=${PYTHON:-.venv/bin/python}
[ -x "$python" ] || python=python3
runs=${RUNS:-1}

burners=()
stop_burners() {
    [ ${#burners[@]} -eq 0 ] && return
    kill "${burners[@]}" 2>/dev/null
    wait "${burners[@]}" 2>/dev/null
}
trap stop_burners EXIT
trap 'exit 130' INT TERM

for _ in 1 2; do
    python3 -c 'while 1: pass' &
    burners+=($!)
done
echo "under load: burners ${burners[*]} running; $runs run(s) of pytest $*" >&2

status=0
for run in $(seq 1 "$runs"); do
    started=$(date +%s)
    "$python" -m pytest -p no:cacheprovider "$@"
    status=$?
    echo "under load: run $run of $runs exited $status after $(( $(date +%s) - started )) s" >&2
    [ "$status" -eq 0 ] || break
done
exit "$status"
