#!/usr/bin/env bash
# A/B tests (issue 14, checks 2 and 3), in a throw-away cluster:   bench/ab_test.sh
#  1. what a running A/B test, and log_impressions, add to a rec.recommend call (MovieLens latest-small),
#     measured in the server and by pgbench (one call per transaction, fsync and synchronous_commit on);
#  2. a simulated test on the standard synthetic set synth1m (../shared/tools/gen_synth.py, needs Debian's
#     python3-numpy): a weak and a strong version serve 2,000 users half and half, clicks are drawn from
#     the users' held-out ratings, and rec.compare_versions must name the version better offline.
set -euo pipefail
cd "$(dirname "$0")/.."
synth=${SYNTH1M:-/tmp/pg_recommend_synth1m}
[ -f "$synth/train.txt" ] || /usr/bin/python3 ../shared/tools/gen_synth.py 6000 4000 1000000 "$synth" --seed 2
chmod -R a+rX "$synth"
pg_virtualenv -t -v 15 -o "shared_preload_libraries=pg_recommend" -o "shared_buffers=256MB" -o "fsync=on" bash -c "
set -euo pipefail
psql -X -q -v ON_ERROR_STOP=1 -v data=$PWD/data/ml-latest-small -f bench/ab_serving.sql
echo '-- pgbench, 1 client, 20 s each, a transaction per call (users 1..610 at random)'
for mode in 'no test' 'A/B test, traffic 0.5' 'log_impressions => true' 'log_impressions, synchronous_commit off'; do
    export PGOPTIONS=''
    case \"\$mode\" in
        'no test') psql -X -q -c \"SELECT rec.deploy('ab', 1)\" >/dev/null; extra='' ;;
        'A/B'*) psql -X -q -c \"SELECT rec.deploy('ab', 2, traffic => 0.5)\" >/dev/null; extra='' ;;
        *) psql -X -q -c \"SELECT rec.deploy('ab', 1)\" >/dev/null; extra=', log_impressions => true'
           case \"\$mode\" in *off) export PGOPTIONS='-c synchronous_commit=off' ;; esac ;;
    esac
    printf '\\\\set u random(1, 610)\nSELECT count(*) FROM rec.recommend(:u, 10, %s%s);\n' \"'ab'\" \"\$extra\" > /tmp/ab_bench.sql
    pgbench -n -c 1 -T 20 -f /tmp/ab_bench.sql 2>/dev/null | sed -n 's#^latency average = \(.*\)#'\"\$mode\"': latency average \1#p'
done
psql -X -q -v ON_ERROR_STOP=1 -v synth=$synth -f bench/ab_simulation.sql"
