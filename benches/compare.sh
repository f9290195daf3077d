#!/usr/bin/env bash
# Whole-process speed of `postmortem analyze` next to the floor of reading
# the same bytes (wc -l, zcat) and next to pflogsumm, in one run, printed as
# ratios: the machine is shared and noisy, so only ratios mean anything.
#
#   cargo build --profile profiling
#   cargo run --release --example gen_samples -- --out /tmp/pm-5m --lines 5000000
#   benches/compare.sh /tmp/pm-5m [runs]
#
# The `profiling` profile is the release build with line tables kept (the
# release profile strips symbols), so `perf record` on the same binary
# names the functions. POSTMORTEM=target/release/postmortem measures the
# installed build instead (same code, same speed). PARQUET=1 adds a run
# with --parquet, and its peak memory.
#
# Needs hyperfine and pflogsumm (Debian packages of the same names); the
# pflogsumm row is skipped when it is missing. Peak RSS comes from
# /usr/bin/time when present.
set -euo pipefail

dir=${1:?usage: benches/compare.sh LOG_DIR [runs]}
runs=${2:-3}
bin=${POSTMORTEM:-${CARGO_TARGET_DIR:-target}/profiling/postmortem}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

[ -x "$bin" ] || { echo "build first: cargo build --profile profiling" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "needs hyperfine (apt-get install hyperfine)" >&2; exit 1; }

mapfile -t gz < <(find "$dir" -maxdepth 1 -type f -name '*.gz' | sort)
mapfile -t plain < <(find "$dir" -maxdepth 1 -type f ! -name '*.gz' -name '*mail*' | sort)
lines=$(for f in "${plain[@]}"; do cat "$f"; done | wc -l)
gzlines=0
if [ "${#gz[@]}" -gt 0 ]; then gzlines=$(zcat "${gz[@]}" | wc -l); fi
echo "input: $dir: ${#plain[@]} plain files ($lines lines), ${#gz[@]} gzip files ($gzlines lines)"
echo "machine: $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"

# A plain copy of everything, for pflogsumm and the plain-text comparisons.
all="$work/all.log"
{ if [ "${#gz[@]}" -gt 0 ]; then zcat "${gz[@]}"; fi; for f in "${plain[@]}"; do cat "$f"; done; } > "$all"
plaindir="$work/plain"; mkdir -p "$plaindir"; cp "$all" "$plaindir/mail.log.1"

json="$work/h.json"
cmds=(
  -n "wc -l (plain)"            "wc -l $all"
  -n "postmortem (plain)"       "$bin analyze --quiet --force --out $work/r1 $plaindir"
  -n "postmortem (plain, 1 job)" "$bin analyze --quiet --force --jobs 1 --out $work/r2 $plaindir"
)
if [ "${#gz[@]}" -gt 0 ]; then
  first_gz=${gz[0]}
  onegz="$work/onegz"; mkdir -p "$onegz"; cp "$first_gz" "$onegz/"
  cmds+=(
    -n "zcat one gz > /dev/null"   "zcat $first_gz > /dev/null"
    -n "postmortem one gz"         "$bin analyze --quiet --force --out $work/r3 $onegz"
    -n "zcat all gz | wc -l"       "zcat ${gz[*]} | wc -l"
    -n "postmortem rotated set"    "$bin analyze --quiet --force --out $work/r4 $dir"
  )
fi
if command -v pflogsumm >/dev/null; then
  cmds+=(-n "pflogsumm (plain)" "pflogsumm $all > /dev/null 2>&1")
fi
if [ -n "${PARQUET:-}" ]; then
  cmds+=(-n "postmortem rotated set --parquet" "$bin analyze --quiet --force --parquet --out $work/r6 $dir")
fi
hyperfine --style basic --warmup 1 --runs "$runs" --export-json "$json" "${cmds[@]}" >/dev/null

python3 - "$json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
m = {k: v["median"] for k, v in r.items()}
print(f"{'command':32} {'median s':>9}")
for k, v in m.items():
    print(f"{k:32} {v:9.3f}")
def ratio(a, b, label):
    if a in m and b in m:
        print(f"{label:60} {m[a] / m[b]:6.2f}x")
print()
ratio("postmortem (plain)", "wc -l (plain)", "postmortem / wc -l on plain text (target <= 5)")
ratio("postmortem (plain, 1 job)", "postmortem (plain)", "1 job / all cores (speed-up with cores; target >= 1.8)")
ratio("postmortem one gz", "zcat one gz > /dev/null", "postmortem / zcat on one gz file (target <= 1.3)")
ratio("postmortem rotated set", "zcat all gz | wc -l", "postmortem rotated set (all files) / zcat of the gz files (target <= 0.6)")
ratio("postmortem rotated set --parquet", "postmortem rotated set", "--parquet / without (time added by the event tables)")
if "pflogsumm (plain)" in m:
    print(f"{'pflogsumm / postmortem on plain text (target >= 40)':60} {m['pflogsumm (plain)'] / m['postmortem (plain)']:6.1f}x")
PY

if [ -x /usr/bin/time ]; then
  rss=$(/usr/bin/time -f %M "$bin" analyze --quiet --force --out "$work/r5" "$dir" 2>&1 >/dev/null | tail -1)
  echo "peak RSS of postmortem on the rotated set: $((rss / 1024)) MiB"
  if [ -n "${PARQUET:-}" ]; then
    rss=$(/usr/bin/time -f %M "$bin" analyze --quiet --force --parquet --out "$work/r7" "$dir" 2>&1 >/dev/null | tail -1)
    echo "peak RSS with --parquet: $((rss / 1024)) MiB"
  fi
fi
