#!/usr/bin/env bash
# Strata vs PyTorch 1.13 (same oneDNN 2.6.3) on one training step, run
# alternately on this machine; prints both JSON lines and the ratio of medians.
#   bench/compare.sh [model] [batch] [rounds]
set -euo pipefail
model=${1:-lenet5}; batch=${2:-64}; rounds=${3:-3}
cd "$(dirname "$0")/.."
peer=../shared/bench/torch_peer.py
bazel build -c opt //bench:train_step >/dev/null 2>&1
for r in $(seq "$rounds"); do
  s=$(OMP_NUM_THREADS=2 bazel-bin/bench/train_step --model="$model" --batch="$batch" --iters=200)
  p=$(/usr/bin/python3 "$peer" --model="$model" --mode=train --batch="$batch" --threads=2 --iters=200 --warmup=10)
  echo "$s"; echo "$p"
  python3 - "$s" "$p" <<'PY'
import json, sys
s, p = (json.loads(a) for a in sys.argv[1:3])
print(f"round: strata {s['ms_per_step_median']} ms, pytorch {p['ms_per_step_median']} ms, "
      f"speed-up {p['ms_per_step_median'] / s['ms_per_step_median']:.2f}x")
PY
done
