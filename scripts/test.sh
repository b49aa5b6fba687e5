#!/usr/bin/env bash
# Runs the whole test suite: every runner in turn, each one's full output on the
# terminal, then one line per runner and a closing "N passed, N failed" line that
# sums them all. A failing runner does not stop the others; the exit status is
# non-zero when any runner failed, or ran no test although it had test files.
#
#   1. bun test      test/**/*.test.ts except *.deno.test.ts, test/browser/, test/packaging/
#   2. deno check    the files of step 3 type-checked together, counted as one test
#   3. deno test -A  test/**/*.test.ts except *.bun.test.ts, test/browser/, test/packaging/
#                    (--no-check: step 2 did it, and a type error must not hide every result)
#   4. browser       bun test test/browser/ (headless Chromium through playwright-core)
#   5. packaging     bun test test/packaging/ (npm pack, bun add, deno publish --dry-run, ...)
#
# Each runner is stopped after RUNNER_TIMEOUT seconds (default 1200), and none runs past
# SUITE_DEADLINE seconds from the start (default 4200, 70 minutes), so that one hung test
# cannot eat CI's time; what it reported until then is counted, plus one failure.
#
# Environment: DATABASE_URL (PostgreSQL for the contract suite), CHROMIUM_PATH, RUNNER_TIMEOUT,
# SUITE_DEADLINE.
# Extra arguments select runners by name, e.g. `bash scripts/test.sh bun deno`.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
export PATH="$ROOT/node_modules/.bin:$PATH"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}"
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"
RUNNER_TIMEOUT="${RUNNER_TIMEOUT:-1200}"
# Line coverage of src/ from the bun and deno runners, combined (COVERAGE=0 turns it off;
# COVERAGE_MIN=90 fails the run below that percentage).
COVERAGE="${COVERAGE:-1}"
COVERAGE_MIN="${COVERAGE_MIN:-}"
SUITE_DEADLINE="${SUITE_DEADLINE:-4200}"

LOGS="$(mktemp -d)"
trap 'rm -rf "$LOGS"' EXIT

SELECTED=("$@")
TOTAL_PASSED=0
TOTAL_FAILED=0
EXIT_STATUS=0
REPORT=()
FAILED_TESTS=()

selected() {
  [[ ${#SELECTED[@]} -eq 0 ]] && return 0
  local name
  for name in "${SELECTED[@]}"; do [[ "$name" == "$1" ]] && return 0; done
  return 1
}

# Test files under a directory, one per line, as ./relative paths (bun treats
# arguments without ./ as name filters). $2 is a grep -E pattern of paths to drop.
test_files() {
  local dir="$1" drop="$2"
  [[ -d "$dir" ]] || return 0
  find "$dir" -type f \( -name '*.test.ts' -o -name '*.test.tsx' -o -name '*.test.js' -o -name '*.test.mjs' \) \
    -not -path '*/node_modules/*' | sed 's#^\([^./]\)#./\1#' | { if [[ -n "$drop" ]]; then grep -Ev "$drop"; else cat; fi; } | sort
}

strip_ansi() { sed -E 's/\x1b\[[0-9;]*[A-Za-z]//g'; }

# The last "<n> <word>" summary line of bun test's output. Without one (bun was
# stopped), the "(pass)"/"(fail)" result lines are counted instead.
bun_count() {
  local word="$1" log="$2" n
  n="$(strip_ansi <"$log" | grep -E "^[[:space:]]*[0-9]+ $word\$" | tail -n 1 | tr -dc '0-9')"
  if [[ -z "$n" && "$word" != error ]]; then
    n="$(strip_ansi <"$log" | grep -cE "^\($word\) ")"
  fi
  echo "${n:-0}"
}

# Runs a command under the runner time limit, never past the whole suite's deadline;
# exit status 124 when it was stopped (at once when the deadline has already passed).
limited() {
  local left=$((SUITE_DEADLINE - SECONDS))
  if [[ $left -le 0 ]]; then
    echo "suite deadline of ${SUITE_DEADLINE} s reached: not started" >&2
    return 124
  fi
  timeout --kill-after=30 "$((left < RUNNER_TIMEOUT ? left : RUNNER_TIMEOUT))" "$@"
}

# record NAME PASSED FAILED EXIT_CODE FILE_COUNT
record() {
  local name="$1" passed="$2" failed="$3" code="$4" files="$5" note=""
  if [[ "$code" -eq 124 || "$code" -eq 137 ]]; then
    failed=$((failed + 1))
    note=" (stopped after ${RUNNER_TIMEOUT} s or at the suite deadline: counted as 1 more failure)"
  elif [[ "$code" -ne 0 && "$failed" -eq 0 ]]; then
    failed=1
    note=" (exited with status $code without a failing test: counted as 1 failure)"
  fi
  if [[ "$files" -gt 0 && $((passed + failed)) -eq 0 ]]; then
    failed=1
    note=" (ran no test from $files file(s): counted as 1 failure)"
  fi
  if [[ "$code" -ne 0 || "$failed" -gt 0 ]]; then EXIT_STATUS=1; fi
  TOTAL_PASSED=$((TOTAL_PASSED + passed))
  TOTAL_FAILED=$((TOTAL_FAILED + failed))
  REPORT+=("$(printf '  %-10s %5d pass %5d fail  from %d file(s)%s' "$name" "$passed" "$failed" "$files" "$note")")
}

banner() { printf '\n=== %s ===\n' "$*"; }

# run_bun NAME TIMEOUT_MS FILE...
run_bun() {
  local name="$1" timeout="$2"
  shift 2
  local log="$LOGS/$name.log" code
  banner "$name: bun test ($# file(s))"
  local coverage=()
  if [[ "$COVERAGE" != 0 && "$name" == bun ]]; then
    coverage=(--coverage --coverage-reporter=lcov --coverage-dir "$LOGS/coverage-bun")
  fi
  limited bun test --timeout "$timeout" "${coverage[@]}" "$@" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  local passed failed errors
  passed="$(bun_count pass "$log")"
  failed="$(bun_count fail "$log")"
  errors="$(bun_count error "$log")"
  # "(fail)" lines under the file heading bun prints before each file's results; bun repeats them
  # after "N tests failed:" at the end, where they belong to no file.
  mapfile -t -O "${#FAILED_TESTS[@]}" FAILED_TESTS < <(strip_ansi <"$log" | awk -v runner="$name" '
    /^[0-9]+ tests? failed:$/ { exit }
    /^[^ (].*\.test\.[cm]?[jt]sx?:$/ { file = substr($0, 1, length($0) - 1); next }
    /^\(fail\) / { t = substr($0, 8); sub(/ \[[0-9.]+m?s\]$/, "", t); print "  " runner "  " file ": " t }')
  # A file that throws while loading is reported as a failure and an error; a failing
  # node:test hook only as an error. Count the larger, never both.
  record "$name" "$passed" $((errors > failed ? errors : failed)) "$code" "$#"
}

# check_deno FILE...: one program, as `deno test` would check it; one test.
check_deno() {
  local code
  banner "deno-check: deno check ($# file(s))"
  limited deno check "$@" 2>&1
  code=$?
  if [[ $code -eq 0 ]]; then record deno-check 1 0 0 "$#"; else record deno-check 0 1 "$code" "$#"; fi
}

# run_deno FILE...
run_deno() {
  local log="$LOGS/deno.log" xml="$LOGS/deno.xml" code counts
  banner "deno: deno test -A --no-check ($# file(s))"
  local coverage=()
  [[ "$COVERAGE" != 0 ]] && coverage=(--coverage="$LOGS/coverage-deno")
  limited deno test -A --no-check --junit-path="$xml" "${coverage[@]}" "$@" 2>&1 | tee "$log"
  code=${PIPESTATUS[0]}
  counts="$(bun "$ROOT/scripts/count-junit.ts" "$xml")" || counts="0 0 0"
  read -r passed failed _skipped <<<"$counts"
  mapfile -t -O "${#FAILED_TESTS[@]}" FAILED_TESTS < <(bun "$ROOT/scripts/count-junit.ts" --failed "$xml" 2>/dev/null | sed 's/^/  deno  /')
  record deno "${passed:-0}" "${failed:-0}" "$code" "$#"
}

SHARED_DROP='^\./test/(browser|packaging)/'

if selected bun; then
  mapfile -t files < <(test_files test "$SHARED_DROP|\.deno\.test\.[jt]sx?\$")
  if [[ ${#files[@]} -gt 0 ]]; then run_bun bun 30000 "${files[@]}"; else record bun 0 0 0 0; fi
fi

if selected deno; then
  mapfile -t files < <(test_files test "$SHARED_DROP|\.bun\.test\.[jt]sx?\$")
  if [[ ${#files[@]} -gt 0 ]]; then
    check_deno "${files[@]}"
    run_deno "${files[@]}"
  else
    record deno 0 0 0 0
  fi
fi

if selected browser; then
  mapfile -t files < <(test_files test/browser "")
  if [[ ${#files[@]} -gt 0 ]]; then
    [[ -x "$CHROMIUM_PATH" ]] || echo "warning: no Chromium at $CHROMIUM_PATH (apt-get install -y chromium)" >&2
    run_bun browser 60000 "${files[@]}"
  else
    record browser 0 0 0 0
  fi
fi

if selected packaging; then
  mapfile -t files < <(test_files test/packaging "")
  if [[ ${#files[@]} -gt 0 ]]; then run_bun packaging 600000 "${files[@]}"; else record packaging 0 0 0 0; fi
fi

banner "summary (${SECONDS} s)"
printf '%s\n' "${REPORT[@]}"
if [[ ${#FAILED_TESTS[@]} -gt 0 ]]; then
  # Named again here, so that the end of a long log says which tests failed.
  echo "failed tests:"
  printf '%s\n' "${FAILED_TESTS[@]:0:40}"
  [[ ${#FAILED_TESTS[@]} -gt 40 ]] && echo "  ... and $((${#FAILED_TESTS[@]} - 40)) more"
fi
if [[ "$COVERAGE" != 0 ]]; then
  lcovs=()
  [[ -f "$LOGS/coverage-bun/lcov.info" ]] && lcovs+=("$LOGS/coverage-bun/lcov.info")
  if [[ -d "$LOGS/coverage-deno" ]]; then
    if [[ ! -f "$LOGS/coverage-deno/lcov.info" ]]; then
      # A child process killed while writing its profile leaves a partial JSON file, which makes
      # the report fail: drop the unreadable ones (their process's lines are lost), then report.
      bun -e 'const fs = require("node:fs"); const dir = process.argv[1];
        for (const name of fs.readdirSync(dir)) if (name.endsWith(".json")) {
          try { JSON.parse(fs.readFileSync(`${dir}/${name}`, "utf8")); } catch { fs.rmSync(`${dir}/${name}`); }
        }' "$LOGS/coverage-deno" 2>/dev/null
      deno coverage "$LOGS/coverage-deno" --lcov --output="$LOGS/coverage-deno/lcov.info" >/dev/null 2>&1
    fi
    [[ -f "$LOGS/coverage-deno/lcov.info" ]] && lcovs+=("$LOGS/coverage-deno/lcov.info")
  fi
  if [[ ${#lcovs[@]} -gt 0 ]]; then
    min=()
    [[ -n "$COVERAGE_MIN" ]] && min=(--min "$COVERAGE_MIN")
    if ! bun "$ROOT/scripts/coverage.ts" "${min[@]}" "${lcovs[@]}"; then
      TOTAL_FAILED=$((TOTAL_FAILED + 1))
      EXIT_STATUS=1
    fi
  fi
fi
echo "$TOTAL_PASSED passed, $TOTAL_FAILED failed"
exit "$EXIT_STATUS"
