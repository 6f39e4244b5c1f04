# Fifty cancels (pg_cancel_backend) of trainings at random moments (reading the source, solving,
# storing; als, ials and bpr): each call returns within a second of the cancel, the session stays
# usable, no version of a cancelled training is left, and no backend dies. A quick call the cancel
# reaches just as it finishes may complete instead (PostgreSQL drops a cancel that arrives after the
# statement); it must then end without any error.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;
use Time::HiRes qw(time sleep);

my $node = PostgreSQL::Test::Cluster->new('cancel');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_recommend'");
$node->start;
$node->safe_psql('postgres', q{
    CREATE EXTENSION pg_recommend;
    CREATE TABLE ratings AS
        SELECT u AS user_id, i AS item_id, ((u * 7 + i * 13) % 5 + 1)::real AS rating
        FROM generate_series(1, 3000) u, generate_series(1, 600) i WHERE (u * i) % 7 < 3;
});
my $log_offset = -s $node->logfile;

my @trainings = (
    q{CALL rec.train('long', 'ratings', factors => 64, iterations => 100000)},
    q{CALL rec.train('long', 'ratings', algorithm => 'ials', factors => 64, iterations => 100000)},
    q{CALL rec.train('long', 'ratings', algorithm => 'bpr', factors => 64, iterations => 100000)},
    q{CALL rec.train('quick', 'ratings', factors => 8, iterations => 1)},  # reading and storing
);
my $session = $node->background_psql('postgres', on_error_stop => 0);
$session->query_safe('SET client_min_messages = warning');
my $pid = $session->query_safe('SELECT pg_backend_pid()');
chomp $pid;
srand(42);
my ($slowest, $cancelled, $long_cancelled, $long_rounds, $long_cancel_errors, $quick_completed) = (0, 0, 0, 0, 0, 0);
my $unexpected = '';
for my $round (1 .. 50)
{
    my $training = $trainings[$round % @trainings];
    my $long = $training =~ /'long'/;
    $long_rounds++ if $long;
    $session->query_until(qr/started $round/, "\\echo started $round\n$training;\n\\echo done $round\n");
    # Long trainings: wait until the call is running, then a random moment more.
    $node->poll_query_until('postgres', "SELECT state = 'active' FROM pg_stat_activity WHERE pid = $pid") if $long;
    sleep(0.05 + rand(0.4));
    my $before = time;
    # Sent only while the training is running (a quick one may have finished).
    my $sent = $node->safe_psql('postgres',
        "SELECT state = 'active' AND pg_cancel_backend(pid) FROM pg_stat_activity WHERE pid = $pid");
    $session->query_until(qr/done $round/, '');
    my $took = time - $before;
    my $errors = $session->{stderr};
    $session->{stderr} = '';
    if ($sent eq 't')
    {
        $slowest = $took if $took > $slowest;
        $cancelled++;
        $long_cancelled++ if $long;
        if ($errors =~ /canceling statement due to user request/) { $long_cancel_errors++ if $long; }
        # A quick call may finish between the check that it runs and the signal: PostgreSQL then drops
        # the cancel. Such a call must have ended cleanly, with no error at all.
        elsif (!$long && $errors !~ /ERROR/) { $quick_completed++; }
        else { $unexpected .= "round $round: $errors"; }
    }
}
cmp_ok($long_cancelled, '==', $long_rounds, "every long training ($long_rounds) was cancelled while running");
cmp_ok($long_cancel_errors, '==', $long_cancelled, "each cancel of a long training ended its call with a cancel error");
is($unexpected, '', "each cancelled quick call ended with a cancel error or completed ($quick_completed completed)");
cmp_ok($cancelled, '>=', 40, 'at least forty of the fifty calls were cancelled while running');
cmp_ok($slowest, '<', 1.0, sprintf('every cancelled call returned within a second (slowest %.3f s)', $slowest));
is($session->query_safe('SELECT 1'), '1', 'the session is still usable');
is($node->safe_psql('postgres', q{SELECT count(*) FROM rec.models WHERE name = 'long'}), '0',
    'no version of a cancelled long training was stored');
is($node->safe_psql('postgres', q{SELECT count(*) FROM rec.user_factors WHERE model_id NOT IN (SELECT model_id FROM rec.model_versions)}),
    '0', 'no orphaned rows');
$session->query_safe(q{CALL rec.train('after', 'ratings', factors => 4, iterations => 2)});
is($session->query_safe(q{SELECT count(*) FROM rec.recommend(1, 5, 'after')}), '5', 'the session trains and serves afterwards');
$session->quit;
my $log = slurp_file($node->logfile, $log_offset);
unlike($log, qr/terminated by signal|was terminated|all server processes terminated/, 'no backend died');
like($log, qr/canceling statement due to user request/, 'the cancels were honoured as cancels');
done_testing();
