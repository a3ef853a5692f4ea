/* The event bus (ring, filters, streams) and the --since/--until time parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/timeparse.h"
#include "engine/engine_internal.h"

static void test_timeparse(void **state)
{
        double t;
        assert_true(timeparse_docker("1700000000", 0, &t));
        assert_true(t == 1700000000.0);
        assert_true(timeparse_docker("1700000000.500000000", 0, &t));
        assert_true(t == 1700000000.5);
        assert_true(timeparse_docker("10m", 1000, &t));
        assert_true(t == 400);
        assert_true(timeparse_docker("1h30m", 10000, &t));
        assert_true(t == 10000 - 5400);
        assert_true(timeparse_docker("1.5s", 10, &t));
        assert_true(t == 8.5);
        assert_true(timeparse_docker("300ms", 1, &t));
        assert_true(t > 0.69 && t < 0.71);
        assert_true(timeparse_docker("2023-11-14T22:13:20Z", 0, &t));
        assert_true(t == 1700000000.0);
        assert_true(timeparse_docker("2023-11-14T23:13:20+01:00", 0, &t));
        assert_true(t == 1700000000.0);
        assert_true(timeparse_docker("2023-11-14T22:13:20.25Z", 0, &t));
        assert_true(t == 1700000000.25);
        assert_true(timeparse_docker("2023-11-14", 0, &t));
        assert_true(t == 1699920000.0);
        assert_true(timeparse_docker("0", 5, &t));
        assert_true(t == 0);
        const char *bad[] = {"",      "abc", "10x", "2023-13-01", "2023-11-14T25:00:00Z",
                             "1.2.3", "-",   "m",   ".s",         "2023-11-14T22:13:20Zjunk",
                             "12abc"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_false(timeparse_docker(bad[i], 100, &t));
}

static json_t *event(const char *type, const char *action, const char *id, const char *name,
                     const char *image)
{
        return json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s, s:s}}, s:s}", "Type", type, "Action",
                         action, "Actor", "ID", id, "Attributes", "name", name, "image", image,
                         "com.x", "1", "scope", "local");
}

static bool match(const char *filters, json_t *ev)
{
        json_t *f = json_loads(filters, 0, NULL);
        assert_non_null(f);
        bool r = eng_events_match(f, ev);
        json_decref(f);
        return r;
}

static void test_filters(void **state)
{
        json_t *ev =
            event("container", "health_status: healthy", "abcdef", "web", "busybox:latest");
        assert_true(match("{}", ev));
        assert_true(match("{\"type\":[\"container\"]}", ev));
        assert_false(match("{\"type\":[\"image\"]}", ev));
        assert_true(match("{\"event\":[\"health_status\"]}", ev));
        assert_true(match("{\"event\":{\"health_status: healthy\":true}}", ev));
        assert_false(match("{\"event\":[\"health_status: unhealthy\"]}", ev));
        assert_false(match("{\"event\":[\"health\"]}", ev));
        assert_true(match("{\"container\":[\"abc\"]}", ev));
        assert_true(match("{\"container\":[\"web\"]}", ev));
        assert_false(match("{\"container\":[\"other\"]}", ev));
        assert_true(match("{\"image\":[\"busybox\"]}", ev));
        assert_true(match("{\"image\":[\"busybox:latest\"]}", ev));
        assert_false(match("{\"image\":[\"alpine\"]}", ev));
        assert_true(match("{\"label\":[\"com.x\"]}", ev));
        assert_true(match("{\"label\":[\"com.x=1\", \"name=web\"]}", ev));
        assert_false(match("{\"label\":[\"com.x=1\", \"name=db\"]}", ev));
        assert_false(match("{\"daemon\":[\"x\"]}", ev));
        json_decref(ev);
}

static void test_ring_stream(void **state)
{
        struct eng e = {0};
        assert_int_equal(eng_events_init(&e), 0);
        for (int i = 0; i < 1100; i++)
                eng_event(&e, "image", i % 2 ? "tag" : "untag", "sha256:x",
                          json_pack("{s:i}", "not-a-string", i)); /* attrs kept as given */
        eng_event(&e, "container", "die", "c1", json_pack("{s:s}", "exitCode", "3"));
        int p[2];
        assert_int_equal(pipe(p), 0);
        fcntl(p[0], F_SETPIPE_SZ, 1 << 20);
        json_t *f = json_pack("{s:[s]}", "type", "container");
        struct eng_events_opts o = {.since = 1e-9, .until = 1, .filters = f};
        /* until in the past: the ring's matches, then the end */
        assert_int_equal(eng_events_stream(&e, &o, p[1], NULL), 0);
        close(p[1]);
        char buf[4096];
        ssize_t n = read(p[0], buf, sizeof(buf) - 1);
        assert_true(n == 0); /* until=1 (1970): nothing that old */
        close(p[0]);
        /* the reader's hang-up ends a stream with nothing to send (no write to fail) */
        assert_int_equal(pipe(p), 0);
        json_decref(f);
        f = json_pack("{s:[s]}", "type", "network");
        o.filters = f;
        o.until = 4e9;
        close(p[0]);
        assert_int_equal(eng_events_stream(&e, &o, p[1], NULL), 0);
        close(p[1]);
        /* and a write that fails ends it too */
        assert_int_equal(pipe(p), 0);
        close(p[0]);
        o.filters = NULL;
        assert_int_equal(eng_events_stream(&e, &o, p[1], NULL), 0);
        close(p[1]);
        json_decref(f);
        eng_events_free(&e);
}

/* A past window returns exactly the matching ring entries as JSON lines, in order. */
static void test_ring_window(void **state)
{
        struct eng e = {0};
        assert_int_equal(eng_events_init(&e), 0);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double t0 = (double)ts.tv_sec + ts.tv_nsec / 1e9;
        eng_event(&e, "container", "create", "c1", NULL);
        eng_event(&e, "image", "tag", "sha256:x", json_pack("{s:s}", "name", "a:b"));
        eng_event(&e, "container", "die", "c1", json_pack("{s:s}", "exitCode", "3"));
        clock_gettime(CLOCK_REALTIME, &ts);
        double t1 = (double)ts.tv_sec + ts.tv_nsec / 1e9;
        int p[2];
        assert_int_equal(pipe(p), 0);
        json_t *f = json_pack("{s:[s]}", "type", "container");
        struct eng_events_opts o = {.since = t0, .until = t1, .filters = f};
        assert_int_equal(eng_events_stream(&e, &o, p[1], NULL), 0);
        close(p[1]);
        char buf[8192] = "";
        ssize_t n = read(p[0], buf, sizeof(buf) - 1);
        assert_true(n > 0);
        close(p[0]);
        char *nl = strchr(buf, '\n');
        assert_non_null(nl);
        *nl = '\0';
        json_t *a = json_loads(buf, 0, NULL), *b = json_loads(nl + 1, JSON_DISABLE_EOF_CHECK, NULL);
        assert_string_equal(json_string_value(json_object_get(a, "Action")), "create");
        assert_string_equal(json_string_value(json_object_get(a, "status")), "create");
        assert_string_equal(json_string_value(json_object_get(a, "scope")), "local");
        assert_string_equal(json_string_value(json_object_get(b, "Action")), "die");
        assert_string_equal(
            json_string_value(json_object_get(
                json_object_get(json_object_get(b, "Actor"), "Attributes"), "exitCode")),
            "3");
        json_decref(a);
        json_decref(b);
        json_decref(f);
        eng_events_free(&e);
}

int main(void)
{
        signal(SIGPIPE, SIG_IGN); /* as gantryd: a gone reader is EPIPE */
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_timeparse),
            cmocka_unit_test(test_filters),
            cmocka_unit_test(test_ring_stream),
            cmocka_unit_test(test_ring_window),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
