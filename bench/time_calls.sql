-- Shared by the latency benchmarks (bench/home_page.sql, bench/ab_serving.sql): time_calls(what,
-- statement) runs `statement` with $1 = each user 1..610 twice, and records the second pass's
-- per-call milliseconds (clock_timestamp() around each call: no client round trip) in timings.
CREATE TEMP TABLE timings (what text, ms float8);
CREATE FUNCTION pg_temp.time_calls(what text, statement text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE started timestamptz;
BEGIN
    FOR pass IN 1..2 LOOP
        FOR u IN 1..610 LOOP
            started := clock_timestamp();
            EXECUTE statement USING u;
            IF pass = 2 THEN
                INSERT INTO timings VALUES (what, extract(epoch FROM clock_timestamp() - started) * 1000);
            END IF;
        END LOOP;
    END LOOP;
END $$;
