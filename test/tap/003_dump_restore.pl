# pg_dump / pg_restore into a new database gives models that recommend identically (the model
# tables are extension configuration tables, dumped with their rows), text-id models and item-item
# models (their weights in rec.item_weights) included.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('dump');
$node->init;
$node->append_conf('postgresql.conf', "shared_preload_libraries = 'pg_recommend'");
$node->start;
$node->safe_psql('postgres', q{
    CREATE DATABASE source_db;
});
$node->safe_psql('source_db', q{
    CREATE EXTENSION pg_recommend;
    CREATE TABLE ratings AS
        SELECT u AS user_id, i AS item_id, ((u * 7 + i * 13) % 5 + 1)::real AS rating
        FROM generate_series(1, 300) u, generate_series(1, 150) i WHERE (u * i) % 7 < 3;
    CREATE TABLE keyed AS
        SELECT md5('user ' || user_id)::uuid AS customer, 'sku-' || item_id AS sku, rating FROM ratings;
    SET client_min_messages = warning;
    CALL rec.train('m', 'ratings', factors => 8, iterations => 5);
    CALL rec.train('m', 'ratings', factors => 4, iterations => 5);
    SELECT rec.deploy('m', 1);
    CALL rec.train('k', 'keyed', user_column => 'customer', item_column => 'sku', algorithm => 'ials', factors => 8);
    SELECT rec.refresh_users('m', ARRAY[1, 2]);
    CALL rec.train('e', 'ratings', rating_column => NULL, algorithm => 'ease', regularization => 20);
    CALL rec.train('n', 'ratings', algorithm => 'itemknn', neighbours => 30);
});
my $lists = q{SELECT string_agg(r.list, ';' ORDER BY u) FROM generate_series(1, 300, 11) u,
              LATERAL (SELECT string_agg(item_id || ':' || round(score::numeric, 4), ',') AS list
                       FROM rec.recommend(u, 10, 'm')) r};
my $keyed = q{SELECT string_agg(r.list, ';' ORDER BY u) FROM generate_series(1, 300, 11) u,
              LATERAL (SELECT string_agg(item_id || ':' || round(score::numeric, 4), ',') AS list
                       FROM rec.recommend(md5('user ' || u)::uuid, item_type => NULL::text, n => 10, model => 'k')) r};
my $item_item = q{SELECT string_agg(r.list, ';' ORDER BY u, r.model) FROM generate_series(1, 300, 11) u,
                  LATERAL (SELECT m AS model, string_agg(item_id || ':' || round(score::numeric, 4), ',' ORDER BY score DESC, item_id) AS list
                           FROM unnest(ARRAY['e', 'n']) m, rec.recommend(u, 10, m) GROUP BY m) r};
my $models = q{SELECT string_agg(name || ' v' || version || ' ' || deployed || ' r' || revision, ', ' ORDER BY name, version) FROM rec.models};
my %before = map { $_ => $node->safe_psql('source_db', $_) } ($lists, $keyed, $item_item, $models);

my $dump = $node->basedir . '/models.dump';
$node->command_ok([ 'pg_dump', '-Fc', '-d', $node->connstr('source_db'), '-f', $dump ], 'pg_dump');
$node->safe_psql('postgres', 'CREATE DATABASE restored');
$node->command_ok([ 'pg_restore', '--exit-on-error', '-d', $node->connstr('restored'), $dump ], 'pg_restore');

is($node->safe_psql('restored', $models), $before{$models}, 'every version, deployment and revision restored');
is($node->safe_psql('restored', $lists), $before{$lists}, 'the deployed version recommends identically');
is($node->safe_psql('restored', $keyed), $before{$keyed}, 'the uuid/text model recommends identically');
is($node->safe_psql('restored', $item_item), $before{$item_item}, 'the ease and itemknn models recommend identically');
# New models continue the sequence instead of colliding with restored ones.
$node->safe_psql('restored', q{SET client_min_messages = warning; CALL rec.train('m', 'ratings', factors => 4, iterations => 2)});
is($node->safe_psql('restored', q{SELECT max(version) FROM rec.models WHERE name = 'm'}), '3',
    'training after the restore adds version 3');
done_testing();
