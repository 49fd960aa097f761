#!/usr/bin/env bash
# The terminal UI's load until fully browsable, beside the floor: examples/tui_load.rs does
# what `testscope PATH` does on a terminal (tasks::load_run without test_run, every message
# through App::receive so Model::finish runs, the Cases list of every case, a frame drawn
# per batch) and exits; examples/floor.rs inflates and tokenizes the same zips, nothing else.
#
#   bench/tui.sh [profile] [repeats]      (default: pytorch 5)
#
# Shares bench/run.sh's generated runs (bench/out/<profile>). Reports the minimum wall time
# of the repeats (the machine is shared; the minimum is the least disturbed run) and the
# largest peak RSS. The per-keystroke costs are `cargo bench --bench tui`.
BUILD="--example floor --example tui_load" . "$(dirname "$0")/setup.sh" "$@"

# time_of OUT CMD...: run CMD (stdout to OUT.json); OUT gets "seconds max_rss_kb".
time_of() {
  local out="$1"; shift
  /usr/bin/time -o "$out" -f '%e %M' "$@" >"$out.json" 2>/dev/null
}

min_floor=999999; min_tui=999999; rss_tui=0; rss_floor=0; min_loaded=999999; min_finish=999999
min_triaged=999999
for _ in $(seq "$repeats"); do
  time_of "$out/t" "$bin/examples/floor" "$artifacts"
  read -r s m < "$out/t"
  min_floor=$(python3 -c "print(min($min_floor, $s))"); rss_floor=$(( m > rss_floor ? m : rss_floor ))
  time_of "$out/t" "$bin/examples/tui_load" "$run" --job-names "$run/job-names.json"
  read -r s m < "$out/t"
  min_tui=$(python3 -c "print(min($min_tui, $s))"); rss_tui=$(( m > rss_tui ? m : rss_tui ))
  read -r loaded finish triaged cases < <(python3 -c "import json; d=json.load(open('$out/t.json')); print(d['loaded'], d['finish'], d['triaged'], d['cases'])")
  min_triaged=$(python3 -c "print(min($min_triaged, $triaged))")
  min_loaded=$(python3 -c "print(min($min_loaded, $loaded))")
  min_finish=$(python3 -c "print(min($min_finish, $finish))")
done
rm -f "$out/t.json"
echo "profile $profile ($cases cases), $repeats runs, $(nproc) cores"
printf '%-52s %8s %10s\n' "what" "seconds" "peak RSS"
printf '%-52s %8.2f %7d MB\n' "floor: inflate + quick-xml tokenize" "$min_floor" $((rss_floor / 1024))
printf '%-52s %8.2f %7d MB\n' "TUI start until fully browsable (examples/tui_load)" "$min_tui" $((rss_tui / 1024))
printf '%-52s %8.2f\n' "  of which: the run in (load_run sends Loaded)" "$min_loaded"
printf '%-52s %8.3f\n' "  of which: App::receive(Loaded) (Model::finish)" "$min_finish"
printf '%-52s %8.2f\n' "  triage in (clusters, attempts: Triaged)" "$min_triaged"
python3 -c "print(f'ratio to floor: {$min_tui / $min_floor:.1f}x (target: 2x); peak RSS target: 300 MB')"
