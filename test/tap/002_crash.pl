# An immediate shutdown (a crash, as far as the data is concerned) in the middle of a training leaves
# the previous version intact and served after recovery, and no trace of the interrupted one.
# pg_terminate_backend during training ends only that backend: the postmaster does not restart.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('crash');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_recommend'");
$node->start;
$node->safe_psql('postgres', q{
    CREATE EXTENSION pg_recommend;
    CREATE TABLE ratings AS
        SELECT u AS user_id, i AS item_id, ((u * 7 + i * 13) % 5 + 1)::real AS rating
        FROM generate_series(1, 2000) u, generate_series(1, 500) i WHERE (u * i) % 7 < 3;
    SET client_min_messages = warning;
    CALL rec.train('m', 'ratings', factors => 8, iterations => 5);
});
my $lists = q{SELECT string_agg(r.list, ';' ORDER BY u) FROM generate_series(1, 2000, 97) u,
              LATERAL (SELECT string_agg(item_id || ':' || round(score::numeric, 4), ',') AS list
                       FROM rec.recommend(u, 10, 'm')) r};
my $before = $node->safe_psql('postgres', $lists);

# A long training (it would run for minutes) in the background; crash once it is training.
my $long = q{SET client_min_messages = warning; CALL rec.train('m', 'ratings', factors => 128, iterations => 100000)};
my $training = $node->background_psql('postgres', on_error_stop => 0);
$training->query_until(qr/started/, "\\echo started\n$long;\n");
ok($node->poll_query_until('postgres',
    q{SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%iterations => 100000%' AND state = 'active'
      AND pid <> pg_backend_pid()}), 'the training is running');
sleep 1;
$node->stop('immediate');
eval { $training->quit; };
$node->start;

is($node->safe_psql('postgres', q{SELECT count(*) FROM rec.models WHERE name = 'm'}), '1',
    'only the first version exists after recovery');
is($node->safe_psql('postgres', q{SELECT count(*) FROM rec.user_factors WHERE model_id NOT IN (SELECT model_id FROM rec.model_versions)}),
    '0', 'no rows of the interrupted version remain');
is($node->safe_psql('postgres', $lists), $before, 'the previous version serves exactly as before the crash');

# pg_terminate_backend during a training: that backend ends, the server does not restart.
my $log_offset = -s $node->logfile;
$training = $node->background_psql('postgres', on_error_stop => 0);
$training->query_until(qr/started/, "\\echo started\n$long;\n");
ok($node->poll_query_until('postgres',
    q{SELECT count(*) > 0 FROM pg_stat_activity WHERE query LIKE '%iterations => 100000%' AND state = 'active'
      AND pid <> pg_backend_pid()}), 'a second training is running');
is($node->safe_psql('postgres', q{SELECT bool_and(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE query LIKE '%iterations => 100000%' AND pid <> pg_backend_pid()}), 't', 'terminated');
eval { $training->quit; };
ok($node->poll_query_until('postgres',
    q{SELECT count(*) = 0 FROM pg_stat_activity WHERE query LIKE '%iterations => 100000%' AND pid <> pg_backend_pid()}),
    'the training backend is gone');
my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/terminated by signal|server process .* was terminated|all server processes terminated/,
    'no backend crashed and the postmaster did not restart');
is($node->safe_psql('postgres', $lists), $before, 'serving is unaffected');
done_testing();
