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

# An A/B test (issue 14): version 1 serves 10% of users again. Every server, session and restart
# assigns each of 10,000 users to the same version: the assignment is a hash, not state.
$primary->safe_psql('postgres', q{SELECT rec.deploy('m', 1, traffic => 0.1)});
$primary->wait_for_catchup($standby);
my $assignment = q{SELECT count(*) FILTER (WHERE v = 1) || ' ' || md5(string_agg(v::text, ',' ORDER BY u))
                   FROM (SELECT u, rec.served_version('m', u) AS v FROM generate_series(1, 10000) u) s};
my $on_primary_ab = $primary->safe_psql('postgres', $assignment);
my ($challenger_users) = split / /, $on_primary_ab;
ok($challenger_users >= 850 && $challenger_users <= 1150, "the challenger serves $challenger_users of 10,000 users");
is($standby->safe_psql('postgres', $assignment), $on_primary_ab, 'the standby assigns every user alike');
$standby->restart;
is($standby->safe_psql('postgres', $assignment), $on_primary_ab, 'and so it does after a restart');
my $served_lists = q{SELECT string_agg(u || ':' || (SELECT string_agg(item_id::text, ',') FROM rec.recommend(u, 5, 'm')), ';'
                     ORDER BY u) FROM generate_series(1, 200) u};
is($standby->safe_psql('postgres', $served_lists), $primary->safe_psql('postgres', $served_lists),
    'both serve each user the list of the version the user is assigned to');

# Impressions on a standby: serving still answers, nothing is written, a NOTICE says so once;
# rec.log_impressions, an explicit write, fails as one.
($rc, $out, $err) = $standby->psql('postgres',
    q{SELECT count(*) FROM rec.recommend(1, 5, 'm', log_impressions => true);
      SELECT count(*) FROM rec.recommend(2, 5, 'm', log_impressions => true)});
is($out, "5
5", 'a standby serves with log_impressions => true');
is(() = $err =~ /impressions are not logged here: this server is a standby/g, 1, 'and says once that it logs nothing');
is($standby->safe_psql('postgres', 'SELECT count(*) FROM rec.impressions'), '0', 'no impression was written');
($rc, $out, $err) = $standby->psql('postgres', q{SELECT rec.log_impressions('m', 1, ARRAY[1, 2])});
like($err, qr/cannot log impressions in a read-only transaction/, 'rec.log_impressions on the standby fails clearly');

done_testing();
