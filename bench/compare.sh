#!/usr/bin/env bash
# Strata vs PyTorch 1.13 (same oneDNN 2.6.3), run alternately on this machine;
# prints both JSON lines and the ratio of medians per round.
#   bench/compare.sh MODEL BATCH ROUNDS [train|infer] [ITERS] [extra flags for bench/step]
# e.g. bench/compare.sh lenet5 64 5
#      bench/compare.sh resnet50 1 3 infer 20 --resnet_v1_5   (torchvision's ResNets are v1.5)
set -euo pipefail
model=${1:-lenet5}; batch=${2:-64}; rounds=${3:-3}; mode=${4:-train}; iters=${5:-200}
shift $(( $# < 5 ? $# : 5 ))
cd "$(dirname "$0")/.."
peer=../shared/bench/torch_peer.py
peer_model=$model
[[ $model == vgg_d ]] && peer_model=vgg16
bazel build -c opt //bench:step >/dev/null 2>&1
warmup=$(( iters >= 20 ? 10 : 2 ))
for r in $(seq "$rounds"); do
  s=$(OMP_NUM_THREADS=2 bazel-bin/bench/step --model="$model" --batch="$batch" --mode="$mode" \
        --iters="$iters" --warmup="$warmup" "$@")
  p=$(/usr/bin/python3 "$peer" --model="$peer_model" --mode="$mode" --batch="$batch" --threads=2 \
        --iters="$iters" --warmup="$warmup")
  echo "$s"; echo "$p"
  python3 - "$s" "$p" <<'PY'
import json, sys
s, p = (json.loads(a) for a in sys.argv[1:3])
print(f"round: strata {s['ms_per_step_median']} ms, pytorch {p['ms_per_step_median']} ms, "
      f"speed-up {p['ms_per_step_median'] / s['ms_per_step_median']:.2f}x")
PY
done
