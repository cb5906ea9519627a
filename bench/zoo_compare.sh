#!/usr/bin/env bash
# The lecture's ImageNet models against PyTorch 1.13 eager: training step at
# batch 8 and inference at batch 1, alternately, one round each (slow models).
#   bench/zoo_compare.sh [rounds]
# torchvision's ResNet-50 is the v1.5 variant, so Strata runs --resnet_v1_5 here;
# torchvision's AlexNet and GoogLeNet differ from the lecture's (see RESULTS.md).
set -euo pipefail
rounds=${1:-1}
cd "$(dirname "$0")"
for model in alexnet vgg_d googlenet resnet50; do
  extra=()
  [[ $model == resnet50 ]] && extra=(--resnet_v1_5)
  ./compare.sh "$model" 8 "$rounds" train 3 "${extra[@]}"
  ./compare.sh "$model" 1 "$rounds" infer 10 "${extra[@]}"
done
