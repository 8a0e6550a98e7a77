#!/usr/bin/env bash
# Run the test suite once per Keras backend (TensorFlow, JAX, torch), on the CPU.
#   bash tests/run.sh            the full suite (the README's test command)
#   bash tests/run.sh --quick    the inner-loop tier: tests not marked slow (pytest -m "not slow")
# Tests marked one_backend run under the first backend only. Other arguments go to pytest.
# Each backend's tests run in KERAS_ACTS_TEST_WORKERS processes (pytest-xdist, a module per
# process at a time; default: the number of CPUs, at most 4; 1 runs them in this process).
# Prints the 15 slowest tests per backend and, last, each
# backend's result and time. Exits non-zero if any backend fails.
set -u
cd "$(dirname "$0")/.."
marker=()
if [ "${1:-}" = "--quick" ]; then
  marker=(-m "not slow")
  shift
fi
workers=${KERAS_ACTS_TEST_WORKERS:-$(python -c "import os; print(min(4, os.cpu_count() or 1))")}
parallel=()
if [ "$workers" -gt 1 ] && python -c "import xdist" 2>/dev/null; then
  parallel=(-n "$workers" --dist loadfile --no-loadscope-reorder)  # conftest orders the modules
fi
status=0
summary=""
backends=(${KERAS_ACTS_TEST_BACKENDS:-tensorflow jax torch})
# tests marked one_backend (statistics, nothing Keras computes) run under the first backend only
export KERAS_ACTS_ONE_BACKEND=${backends[0]}
for backend in "${backends[@]}"; do
  echo "===== KERAS_BACKEND=$backend ====="
  start=$SECONDS
  KERAS_BACKEND=$backend CUDA_VISIBLE_DEVICES="" TF_CPP_MIN_LOG_LEVEL=2 python -m pytest -q \
    -p no:cacheprovider --durations=15 "${parallel[@]}" "${marker[@]}" "$@"
  rc=$?
  [ $rc -eq 0 ] || status=1
  summary+="$backend $([ $rc -eq 0 ] && echo passed || echo FAILED) in $((SECONDS - start)) s; "
done
echo "===== ${summary% }"
exit $status
