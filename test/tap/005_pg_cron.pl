# The scheduled-retraining recipe of docs/sql.md ("Scheduled retraining", issue 14) run by pg_cron, the
# real extension (Debian's postgresql-15-cron): a nightly job retrains with deploy_if_better and prunes
# old versions and impressions, and a job that retrains only when rec.model_health says so. Each is
# scheduled every minute here and must run once.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(usleep);

my $node = PostgreSQL::Test::Cluster->new('cron');
$node->init;
$node->append_conf('postgresql.conf', qq{
shared_preload_libraries = 'pg_cron,pg_recommend'
cron.database_name = 'postgres'
cron.use_background_workers = on
max_worker_processes = 16
});
$node->start;
$node->safe_psql('postgres', q{
    CREATE EXTENSION pg_cron;
    CREATE EXTENSION pg_recommend;
    CREATE TABLE ratings AS
        SELECT u AS user_id, i AS item_id, ((u * 7 + i * 13) % 5 + 1)::real AS rating,
               now() - (u * i % 1000) * interval '1 hour' AS created_at
        FROM generate_series(1, 200) u, generate_series(1, 100) i WHERE (u * i) % 7 < 3;
    CREATE TABLE ratings_validation AS SELECT * FROM ratings WHERE (user_id + item_id) % 10 = 0;
    SET client_min_messages = warning;
    CALL rec.train('movies', 'ratings', factors => 8, iterations => 3, validation_source => 'ratings_validation');
    CALL rec.train('movies', 'ratings', factors => 8, iterations => 1, deploy => false);
    CALL rec.train('movies', 'ratings', factors => 8, iterations => 1, deploy => false);
});

# A second model, whose source then shifts: half as many new interactions again, all on ten items.
$node->safe_psql('postgres', q{
    SET client_min_messages = warning;
    CREATE TABLE events AS SELECT * FROM ratings;
    CALL rec.train('health', 'events', factors => 8, iterations => 2, time_column => 'created_at');
    INSERT INTO events SELECT u, 1 + u % 10, 5, now() FROM generate_series(1, 200) u, generate_series(1, 20) r;
});
is($node->safe_psql('postgres', q{SELECT action FROM rec.model_health('health')}), 'retrain',
   'rec.model_health says retrain after the shift');

# The recipes, as docs/sql.md gives them, but every minute: a nightly retrain that deploys only if
# better, then prunes; a health check that retrains only when rec.model_health says so.
$node->safe_psql('postgres', q{
    SELECT cron.schedule('movies-nightly', '* * * * *', $$
        CALL rec.train(model => 'movies', source => 'ratings', factors => 8, iterations => 5,
                       validation_source => 'ratings_validation', deploy_if_better => true);
        SELECT rec.prune('movies', keep => 2);
        SELECT rec.prune_impressions('movies', interval '30 days')
    $$);
    SELECT cron.schedule('health-check', '* * * * *', $$
        DO $do$ BEGIN
            IF (SELECT action FROM rec.model_health('health')) = 'retrain' THEN
                CALL rec.train(model => 'health', source => 'events', factors => 8, iterations => 2,
                               time_column => 'created_at');
            END IF;
        END $do$
    $$);
});

# Waits (up to three minutes) until every scheduled job has a finished run; returns their first
# runs' statuses.
my $statuses = '';
for (my $waited = 0; $waited < 180; $waited += 1)
{
    $statuses = $node->safe_psql('postgres', q{
        SELECT string_agg(j.jobname || ' ' || coalesce(r.status, 'none'), ', ' ORDER BY j.jobname)
        FROM cron.job j LEFT JOIN LATERAL (SELECT status FROM cron.job_run_details d WHERE d.jobid = j.jobid
                                           AND d.status IN ('succeeded', 'failed') ORDER BY runid LIMIT 1) r ON true});
    last if $statuses !~ /none/;
    sleep 1;
}
is($statuses, 'health-check succeeded, movies-nightly succeeded', 'both scheduled jobs ran and succeeded');
is($node->safe_psql('postgres', q{SELECT string_agg(return_message, '; ') FROM cron.job_run_details WHERE status = 'failed'}),
   '', 'no run failed');
$node->safe_psql('postgres', q{SELECT cron.unschedule(jobname) FROM cron.job});
# Let a run the scheduler started in the meantime finish.
sleep 1 while $node->safe_psql('postgres', q{SELECT count(*) FROM cron.job_run_details WHERE status IN ('starting', 'running')}) ne '0';

my $versions = $node->safe_psql('postgres', q{SELECT string_agg(version::text, ',' ORDER BY version) FROM rec.models WHERE name = 'movies'});
like($versions, qr/(^|,)([4-9]|\d\d)$/, "the scheduled retrain added a version (versions left: $versions)");
my $kept = $node->safe_psql('postgres', q{SELECT count(*) FROM rec.models WHERE name = 'movies'});
ok($kept <= 3, "prune kept the newest 2 and the deployed one ($kept versions)");
# deploy_if_better: a retrained version replaced the deployed one only if not worse on validation, so
# the deployed version's validation RMSE is the best of those kept.
is($node->safe_psql('postgres', q{SELECT d.validation_value <= min(v.validation_value)
                                   FROM rec.models d, rec.models v WHERE d.name = 'movies' AND d.deployed
                                   AND v.name = 'movies' GROUP BY d.validation_value}),
   't', 'the deployed version is the best on validation of those kept');
is($node->safe_psql('postgres', q{SELECT count(*) FROM rec.recommend(1, 5, 'movies')}), '5', 'the model serves');
is($node->safe_psql('postgres', q{SELECT max(version) FROM rec.models WHERE name = 'health'}), '2',
   'the health check retrained once');
is($node->safe_psql('postgres', q{SELECT action FROM rec.model_health('health')}), 'ok', 'and the new version is healthy');

done_testing();
