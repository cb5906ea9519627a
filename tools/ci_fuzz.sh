#!/usr/bin/env bash
# Builds every libFuzzer harness (fuzz/, --config=fuzz: clang, ASan, UBSan) in
# its own output base and runs each for a short time on its committed seeds
# and the committed crash regressions. Exits non-zero on a crash, a leak, a
# sanitizer report or a timeout of one input.
#
#   tools/ci_fuzz.sh [SECONDS_PER_FUZZER]     (default 20)
#
# Needs clang (tools/setup.sh --fuzz). STRATA_FUZZ_OB (default
# /tmp/strata_fuzz_ob) is the output base; scratch corpora go to a fresh
# temporary directory, so the working tree is never written.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
ob="${STRATA_FUZZ_OB:-/tmp/strata_fuzz_ob}"
start=$(date +%s)
bazel --output_base="$ob" --max_idle_secs=120 build --config=fuzz //fuzz:all
bin="$(bazel --output_base="$ob" info --config=fuzz bazel-bin 2>/dev/null)/fuzz"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
status=0
for corpus in fuzz/corpus/*/; do
  name="$(basename "$corpus")"
  mkdir -p "$scratch/$name"
  extra=()
  [[ "$name" == graph_def ]] && extra=(-dict=fuzz/graph_def.dict)
  # The committed crash inputs of this fuzzer, replayed first.
  for r in fuzz/regressions/"$name"-*; do
    [[ -e "$r" ]] || continue
    if ! "$bin/${name}_fuzzer" "$r" >"$scratch/$name.replay.log" 2>&1; then
      echo "ci_fuzz: ${name}_fuzzer fails on $r:"
      tail -30 "$scratch/$name.replay.log"
      status=1
    fi
  done
  if "$bin/${name}_fuzzer" "$scratch/$name" "$corpus" "${extra[@]}" -max_total_time="$seconds" -timeout=10 \
      -print_final_stats=1 -artifact_prefix="$scratch/$name-" >"$scratch/$name.log" 2>&1; then
    echo "ci_fuzz: ${name}_fuzzer: $(grep -m1 'number_of_executed_units' "$scratch/$name.log" | awk '{print $2}') inputs, $(grep -E '#[0-9]+[[:space:]]+DONE' "$scratch/$name.log" | grep -oE 'cov: [0-9]+ ft: [0-9]+'), no crash"
  else
    echo "ci_fuzz: ${name}_fuzzer FAILED:"
    grep -v '^\[libprotobuf' "$scratch/$name.log" | tail -40
    status=1
  fi
done
echo "ci_fuzz: done in $(($(date +%s) - start))s"
exit $status
