#!/usr/bin/env bash
# Test launcher (what torchrun does, on the loopback): starts RANKS copies of a command with RANK, WORLD_SIZE,
# LOCAL_RANK, MASTER_ADDR=127.0.0.1 and a random MASTER_PORT, waits for all, and checks their exit codes.
#   run_ranks.sh RANKS [--expect-exit CODE --expect-message TEXT] -- command args...
# Default expectation: every rank exits 0. With --expect-exit: every rank exits CODE and rank 0's output holds TEXT.
set -u
ranks="$1"; shift
expect_exit=0; expect_message=""
while [ "$1" != "--" ]; do
  case "$1" in
    --expect-exit) expect_exit="$2"; shift 2 ;;
    --expect-message) expect_message="$2"; shift 2 ;;
    *) echo "run_ranks.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
shift
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
port=$(( 20000 + (RANDOM * 7 + $$) % 40000 ))
pids=()
for ((r = 0; r < ranks; ++r)); do
  if [ "$ranks" -gt 1 ]; then
    RANK=$r WORLD_SIZE=$ranks LOCAL_RANK=$r MASTER_ADDR=127.0.0.1 MASTER_PORT=$port "$@" >"$logs/$r" 2>&1 &
  else
    "$@" >"$logs/$r" 2>&1 &
  fi
  pids+=($!)
done
status=0
for ((r = 0; r < ranks; ++r)); do
  wait "${pids[$r]}"; rc=$?
  echo "--- rank $r exit $rc"; tail -n 15 "$logs/$r"
  [ "$rc" -eq "$expect_exit" ] || { echo "rank $r exited $rc, expected $expect_exit"; status=1; }
done
if [ -n "$expect_message" ] && ! grep -qF -- "$expect_message" "$logs/0"; then
  echo "rank 0's output lacks: $expect_message"; status=1
fi
exit $status
