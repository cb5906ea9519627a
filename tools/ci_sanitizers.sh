#!/usr/bin/env bash
# Runs the test suite under the sanitizers, each configuration in its own
# Bazel output base so that the shared optimised build's cache is untouched
# (and the two sanitizer builds do not evict each other).
#
#   tools/ci_sanitizers.sh                  # asan (ASan + UBSan, -c dbg), then ubsan
#   tools/ci_sanitizers.sh asan             # one configuration
#   tools/ci_sanitizers.sh ubsan -- //tests:serialization_test   # chosen targets
#
# STRATA_SANITIZER_OB_ROOT (default /tmp) holds the output bases
# (strata_<config>_ob). Exits non-zero if any configuration fails; prints
# how long each took. Tests get 5x their usual time limits (sanitized debug
# builds are slow). UBSan findings fail the test (halt_on_error), leaks
# found by LeakSanitizer too.
set -uo pipefail
cd "$(dirname "$0")/.."

configs=()
targets=()
while (($#)); do
  case "$1" in
    --) shift; targets=("$@"); break ;;
    asan|ubsan|tsan) configs+=("$1"); shift ;;
    *) echo "usage: $0 [asan] [ubsan] [tsan] [-- targets...]" >&2; exit 2 ;;
  esac
done
((${#configs[@]})) || configs=(asan ubsan)
((${#targets[@]})) || targets=(//tests/...)

root="${STRATA_SANITIZER_OB_ROOT:-/tmp}"
status=0
summary=()
for config in "${configs[@]}"; do
  ob="$root/strata_${config}_ob"
  echo "=== --config=$config in $ob: ${targets[*]}"
  start=$(date +%s)
  extra=()
  # libgomp is not instrumented for TSan: one OpenMP thread, so that only
  # Strata's own threads race (see .bazelrc).
  [[ "$config" == tsan ]] && extra=(--test_env=OMP_NUM_THREADS=1)
  # --symlink_prefix=/ leaves the workspace's bazel-bin links alone;
  # --max_idle_secs lets this extra server exit soon after.
  bazel --output_base="$ob" --max_idle_secs=120 test --config="$config" --symlink_prefix=/ \
    --keep_going --test_output=errors --test_timeout=300,900,1800,3600 \
    --test_env=ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1:allocator_may_return_null=1 \
    --test_env=UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    --test_env=TSAN_OPTIONS=halt_on_error=1:allocator_may_return_null=1 \
    "${extra[@]}" "${targets[@]}"
  rc=$?
  elapsed=$(($(date +%s) - start))
  summary+=("--config=$config: exit $rc after ${elapsed}s")
  ((rc == 0)) || status=1
done
printf '%s\n' "${summary[@]}"
exit $status
