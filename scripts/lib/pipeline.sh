# Shell helpers shared by the scripts that run the pipeline's processes (bench-pipeline, faults).
# Source it; it defines functions only.

now() { echo "$EPOCHREALTIME"; }
# seconds_since T: whole seconds from an earlier now() to now (no subprocess: polled often).
seconds_since() { local a="${1/./}" b="${EPOCHREALTIME/./}"; echo $(( (10#$b - 10#$a) / 1000000 )); }
# elapsed A B [DECIMALS]: B - A in seconds, for display.
elapsed() { awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN { printf "%.*f", d, b - a }'; }

# json_int JSON KEY: an integer member of a flat JSON object (empty if absent or null).
json_int() { [[ "$1" =~ \"$2\":([0-9]+) ]] && echo "${BASH_REMATCH[1]}" || true; }
json_str() { [[ "$1" =~ \"$2\":\"([^\"]*)\" ]] && echo "${BASH_REMATCH[1]}" || true; }

# alive PID: the process exists and is not a zombie (kill -0 succeeds on zombies).
proc_alive() {
    local stat
    stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
    stat="${stat##*) }"
    case "${stat%% *}" in Z|X|x) return 1 ;; esac
}

# wait_connected LOG [FROM_LINE]: until the process logged that it consumes (or 20 s).
wait_connected() {
    local i
    for ((i = 0; i < 200; i++)); do
        tail -n "+${2:-1}" "$1" 2>/dev/null | grep -q "connected; consuming" && return 0
        sleep 0.1
    done
    echo "  !! $(basename "$1" .log) did not connect within 20 s (see $1)" >&2
    return 1
}

# Server coordinates from the URLs `scripts/services env` gave: pg_admin_url, redis_host,
# redis_port, amqp_base.
server_coordinates() {
    pg_admin_url="${REGISTRAR_POSTGRES_URL%/*}/postgres"
    local hp="${REGISTRAR_REDIS_URL#redis://}"; hp="${hp%%/*}"
    redis_host="${hp%:*}"; redis_port="${hp##*:}"
    amqp_base="${REGISTRAR_AMQP_URL%/*}"
}

# build_release: builds the registrar binary (release) and sets $bin.
build_release() {
    local log
    echo "==> building registrar (release)"
    log="$(mktemp -t registrar-build.XXXXXX)"
    if ! swift build -c release --product registrar >"$log" 2>&1; then
        grep -v "prohibited flag" "$log" | tail -n 30 >&2
        rm -f "$log"
        echo "the release build failed" >&2
        return 1
    fi
    tail -n 1 "$log"
    rm -f "$log"
    bin="$PWD/.build/release/registrar"
}
