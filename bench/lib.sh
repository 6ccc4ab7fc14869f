# Helpers shared by bench/run.sh and bench/sections/*.sh (sourced, not run).
#
# A section is a bash script that prints table rows on stdout with `row` and progress on stderr
# with `log`. It gets, from run.sh: BENCH_DIR, ROOT, BENCH_TMP (a temp dir removed at exit),
# BENCH_BIN_DIR (the release build's bin directory; a section names each product it needs on a
# "# bench-needs-product: NAME" line, and run.sh builds those of the sections it runs, unless
# BENCH_BIN_DIR is already set: then it uses the binaries there and builds nothing), DETOUR_BENCH
# (the detour-bench binary, when a section to run needs it), BENCH_PY (the venv's python, with Apprise) and the sizes below.
# Servers it starts with `start_bg` are stopped when the section ends and, failing that, by run.sh.

: "${BENCH_MESSAGES:=10000}"       # emails per run
: "${BENCH_CONNECTIONS:=1,4,8}"    # SMTP connection counts
: "${BENCH_DELIVERIES:=10000}"     # webhook deliveries
: "${BENCH_CONCURRENCY:=16}"       # webhook requests in flight (and wrk connections)
: "${BENCH_WRK_SECONDS:=5}"        # how long wrk runs
: "${BENCH_APPRISE_BUDGET:=60}"    # seconds per Apprise run; it sends fewer than asked when slower, and is scaled
: "${BENCH_DURABLE_MESSAGES:=20000}"     # durable fan-out through the daemon: recipients
: "${BENCH_DURABLE_CONNECTIONS:=4}"      # its SMTP connections (max_connections; smtp-source -s; Postfix's limit)
: "${BENCH_DURABLE_CONCURRENCY:=16}"     # its delivery.concurrency.email
: "${BENCH_DURABLE_BIG:=100000}"         # recipients of the peak-RSS fan-out (0: skip it)
: "${BENCH_DURABLE_TIMEOUT:=600}"        # seconds allowed for each step of the durable section
: "${BENCH_SMS_TEXTS:=10000}"            # SMS fan-out through the daemon: texts (distinct numbers)
: "${BENCH_SMS_CONCURRENCY:=16}"         # its delivery.concurrency.sms (and wrk's connections)
: "${BENCH_SMS_TIMEOUT:=300}"            # seconds allowed for each step of the SMS section
: "${BENCH_REPEAT:=3}"             # runs of each Detour and reference measurement; the table shows the best

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

# One table row: section, tool, figure, reference, ratio (tabs and newlines are not allowed inside).
row() { printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5"; }

# A free TCP port on 127.0.0.1.
free_port() {
  "$BENCH_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
  local port=$1 tries=$(( ${2:-10} * 10 ))
  while ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || return 1
    sleep 0.1
  done
}

# start_bg NAME COMMAND...: runs COMMAND in the background with its output in $BENCH_TMP/NAME.log,
# records its pid for run.sh's clean-up, and sets BG_PID.
start_bg() {
  local name=$1; shift
  "$@" >"$BENCH_TMP/$name.log" 2>&1 &
  BG_PID=$!
  echo "$BG_PID" >>"$BENCH_TMP/pids"
}

# stop_bg PID: stops a process start_bg started, and waits for it.
stop_bg() {
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
  sed -i "/^$1\$/d" "$BENCH_TMP/pids"
}

# Seconds since the epoch, with nanoseconds.
now() { date +%s.%N; }

# json_get FILE EXPRESSION: a value from a JSON file; EXPRESSION is Python over `d`, e.g. 'd[0]["seconds"]'.
json_get() { "$BENCH_PY" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

# The largest of the numbers given.
max_of() { printf '%s\n' "$@" | sort -g | tail -1; }

# Arithmetic and formatting (awk: bash has no floats).
calc() { awk "BEGIN { printf \"%.6f\", $* }"; }
# 12345.6 -> 12,346; 12.34 -> 12.3
group() { awk -v n="$1" 'BEGIN { if (n < 100) { printf "%.1f\n", n; exit } s = sprintf("%.0f", n); r = ""; while (length(s) > 3) { r = "," substr(s, length(s) - 2) r; s = substr(s, 1, length(s) - 3) } print s r }'; }
# ratio A B -> 0.59× (two significant figures)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) { print "n/a"; exit } r = a / b; printf (r < 10 ? "%.2f×\n" : "%.0f×\n"), r }'; }
# at_least A B FACTOR -> yes when A >= FACTOR * B
at_least() { awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN { print (a >= f * b ? "yes" : "no") }'; }
