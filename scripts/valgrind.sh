#!/usr/bin/env bash
# The pg_regress suite against a server run under valgrind's memcheck (issue 6). Every backend is
# checked; the run fails on any error report of ours: one with a frame of pg_recommend (its library or
# one of its source files) or, for a write of uninitialised bytes to a file or socket, one whose
# uninitialised bytes pg_recommend's code allocated (--track-origins). PostgreSQL's own reports are
# counted and listed by kind but do not fail it: Debian's server is not built with USE_VALGRIND, and
# PostgreSQL writes padded structures (WAL records, stats files), which its src/tools/valgrind.supp
# suppresses; the backend that flushes WAL reports them, inside whatever statement it runs (our
# recommend_all's inserts, say), so for those only where the bytes came from counts.
# ./scripts/test.sh runs three files (setup, train, serve: about a minute); every file takes about
# 20 minutes here (README, "Reliability"), too long for the test command.
#   ./scripts/valgrind.sh [test ...]      default: every pg_regress file but cancel (timing asserts)
source "$(dirname "$0")/common.sh"
install_packages
build_and_install
open_tree_to_postgres

tests=("$@")
[ ${#tests[@]} = 0 ] && read -r -a tests <<< "$(make -s print-regress | sed 's/\bcancel\b//')"
work=$(mktemp -d)
chmod 777 "$work"
bin=$(pg_config --bindir)
as_pg() { if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else bash -c "$*"; fi; }
as_pg "$bin/initdb -D $work/data -A trust >/dev/null && mkdir -p $work/logs"
port=5432  # names the socket in $work only: no TCP (listen_addresses empty), so no clash with a running server
started=$(date +%s)
as_pg "valgrind --quiet --error-limit=no --num-callers=40 --read-var-info=no --leak-check=no --track-origins=yes \
    --error-markers=VALGRINDERROR-BEGIN,VALGRINDERROR-END --log-file=$work/logs/%p.log \
    $bin/postgres -D $work/data -p $port -k $work -c shared_preload_libraries=pg_recommend \
    -c listen_addresses='' -c jit=off -c autovacuum=off -c max_connections=20 > $work/server.log 2>&1 &"
for _ in $(seq 120); do as_pg "$bin/pg_isready -q -h $work -p $port" && break; sleep 1; done
status=0
as_pg "cd $PWD && PGHOST=$work PGPORT=$port $(pg_config --pkglibdir)/pgxs/src/test/regress/pg_regress \
    --inputdir=test --outputdir=$work/out --load-extension=pg_recommend --bindir=$bin ${tests[*]}" || status=1
as_pg "$bin/pg_ctl -D $work/data -m fast stop >/dev/null" || true
minutes=$(( ($(date +%s) - started + 30) / 60 ))

# Every error report (each ends with a marker line), then ours.
cat "$work"/logs/*.log | awk '/VALGRINDERROR-BEGIN/ {inside = 1} inside {print}
    /VALGRINDERROR-END/ {inside = 0; print "=====REPORT-END"}' > "$work/reports"
total=$(grep -c "VALGRINDERROR-BEGIN" "$work/reports" || true)
# A frame of ours names pg_recommend.so or, with debug information, one of our source files.
sources=$(cd src && ls core/*.[ch]pp pg/*.[ch]pp | xargs -n 1 basename | sed 's/\./\\./g' | paste -sd '|')
ours_pattern="pg_recommend\\.so|\\(($sources):[0-9]+\\)"
# Which part of a report decides: all of it; or, for a write of uninitialised bytes, the code that
# allocated them: the first frame of the origin stack that is not an allocator (malloc, palloc and
# kin, C++ and Eigen allocation templates). Our frames lower in that stack only mean the allocation
# happened during one of our calls (jsonb_in parsing a constant of our INSERT, say).
allocator='malloc|calloc|realloc|operator new|palloc|repalloc|MemoryContextAlloc|pstrdup|pnstrdup|[?][?][?] [(]in '
allocator="$allocator"'|new_allocator[.]h|alloc_traits[.]h|allocator[.]h|stl_[a-z_]*[.]h|Memory[.]h|DenseStorage[.]h'
ours_program='BEGIN {RS = "=====REPORT-END\n"; ORS = "-----\n"}
    {
        where = $0
        if ($0 ~ /Syscall param [a-z0-9]*write[a-z0-9]*\(buf\)/) {
            where = ""
            at = index($0, "Uninitialised value was created")
            n = split(substr($0, at), lines, "\n")
            for (l = 2; at > 0 && l <= n; ++l)
                if (lines[l] ~ /(at|by) 0x[0-9A-F]+: / && lines[l] !~ allocator) { where = lines[l]; break }
        }
    }
    where ~ pattern'
ours=$(awk -v pattern="$ours_pattern" -v allocator="$allocator" "$ours_program" "$work/reports" | grep -c "^-----$" || true)
echo "== valgrind: ${#tests[@]} pg_regress files in $minutes min; $total error reports, $ours of pg_recommend"
echo "every report, by kind:"
{ grep -h -A1 "VALGRINDERROR-BEGIN" "$work"/logs/*.log || true; } | { grep -v "VALGRINDERROR-BEGIN\|^--" || true; } |
    sed 's/.*== //' | sort | uniq -c
if [ "$ours" != 0 ]; then
    awk -v pattern="$ours_pattern" -v allocator="$allocator" "$ours_program" "$work/reports" | head -300
    status=1
fi
[ "$status" = 0 ] && rm -rf "$work" || echo "kept: $work"
exit $status
