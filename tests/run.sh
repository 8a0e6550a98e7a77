#!/usr/bin/env bash
# Run the test suite once per Keras backend (TensorFlow, JAX, torch), on the CPU.
# Extra arguments go to pytest. Exits non-zero if any backend fails.
set -u
cd "$(dirname "$0")/.."
status=0
for backend in ${KERAS_ACTS_TEST_BACKENDS:-tensorflow jax torch}; do
  echo "===== KERAS_BACKEND=$backend ====="
  KERAS_BACKEND=$backend CUDA_VISIBLE_DEVICES="" python -m pytest -q -p no:cacheprovider --durations=15 "$@" || status=1
done
exit $status
