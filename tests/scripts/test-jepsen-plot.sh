#!/bin/sh
# jepsen/plot turns a run directory's history and nemesis.log into
# latency.png and rate.png. A made-up run (reads, writes and cas with every
# outcome, watch events and seen lines standing alone, a comment, two fault
# windows, a stray heal, a fault never healed and a nemesis line of the old
# form) gives PNGs and, with --keep-data, the points of each series, the
# completions per second and the fault windows on the history's clock, so
# wrong pairing or alignment fails here. A history appended to (a second
# "# start") is moved on; an empty one, one of observations only and one
# without "# start" still plot; with no gnuplot there are no plots and no
# failure; bad usage and a missing history are refused by name.
# shellcheck disable=SC1091 # tap.sh is found at run time
. "${top_srcdir:-.}/tests/lib/tap.sh"
command -v gnuplot >/dev/null || skip_all "gnuplot is not installed (apt-get install gnuplot-nox)"
plan 19
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
plot="${top_srcdir:-.}/jepsen/plot"

# run_plot ARGS...: jepsen/plot, its output in $tmp/out, 60 s at most.
run_plot() {
    if command -v timeout >/dev/null; then
        timeout 60 "$plot" "$@"
    else
        "$plot" "$@"
    fi >"$tmp/out" 2>&1
}
# ran STATUS ARGS...: jepsen/plot exits STATUS (else shows its output).
ran() {
    want=$1
    shift
    run_plot "$@"
    got=$?
    [ $got -eq "$want" ] && return 0
    echo "# exit $got, not $want; output:"; sed 's/^/# /' "$tmp/out"
    return 1
}
# refuses STATUS PATTERN ARGS...: exits STATUS and says PATTERN.
refuses() {
    want=$1 pat=$2
    shift 2
    ran "$want" "$@" && grep -q -- "$pat" "$tmp/out" && return 0
    echo "# no '$pat' in:"; sed 's/^/# /' "$tmp/out"
    return 1
}
# said PATTERN: the last run said it.
said() {
    grep -q -- "$1" "$tmp/out" && return 0
    echo "# no '$1' in:"; sed 's/^/# /' "$tmp/out"
    return 1
}
printf '\211PNG' >"$tmp/magic"
# pngs DIR: DIR/latency.png and DIR/rate.png are PNG files.
pngs() {
    for png in "$1/latency.png" "$1/rate.png"; do
        if [ ! -s "$png" ] ||
            ! dd if="$png" bs=4 count=1 2>/dev/null | cmp -s - "$tmp/magic"; then
            echo "# $png is not a PNG"
            return 1
        fi
    done
}
# same FILE TEXT: FILE holds exactly TEXT (and a newline).
same() {
    printf '%s\n' "$2" >"$tmp/want"
    cmp -s "$tmp/want" "$1" && return 0
    echo "# $1, want (<) and got (>):"; diff "$tmp/want" "$1" 2>&1 | sed 's/^/# /'
    return 1
}

# Started at 1795478400.25 (UNIX seconds). Process 1's write is out when
# "1 ok event" comes (a watch event: no operation); process 6's read never
# completes, but counts to the end of the plot (5.8 s, so 6 s).
run=$tmp/run
mkdir "$run"
cat >"$run/history" <<'EOF'
# start 1795478400250000000
# register workload, 6 clients
0 0 invoke read r1 -
100000000 1 invoke write r1 3
150000000 0 ok read r1 - rev=5
200000000 9 ok event r1 6
250000000 1 ok write r1 3 rev=6
300000000 0 invoke cas r1 3 4
350000000 1 invoke write r1 5
400000000 0 fail cas r1 3 4

1000000000 2 invoke read r1 -
1000000000 0 invoke cas r1 5 6
1200000000 1 ok event r1 7
1250000000 1 info write r1 5
1300000000 2 ok read r1 5 rev=7
1500000000 0 ok cas r1 5 6 rev=8
2000000000 3 invoke write r2 1
2000500000 3 ok write r2 1
2100000000 4 invoke cas r2 9 1
2600000000 4 fail cas r2 9 1
3000000000 5 invoke write r2 2
3000000000 5 fail write r2 2
4500000000 2 invoke read r2 -
5750000000 2 ok read r2 2
5800000000 6 invoke read r2 -
6000000000 1000000 ok seen set 7
EOF
cat >"$run/nemesis.log" <<'EOF'
1795478399.000000000 note cluster up: m1=10.213.1.1:7000
1795478400.300000000 note workload started: register, 6 clients, 6 s
1795478401.25 fault partition: m1 | 2,3
1795478402.750000000 heal
1795478403.500000000 heal
1795478404.250000000 fault kill -9 m2 (pid 42)
1795478404.5 fault pause m3 (pid 43)
1795478405.250000001 heal
1795478405.75 fault partition: m3 | 1,2
12:00:01.123 healed
EOF
check "a run directory plots (exit 0)" ran 0 --keep-data "$run"
check "latency.png and rate.png are PNGs" pngs "$run"
check "the series: each operation by outcome, with its count" same "$run/plot/series" \
"cas ok 1
read ok 3
write ok 2
cas fail 2
write fail 1
write info 1"
check "reads: completion time (s) and latency (ms)" same "$run/plot/latency-read-ok.dat" \
"0.150000 150.000
1.300000 300.000
5.750000 1250.000"
cat "$run/plot/latency-write-ok.dat" "$run/plot/latency-write-info.dat" \
    "$run/plot/latency-write-fail.dat" >"$tmp/writes" 2>&1
check "writes pair with their invoke, not with a watch event between" \
    same "$tmp/writes" "0.250000 150.000
2.000500 0.500
1.250000 900.000
3.000000 0.001"
cat "$run/plot/latency-cas-ok.dat" "$run/plot/latency-cas-fail.dat" >"$tmp/cas" 2>&1
check "cas: ok and fail" same "$tmp/cas" "1.500000 500.000
0.400000 100.000
2.600000 500.000"
check "completions per second, every second to the end" same "$run/plot/rate-read-ok.dat" \
"0 1
1 1
2 0
3 0
4 0
5 1"
check "the fault windows on the history's clock (two healed, one not)" same \
    "$run/plot/faults.dat" \
"1.000000 2.500000 partition: m1 | 2,3
4.000000 5.000000 kill -9 m2 (pid 42); pause m3 (pid 43)
5.500000 6.000000 partition: m3 | 1,2"
check "the plots shade the three windows" test \
    "$(grep -c '^set object [0-9]* rect' "$run/plot/plot.gp" 2>/dev/null)" = 3
check "a nemesis line of another form is named, not fatal" \
    said "nemesis.log: 1 line ignored.* line 10)"

mkdir "$tmp/t" "$tmp/run2"
cp "$run/history" "$run/nemesis.log" "$tmp/run2/"
# no_data_kept: plots in run2, nothing left in its plot/ or in TMPDIR.
no_data_kept() {
    (TMPDIR=$tmp/t && export TMPDIR && ran 0 "$tmp/run2") && pngs "$tmp/run2" &&
        [ ! -e "$tmp/run2/plot" ] && [ -z "$(ls -A "$tmp/t")" ]
}
check "without --keep-data the data goes to TMPDIR and is removed" no_data_kept

# A history appended to by a later run of the workload, 6 s after the
# first: its times count from its own start.
mkdir "$tmp/app"
cat >"$tmp/app/history" <<'EOF'
# start 1795478400250000000
0 1 invoke write k 1
500000000 1 ok write k 1
# start 1795478406250000000
0 7 invoke add s 1
500000000 7 ok add s 1
100000000 1000001 ok seen s 1
EOF
check "a second '# start' moves the times after it" sh -c \
    "'$plot' --keep-data '$tmp/app' >/dev/null 2>&1 &&
     printf '6.500000 500.000\n' | cmp -s - '$tmp/app/plot/latency-add-ok.dat'"

mkdir "$tmp/empty" "$tmp/obs" "$tmp/nostart"
: >"$tmp/empty/history"
empty_plots() {
    ran 0 "$tmp/empty" && pngs "$tmp/empty" && said "no completed operations"
}
check "an empty history still plots (exit 0) and says so" empty_plots
printf '# start 1795478400250000000\n5 1000000 ok seen set 1\n7 9 ok event k 3\n' \
    >"$tmp/obs/history"
obs_plots() {
    ran 0 --keep-data "$tmp/obs" && pngs "$tmp/obs" && [ ! -s "$tmp/obs/plot/series" ]
}
check "a history of observations only still plots, with no series" obs_plots
grep -v '^# start' "$run/history" >"$tmp/nostart/history"
cp "$run/nemesis.log" "$tmp/nostart/"
check "without '# start' it plots without windows and says so" sh -c \
    "'$plot' --keep-data '$tmp/nostart' 2>&1 | grep -q 'no \"# start UNIX_NS\" line' &&
     [ ! -s '$tmp/nostart/plot/faults.dat' ] && cmp -s '$run/plot/series' '$tmp/nostart/plot/series'"

mkdir "$tmp/nognuplot"
cp "$run/history" "$tmp/nognuplot/"
check "without gnuplot: a message, no plots, exit 0" sh -c \
    "GNUPLOT=/nonexistent/gnuplot '$plot' '$tmp/nognuplot' 2>&1 |
       grep -q 'gnuplot is not installed (apt-get install gnuplot-nox); no plots' &&
     GNUPLOT=/nonexistent/gnuplot '$plot' '$tmp/nognuplot' 2>/dev/null &&
     [ ! -e '$tmp/nognuplot/latency.png' ]"
check "no RUN_DIR is bad usage, and the usage is the help" refuses 2 "Exit status: 0 done"
check "an unknown flag or a second RUN_DIR is bad usage" sh -c \
    "'$plot' --frob '$run' 2>/dev/null; [ \$? -eq 2 ] || exit 1
     '$plot' '$run' '$run' 2>/dev/null; [ \$? -eq 2 ]"
mkdir "$tmp/nohistory"
check "a missing history fails by name" refuses 1 \
    "no history in .*nohistory/history: no such file" "$tmp/nohistory"
tap_done
