# A hot standby serves the model exactly as the primary does, after a retrain too, and refuses to
# train (models reach standbys by replication, as any table).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_recommend'");
$primary->start;
$primary->safe_psql('postgres', q{
    CREATE EXTENSION pg_recommend;
    CREATE TABLE ratings AS
        SELECT u AS user_id, i AS item_id, ((u * 7 + i * 13) % 5 + 1)::real AS rating
        FROM generate_series(1, 200) u, generate_series(1, 100) i WHERE (u * i) % 7 < 3;
    SET client_min_messages = warning;
    CALL rec.train('m', 'ratings', factors => 8, iterations => 5);
});
$primary->backup('backup');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'backup', has_streaming => 1);
$standby->start;
$primary->wait_for_catchup($standby);

my $lists = q{SELECT string_agg(r.list, ';' ORDER BY u) FROM generate_series(1, 200, 7) u,
              LATERAL (SELECT string_agg(item_id || ':' || round(score::numeric, 4), ',') AS list
                       FROM rec.recommend(u, 10, 'm')) r};
my $on_primary = $primary->safe_psql('postgres', $lists);
isnt($on_primary, '', 'the primary serves the model');
is($standby->safe_psql('postgres', $lists), $on_primary, 'the standby serves identical recommendations');

# A retrain (and its deployment) replicates; the standby serves the new version.
$primary->safe_psql('postgres', q{
    UPDATE ratings SET rating = 6 - rating WHERE user_id % 2 = 0;
    SET client_min_messages = warning;
    CALL rec.train('m', 'ratings', factors => 8, iterations => 5);
});
$primary->wait_for_catchup($standby);
my $retrained = $primary->safe_psql('postgres', $lists);
isnt($retrained, $on_primary, 'the retrained version recommends differently');
is($standby->safe_psql('postgres', $lists), $retrained, 'the standby serves the retrained version identically');
is($standby->safe_psql('postgres', q{SELECT version FROM rec.models WHERE name = 'm' AND deployed}), '2',
    'the standby sees version 2 deployed');

# Training, refreshing and deploying on the standby fail cleanly with 25006.
my ($rc, $out, $err) = $standby->psql('postgres', q{CALL rec.train('m', 'ratings', factors => 8)});
isnt($rc, 0, 'training on the standby fails');
like($err, qr/cannot train a model on a standby/, 'with a clear message');
($rc, $out, $err) = $standby->psql('postgres', q{SELECT rec.refresh_users('m', ARRAY[1])});
like($err, qr/cannot refresh a model on a standby/, 'refresh_users on the standby fails clearly');
($rc, $out, $err) = $standby->psql('postgres', q{SELECT rec.deploy('m', 1)});
like($err, qr/read-only transaction/, 'deploy on the standby fails as a write');
is($standby->safe_psql('postgres', 'SELECT 1'), '1', 'the standby still answers');

done_testing();
