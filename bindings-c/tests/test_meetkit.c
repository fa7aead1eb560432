/*
 * The C test suite of libmeetkit, against the built-in simulator.
 *
 *   test_meetkit [SCRATCH_DIR]
 *
 * Prints one `PASS name` or `FAIL name` line per test and exits non-zero when one failed.
 * Built by bindings-c/test.sh with gcc -std=c99 -Wall -Wextra -Werror and also run under
 * valgrind; it frees everything it gets, and checks meetkit_live_objects() == 0 at the end.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "meetkit.h"

#include "harness.h"

/* True when `haystack` (a meetkit string, freed here) contains `needle`. */
static int contains(char *haystack, const char *needle) {
    int found = haystack != NULL && strstr(haystack, needle) != NULL;
    if (!found) {
        fprintf(stderr, "  expected \"%s\" in \"%s\"\n", needle, haystack ? haystack : "(null)");
    }
    meetkit_string_free(haystack);
    return found;
}

/* True when the meetkit string `s` (freed here) equals `want` (NULL: expects NULL). */
static int equals(char *s, const char *want) {
    int same = (s == NULL && want == NULL) || (s != NULL && want != NULL && strcmp(s, want) == 0);
    if (!same) {
        fprintf(stderr, "  expected \"%s\", got \"%s\"\n", want ? want : "(null)", s ? s : "(null)");
    }
    meetkit_string_free(s);
    return same;
}

/* The value of the first `"key":` in `json` (string contents or number), or "". */
static void json_value(const char *json, const char *key, char *out, size_t size) {
    char pattern[64];
    const char *p;
    size_t n = 0;
    snprintf(pattern, sizeof pattern, "\"%s\":", key);
    out[0] = '\0';
    p = json ? strstr(json, pattern) : NULL;
    if (p == NULL) {
        return;
    }
    p += strlen(pattern);
    while (*p == ' ') {
        p++;
    }
    if (*p == '"') {
        p++;
        while (*p && *p != '"' && n + 1 < size) {
            out[n++] = *p++;
        }
    } else {
        while (*p && *p != ',' && *p != '}' && *p != ']' && n + 1 < size) {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
}

static void sleep_ms(long ms) {
    struct timespec t;
    t.tv_sec = ms / 1000;
    t.tv_nsec = (ms % 1000) * 1000000L;
    nanosleep(&t, NULL);
}

static int advance_clock(double seconds);

/* ---- shared fixtures -------------------------------------------------------------- */

static meetkit_sim *g_sim;
static meetkit_client *g_client;
static char g_scratch[512];
#define MAX_FILES 8
static char g_urls[MAX_FILES][1024];
static int g_url_count;

/* meetkit_call that must succeed; returns the result (caller frees) or NULL. */
static char *call_ok(const char *endpoint, const char *params) {
    char *result = NULL;
    meetkit_error *err = NULL;
    meetkit_status st = meetkit_call(g_client, "avd", endpoint, params, 10000, &result, &err);
    CHECK(expect(st, MEETKIT_OK, err, endpoint));
    return result;
}

/* ---- the tests -------------------------------------------------------------------- */

static void test_null_arguments(void) {
    meetkit_client *client = (meetkit_client *)0x1;
    meetkit_error *err = NULL;
    char *result = (char *)0x1;

    CHECK(meetkit_client_new(NULL, &client, &err) == MEETKIT_NULL_ARGUMENT);
    CHECK(client == NULL);
    CHECK(contains(meetkit_error_message(err), "profile_json"));
    CHECK(meetkit_error_status(err) == MEETKIT_NULL_ARGUMENT);
    CHECK(meetkit_error_free(err) == MEETKIT_OK);

    CHECK(meetkit_client_new("{}", NULL, &err) == MEETKIT_NULL_ARGUMENT);
    CHECK(contains(meetkit_error_message(err), "`out`"));
    meetkit_error_free(err);

    CHECK(meetkit_call(NULL, "avd", "room.read", NULL, 0, &result, &err) == MEETKIT_NULL_ARGUMENT);
    CHECK(result == NULL);
    meetkit_error_free(err);
    CHECK(meetkit_call(g_client, NULL, "room.read", NULL, 0, &result, &err) == MEETKIT_NULL_ARGUMENT);
    CHECK(contains(meetkit_error_message(err), "vendor"));
    meetkit_error_free(err);
    CHECK(meetkit_call(g_client, "avd", NULL, NULL, 0, &result, &err) == MEETKIT_NULL_ARGUMENT);
    meetkit_error_free(err);
    CHECK(meetkit_call(g_client, "avd", "room.read", NULL, 0, NULL, &err) == MEETKIT_NULL_ARGUMENT);
    meetkit_error_free(err);
    /* err itself may be NULL: the status still tells. */
    CHECK(meetkit_call(g_client, NULL, "room.read", NULL, 0, &result, NULL) == MEETKIT_NULL_ARGUMENT);
    CHECK(meetkit_download(g_client, NULL, g_scratch, NULL, NULL, 0, &result, NULL) == MEETKIT_NULL_ARGUMENT);
    CHECK(meetkit_run_script(g_client, NULL, NULL, NULL, 0, &result, NULL) == MEETKIT_NULL_ARGUMENT);

    CHECK(meetkit_error_status(NULL) == MEETKIT_NULL_ARGUMENT);
    CHECK(meetkit_error_message(NULL) == NULL);
    CHECK(meetkit_error_vendor_code(NULL) == NULL);
    CHECK(meetkit_sim_profile(NULL) == NULL);
    CHECK(meetkit_client_free(NULL) == MEETKIT_OK);
    CHECK(meetkit_sim_free(NULL) == MEETKIT_OK);
    CHECK(meetkit_error_free(NULL) == MEETKIT_OK);
    CHECK(meetkit_events_unsubscribe(NULL) == MEETKIT_OK);
    meetkit_string_free(NULL);
}

static void test_invalid_utf8(void) {
    meetkit_error *err = NULL;
    meetkit_client *client = NULL;
    char *result = NULL;
    CHECK(meetkit_call(g_client, "av\xff", "room.read", NULL, 0, &result, &err) == MEETKIT_INVALID_UTF8);
    CHECK(contains(meetkit_error_message(err), "UTF-8"));
    meetkit_error_free(err);
    CHECK(meetkit_call(g_client, "avd", "room.read", "{\"room_id\": \"\xc3\x28\"}", 0, &result, &err) ==
          MEETKIT_INVALID_UTF8);
    meetkit_error_free(err);
    CHECK(meetkit_client_new("{\"avd\": \"\xfe\"}", &client, &err) == MEETKIT_INVALID_UTF8);
    CHECK(client == NULL);
    meetkit_error_free(err);
}

static void test_invalid_json(void) {
    meetkit_error *err = NULL;
    meetkit_client *client = NULL;
    meetkit_sim *sim = NULL;
    char *result = NULL;
    CHECK(meetkit_call(g_client, "avd", "room.read", "{room_id: 1", 0, &result, &err) == MEETKIT_INVALID_JSON);
    CHECK(contains(meetkit_error_message(err), "params_json"));
    meetkit_error_free(err);
    CHECK(meetkit_client_new("{", &client, &err) == MEETKIT_INVALID_JSON);
    meetkit_error_free(err);
    /* Valid JSON of the wrong shape is the reader's error: a profile must be an object. */
    CHECK(meetkit_client_new("[1, 2]", &client, &err) == MEETKIT_CONFIG);
    CHECK(contains(meetkit_error_message(err), "must be a table/object"));
    meetkit_error_free(err);
    CHECK(meetkit_sim_start("{\"no_such_option\": 1}", &sim, &err) == MEETKIT_CONFIG);
    CHECK(sim == NULL);
    CHECK(contains(meetkit_error_message(err), "no_such_option"));
    meetkit_error_free(err);
}

static void test_unknown_endpoint(void) {
    meetkit_error *err = NULL;
    char *result = NULL;
    CHECK(meetkit_call(g_client, "avd", "room.creat", "{}", 0, &result, &err) == MEETKIT_UNKNOWN_ENDPOINT);
    CHECK(result == NULL);
    CHECK(meetkit_error_status(err) == MEETKIT_UNKNOWN_ENDPOINT);
    CHECK(contains(meetkit_error_message(err), "avd: unknown endpoint `room.creat`; did you mean `room.create`"));
    CHECK(equals(meetkit_error_vendor(err), "avd"));
    CHECK(equals(meetkit_error_endpoint(err), "room.creat"));
    CHECK(equals(meetkit_error_vendor_code(err), NULL));
    meetkit_error_free(err);
    /* An unknown vendor is a configuration error naming the valid ids. */
    CHECK(meetkit_call(g_client, "zoom", "room.create", "{}", 0, &result, &err) == MEETKIT_CONFIG);
    CHECK(contains(meetkit_error_message(err), "expected one of avd, kedacom, vmr, netease"));
    meetkit_error_free(err);
}

static void test_invalid_params(void) {
    meetkit_error *err = NULL;
    char *result = NULL;
    CHECK(meetkit_call(g_client, "avd", "room.create", "{\"room_id\": \"p1\"}", 0, &result, &err) ==
          MEETKIT_INVALID_PARAMS);
    CHECK(contains(meetkit_error_message(err), "user_id"));
    meetkit_error_free(err);
}

static void test_api_error_40005(void) {
    meetkit_error *err = NULL;
    char *result = NULL;
    const char *params = "{\"room_id\": \"dup\", \"user_id\": \"ops\"}";
    meetkit_string_free(call_ok("room.create", params));
    CHECK(meetkit_call(g_client, "avd", "room.create", params, 10000, &result, &err) == MEETKIT_API);
    CHECK(result == NULL);
    CHECK(meetkit_error_status(err) == MEETKIT_API);
    CHECK(equals(meetkit_error_vendor_code(err), "40005"));
    CHECK(equals(meetkit_error_vendor(err), "avd"));
    CHECK(equals(meetkit_error_endpoint(err), "room.create"));
    CHECK(contains(meetkit_error_message(err), "avd room.create: error 40005"));
    CHECK(!meetkit_error_retryable(err));
    meetkit_error_free(err);
}

static void test_freed_and_invalid_handles(void) {
    meetkit_error *err = NULL;
    meetkit_error *first = NULL;
    meetkit_client *client = NULL;
    char *profile = meetkit_sim_profile(g_sim);
    char *result = NULL;

    CHECK(expect(meetkit_client_new(profile, &client, &err), MEETKIT_OK, err, "client_new"));
    meetkit_string_free(profile);
    CHECK(meetkit_client_free(client) == MEETKIT_OK);
    CHECK(meetkit_client_free(client) == MEETKIT_INVALID_HANDLE);
    CHECK(meetkit_call(client, "avd", "room.read", "{\"room_id\": \"dup\"}", 0, &result, &err) ==
          MEETKIT_INVALID_HANDLE);
    CHECK(result == NULL);
    CHECK(contains(meetkit_error_message(err), "freed already"));
    meetkit_error_free(err);

    /* A handle of another type, and a made-up pointer. */
    CHECK(meetkit_call((meetkit_client *)g_sim, "avd", "room.read", "{}", 0, &result, &err) ==
          MEETKIT_INVALID_HANDLE);
    CHECK(contains(meetkit_error_message(err), "it is a meetkit_sim"));
    meetkit_error_free(err);
    CHECK(meetkit_client_free((meetkit_client *)(void *)&err) == MEETKIT_INVALID_HANDLE);
    CHECK(meetkit_sim_free((meetkit_sim *)g_client) == MEETKIT_INVALID_HANDLE);

    /* Errors are handles too. */
    CHECK(meetkit_client_new(NULL, &client, &first) == MEETKIT_NULL_ARGUMENT);
    CHECK(meetkit_error_free(first) == MEETKIT_OK);
    CHECK(meetkit_error_free(first) == MEETKIT_INVALID_HANDLE);
    CHECK(meetkit_error_status(first) == MEETKIT_INVALID_HANDLE);
    CHECK(meetkit_error_message(first) == NULL);

    /* Strings: a double free is ignored. */
    profile = meetkit_sim_profile(g_sim);
    meetkit_string_free(profile);
    meetkit_string_free(profile);
}

static void test_timeout(void) {
    /* A server that accepts connections (the kernel's backlog) but never answers. */
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char profile[512];
    meetkit_client *client = NULL;
    meetkit_error *err = NULL;
    char *result = NULL;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(fd >= 0);
    CHECK(bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0);
    CHECK(listen(fd, 16) == 0);
    CHECK(getsockname(fd, (struct sockaddr *)&addr, &len) == 0);
    snprintf(profile, sizeof profile,
             "{\"avd\": {\"base_url\": \"http://127.0.0.1:%d\", \"access_key\": \"k\", \"secret_key\": \"s\"}}",
             ntohs(addr.sin_port));
    CHECK(expect(meetkit_client_new(profile, &client, &err), MEETKIT_OK, err, "client_new"));
    /* Real time: the 300 ms timeout under test is the call's own. */
    CHECK(meetkit_call(client, "avd", "room.read", "{\"room_id\": \"r\"}", 300, &result, &err) == MEETKIT_TIMEOUT);
    CHECK(contains(meetkit_error_message(err), "avd room.read: timed out after 300ms"));
    CHECK(meetkit_error_retryable(err));
    meetkit_error_free(err);
    meetkit_client_free(client);
    close(fd);
}

static void ignore_event(const char *event_json, void *userdata) {
    (void)event_json;
    (void)userdata;
}

static void test_events_unsupported(void) {
    meetkit_subscription *sub = (meetkit_subscription *)0x1;
    meetkit_error *err = NULL;
    CHECK(meetkit_events_subscribe(g_client, "avd", NULL, ignore_event, NULL, 1000, &sub, &err) == MEETKIT_CONFIG);
    CHECK(sub == NULL);
    CHECK(contains(meetkit_error_message(err), "this vendor sends no events"));
    meetkit_error_free(err);
    CHECK(meetkit_events_subscribe(g_client, "avd", NULL, NULL, NULL, 1000, &sub, &err) == MEETKIT_NULL_ARGUMENT);
    CHECK(contains(meetkit_error_message(err), "callback"));
    meetkit_error_free(err);
    CHECK(meetkit_events_unsubscribe((meetkit_subscription *)g_client) == MEETKIT_INVALID_HANDLE);
}

struct progress {
    int calls;
    uint64_t last_done;
    uint64_t last_total;
    int cancel_after;
};

static bool on_progress(uint64_t done, uint64_t total, void *userdata) {
    struct progress *p = (struct progress *)userdata;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
    return p->cancel_after == 0 || p->calls < p->cancel_after;
}

/* The AVD record workflow of scripts/avd_record_meeting.rhai, in C. */
static void test_avd_workflow(void) {
    char *result;
    char call_id[64], status[16], record_id[128], params[512], dir[600];
    const char *cursor;
    int i;

    result = call_ok("room.create", "{\"room_id\": \"c-room\", \"user_id\": \"ops\", \"topic\": \"from C\"}");
    CHECK(result != NULL);
    meetkit_string_free(result);

    result = call_ok("device.call", "{\"room_id\": \"c-room\", \"name\": \"c device\", \"url\": \"sip:1001@10.0.0.5\"}");
    json_value(result, "call_id", call_id, sizeof call_id);
    meetkit_string_free(result);
    CHECK(call_id[0] != '\0');

    snprintf(params, sizeof params, "{\"call_id\": \"%s\"}", call_id);
    CHECK(advance_clock(1.0)); /* past the simulator's 300 ms invite delay */
    result = call_ok("device.get_invite_status", params);
    json_value(result, "invite_status", status, sizeof status);
    meetkit_string_free(result);
    CHECK(strcmp(status, "1") == 0);

    result = call_ok("room.mix_record.start", "{\"room_id\": \"c-room\", \"name\": \"c recording\"}");
    json_value(result, "record_id", record_id, sizeof record_id);
    meetkit_string_free(result);
    CHECK(record_id[0] != '\0');
    CHECK(advance_clock(2.0));

    snprintf(params, sizeof params, "{\"room_id\": \"c-room\", \"record_id\": \"%s\"}", record_id);
    result = call_ok("room.mix_record.stop", params);
    g_url_count = 0;
    for (cursor = result; cursor && g_url_count < MAX_FILES; g_url_count++) {
        cursor = strstr(cursor, "\"download_url\":");
        if (cursor == NULL) {
            break;
        }
        json_value(cursor, "download_url", g_urls[g_url_count], sizeof g_urls[0]);
        cursor++;
    }
    meetkit_string_free(result);
    CHECK(g_url_count > 0);

    snprintf(dir, sizeof dir, "%s/workflow", g_scratch);
    for (i = 0; i < g_url_count; i++) {
        struct progress p = {0, 0, 0, 0};
        struct stat st;
        char *path = NULL;
        meetkit_error *err = NULL;
        meetkit_status s = meetkit_download(g_client, g_urls[i], dir, on_progress, &p, 30000, &path, &err);
        CHECK(expect(s, MEETKIT_OK, err, "download"));
        CHECK(path != NULL && strncmp(path, dir, strlen(dir)) == 0);
        CHECK(path != NULL && stat(path, &st) == 0 && st.st_size > 0);
        CHECK(p.calls >= 2);
        CHECK(path != NULL && p.last_done == (uint64_t)st.st_size && p.last_total == (uint64_t)st.st_size);
        meetkit_string_free(path);
    }

    meetkit_string_free(call_ok("room.close", "{\"room_id\": \"c-room\"}"));
}

static int count_entries(const char *dir) {
    int n = 0;
    struct dirent *e;
    DIR *d = opendir(dir);
    if (d == NULL) {
        return 0;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            n++;
        }
    }
    closedir(d);
    return n;
}

/* A progress callback that calls back into meetkit (on the downloading thread), then cancels. */
static bool reenter_then_cancel(uint64_t done, uint64_t total, void *userdata) {
    int *status = (int *)userdata;
    char *result = NULL;
    (void)done;
    (void)total;
    *status = (int)meetkit_call(g_client, "avd", "room.read", "{\"room_id\": \"dup\"}", 10000, &result, NULL);
    meetkit_string_free(result);
    return false;
}

static void test_progress_callback_cancels(void) {
    struct progress p = {0, 0, 0, 1};
    char dir[600], url[512];
    char *profile = meetkit_sim_profile(g_sim);
    char *path = (char *)0x1;
    meetkit_error *err = NULL;
    CHECK(g_url_count > 0);
    if (g_url_count == 0) {
        meetkit_string_free(profile);
        return;
    }
    snprintf(dir, sizeof dir, "%s/cancelled", g_scratch);
    CHECK(meetkit_download(g_client, g_urls[0], dir, on_progress, &p, 30000, &path, &err) == MEETKIT_CANCELLED);
    CHECK(path == NULL);
    CHECK(p.calls == 1);
    CHECK(contains(meetkit_error_message(err), "cancelled"));
    meetkit_error_free(err);
    /* Nothing is left behind: neither the file nor its temporary. */
    CHECK(count_entries(dir) == 0);

    {
        int inner = -1;
        CHECK(meetkit_download(g_client, g_urls[0], dir, reenter_then_cancel, &inner, 30000, &path, NULL) ==
              MEETKIT_CANCELLED);
        CHECK(inner == MEETKIT_OK);
        CHECK(count_entries(dir) == 0);
    }

    /* A file the server does not have is an HTTP error carrying the status. */
    json_value(profile, "base_url", url, sizeof url);
    meetkit_string_free(profile);
    strcat(url, "/no/such/file.mp4");
    CHECK(meetkit_download(g_client, url, dir, NULL, NULL, 5000, &path, &err) == MEETKIT_HTTP);
    CHECK(equals(meetkit_error_vendor_code(err), "404"));
    /* A bare URL names no vendor; the endpoint is "download". */
    CHECK(equals(meetkit_error_vendor(err), NULL));
    CHECK(equals(meetkit_error_endpoint(err), "download"));
    meetkit_error_free(err);
    /* Nothing listens on port 1: a transport error. */
    CHECK(meetkit_download(g_client, "http://127.0.0.1:1/none.mp4", dir, NULL, NULL, 5000, &path, &err) ==
          MEETKIT_TRANSPORT);
    meetkit_error_free(err);
    CHECK(count_entries(dir) == 0);
}

#define THREADS 8
#define CALLS_PER_THREAD 6

struct worker {
    int index;
    int ok;
    int api_errors;
};

static void *worker_main(void *arg) {
    struct worker *w = (struct worker *)arg;
    int i;
    for (i = 0; i < CALLS_PER_THREAD; i++) {
        char params[128];
        char topic[32], want[32];
        char *result = NULL;
        meetkit_error *err = NULL;
        snprintf(want, sizeof want, "t%d-%d", w->index, i);
        snprintf(params, sizeof params, "{\"room_id\": \"%s\", \"user_id\": \"ops\", \"topic\": \"%s\"}", want, want);
        if (meetkit_call(g_client, "avd", "room.create", params, 10000, &result, &err) == MEETKIT_OK) {
            meetkit_string_free(result);
            snprintf(params, sizeof params, "{\"room_id\": \"%s\"}", want);
            if (meetkit_call(g_client, "avd", "room.read", params, 10000, &result, &err) == MEETKIT_OK) {
                json_value(result, "topic", topic, sizeof topic);
                w->ok += strcmp(topic, want) == 0;
                meetkit_string_free(result);
            }
        }
        meetkit_error_free(err);
        err = NULL;
        /* Errors from many threads at once: the room exists now. */
        snprintf(params, sizeof params, "{\"room_id\": \"%s\", \"user_id\": \"ops\"}", want);
        if (meetkit_call(g_client, "avd", "room.create", params, 10000, &result, &err) == MEETKIT_API) {
            char *code = meetkit_error_vendor_code(err);
            w->api_errors += code != NULL && strcmp(code, "40005") == 0;
            meetkit_string_free(code);
        }
        meetkit_error_free(err);
    }
    return NULL;
}

static void test_many_threads_one_client(void) {
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    int i;
    for (i = 0; i < THREADS; i++) {
        workers[i].index = i;
        workers[i].ok = 0;
        workers[i].api_errors = 0;
        CHECK(pthread_create(&threads[i], NULL, worker_main, &workers[i]) == 0);
    }
    for (i = 0; i < THREADS; i++) {
        pthread_join(threads[i], NULL);
        CHECK(workers[i].ok == CALLS_PER_THREAD);
        CHECK(workers[i].api_errors == CALLS_PER_THREAD);
    }
}

static int write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        return 0;
    }
    fputs(text, f);
    return fclose(f) == 0;
}

struct cancellable_run {
    const char *path;
    const meetkit_cancel_token *cancel;
    enum meetkit_status status;
    meetkit_error *err;
};

static void *run_cancellable(void *arg) {
    struct cancellable_run *run = arg;
    char *result = NULL;
    run->status = meetkit_run_script_cancellable(g_client, run->path, "{\"timeout_ms\": 60000}", run->cancel, &result,
                                                 &run->err);
    meetkit_string_free(result);
    return NULL;
}

/* Whether room `id` exists on the AVD simulator. */
static int avd_room_exists(const char *id) {
    char params[128];
    char *result = NULL;
    snprintf(params, sizeof params, "{\"room_id\": \"%s\"}", id);
    enum meetkit_status status = meetkit_call(g_client, "avd", "room.read", params, 10000, &result, NULL);
    meetkit_string_free(result);
    return status == MEETKIT_OK;
}

static void test_run_script_cancelled_from_another_thread(void) {
    char path[600];
    meetkit_cancel_token *cancel = NULL;
    meetkit_error *err = NULL;
    char *result = NULL;
    snprintf(path, sizeof path, "%s/cancellable.rhai", g_scratch);
    /* It starts something, then runs until cancelled; its on_exit block is its cleanup. */
    CHECK(write_file(path, "let avd = vendor(\"avd\");\n"
                           "on_exit(|| avd.call(\"room.create\", #{ room_id: \"c-cleanup\", user_id: \"ops\" }));\n"
                           "avd.call(\"room.create\", #{ room_id: \"c-started\", user_id: \"ops\" });\n"
                           "sleep(3600);\n"));
    CHECK(expect(meetkit_cancel_token_new(&cancel, &err), MEETKIT_OK, err, "cancel_token_new"));
    CHECK(!meetkit_cancel_token_is_cancelled(cancel));

    struct cancellable_run run = {path, cancel, MEETKIT_OTHER, NULL};
    pthread_t thread;
    CHECK(pthread_create(&thread, NULL, run_cancellable, &run) == 0);
    for (int i = 0; i < 6000 && !avd_room_exists("c-started"); i++) {
        sleep_ms(10); /* the poll interval of a wait for the script to reach its sleep */
    }
    CHECK(avd_room_exists("c-started"));
    CHECK(meetkit_cancel_token_cancel(cancel) == MEETKIT_OK);
    pthread_join(thread, NULL);
    CHECK(run.status == MEETKIT_CANCELLED);
    CHECK(meetkit_error_status(run.err) == MEETKIT_CANCELLED);
    meetkit_error_free(run.err);
    CHECK(avd_room_exists("c-cleanup")); /* on_exit ran */
    CHECK(meetkit_cancel_token_is_cancelled(cancel));

    /* A cancelled token stays so: the next run with it stops at once. */
    CHECK(meetkit_run_script_cancellable(g_client, path, NULL, cancel, &result, &err) == MEETKIT_CANCELLED);
    meetkit_error_free(err);
    /* NULL: no token, as meetkit_run_script_with_options. */
    CHECK(write_file(path, "40 + 2\n"));
    CHECK(expect(meetkit_run_script_cancellable(g_client, path, NULL, NULL, &result, &err), MEETKIT_OK, err,
                 "run_script_cancellable without a token"));
    CHECK(equals(result, "42"));
    meetkit_string_free(result);

    /* A client handle is not a token; a freed token is gone. */
    CHECK(meetkit_cancel_token_cancel((const meetkit_cancel_token *)g_client) == MEETKIT_INVALID_HANDLE);
    CHECK(meetkit_run_script_cancellable(g_client, path, NULL, (const meetkit_cancel_token *)g_client, &result,
                                         &err) == MEETKIT_INVALID_HANDLE);
    meetkit_error_free(err);
    CHECK(meetkit_cancel_token_free(cancel) == MEETKIT_OK);
    CHECK(meetkit_cancel_token_free(cancel) == MEETKIT_INVALID_HANDLE);
    CHECK(meetkit_cancel_token_cancel(cancel) == MEETKIT_INVALID_HANDLE);
    CHECK(!meetkit_cancel_token_is_cancelled(cancel));
    CHECK(meetkit_cancel_token_free(NULL) == MEETKIT_OK);
    CHECK(meetkit_cancel_token_new(NULL, NULL) == MEETKIT_NULL_ARGUMENT);
}

static void test_run_script(void) {
    char path[600], out[600];
    char *result = NULL;
    meetkit_error *err = NULL;
    snprintf(path, sizeof path, "%s/create.rhai", g_scratch);
    snprintf(out, sizeof out, "%s/script-out", g_scratch);
    CHECK(write_file(path, "let avd = vendor(\"avd\");\n"
                           "let r = avd.call(\"room.create\", #{ room_id: room, user_id: \"ops\" });\n"
                           "#{ room: room, made: r.room_id }\n"));
    CHECK(expect(meetkit_run_script(g_client, path, "{\"room\": \"script-room\"}", out, 20000, &result, &err),
                 MEETKIT_OK, err, "run_script"));
    CHECK(equals(result, "{\"made\":\"script-room\",\"room\":\"script-room\"}"));

    /* An uncaught vendor error keeps its category (MEETKIT_API, its vendor code) and the
     * vendor's text, with the script position (as in the CLI): the same script again hits 40005. */
    CHECK(meetkit_run_script(g_client, path, "{\"room\": \"script-room\"}", out, 20000, &result, &err) ==
          MEETKIT_API);
    CHECK(contains(meetkit_error_message(err), "avd room.create: error 40005"));
    CHECK(equals(meetkit_error_vendor_code(err), "40005"));
    meetkit_error_free(err);

    CHECK(write_file(path, "fail(\"stop here\");\n"));
    CHECK(meetkit_run_script(g_client, path, NULL, out, 20000, &result, &err) == MEETKIT_SCRIPT);
    CHECK(contains(meetkit_error_message(err), "stop here"));
    meetkit_error_free(err);

    CHECK(write_file(path, "sleep(30);\n"));
    CHECK(meetkit_run_script(g_client, path, NULL, out, 300, &result, &err) == MEETKIT_SCRIPT);
    CHECK(contains(meetkit_error_message(err), "time limit"));
    meetkit_error_free(err);

    CHECK(meetkit_run_script(g_client, path, "[1]", out, 0, &result, &err) == MEETKIT_CONFIG);
    meetkit_error_free(err);

    /* A memory budget: each level of the recursion keeps 1 MiB; on_exit still runs. */
    CHECK(write_file(path, "on_exit(|| print(\"on_exit ran\"));\n"
                           "let big = \"................\"; for i in 0..10 { big += big; }\n"
                           "fn grow(big) { let mine = []; for i in 0..64 { mine.push(big + i); } grow(big) }\n"
                           "grow(big);\n"));
    CHECK(meetkit_run_script_with_options(g_client, path, "{\"max_memory\": \"16M\", \"timeout_ms\": 60000}",
                                          &result, &err) == MEETKIT_MEMORY_LIMIT);
    CHECK(contains(meetkit_error_message(err), "memory budget of 16 MiB exceeded"));
    meetkit_error_free(err);
    CHECK(meetkit_run_script_with_options(g_client, path, "{\"max_memory\": 0}", &result, &err) == MEETKIT_CONFIG);
    meetkit_error_free(err);
    CHECK(meetkit_run_script_with_options(g_client, path, "{\"max_mem\": 1}", &result, &err) == MEETKIT_CONFIG);
    CHECK(contains(meetkit_error_message(err), "max_memory"));
    meetkit_error_free(err);

    /* env() reads MEETKIT_SCRIPT_* and the names the run allows. */
    setenv("MEETKIT_SCRIPT_C_SITE", "lab-7", 1);
    setenv("C_SITE_REGION", "eu", 1);
    CHECK(write_file(path, "[env(\"MEETKIT_SCRIPT_C_SITE\"), env(\"C_SITE_REGION\")]\n"));
    CHECK(meetkit_run_script_with_options(g_client, path, NULL, &result, &err) == MEETKIT_SCRIPT);
    CHECK(contains(meetkit_error_message(err), "--env C_SITE_REGION"));
    meetkit_error_free(err);
    CHECK(expect(meetkit_run_script_with_options(g_client, path, "{\"env_allow\": [\"C_SITE_REGION\"]}", &result, &err),
                 MEETKIT_OK, err, "run_script_with_options"));
    CHECK(equals(result, "[\"lab-7\",\"eu\"]"));
}

static void test_open_profile(void) {
    char path[600], toml[1024], base_url[256];
    char *profile = meetkit_sim_profile(g_sim);
    char *result = NULL;
    meetkit_client *client = NULL;
    meetkit_error *err = NULL;
    json_value(profile, "base_url", base_url, sizeof base_url); /* the first section is avd */
    meetkit_string_free(profile);
    snprintf(path, sizeof path, "%s/meetkit.toml", g_scratch);
    snprintf(toml, sizeof toml,
             "default_profile = \"lab\"\n[profiles.lab.avd]\nbase_url = \"%s\"\n"
             "access_key = \"sim-access-key\"\nsecret_key = \"sim-secret-key\"\n",
             base_url);
    CHECK(write_file(path, toml));
    CHECK(expect(meetkit_client_open_profile(path, "lab", &client, &err), MEETKIT_OK, err, "open_profile"));
    CHECK(expect(meetkit_call(client, "avd", "room.read", "{\"room_id\": \"dup\"}", 10000, &result, &err), MEETKIT_OK,
                 err, "room.read"));
    CHECK(contains(result, "\"user_id\":\"ops\""));
    CHECK(meetkit_client_free(client) == MEETKIT_OK);

    CHECK(meetkit_client_open_profile(path, "nope", &client, &err) == MEETKIT_CONFIG);
    CHECK(contains(meetkit_error_message(err), "no profile named `nope`"));
    meetkit_error_free(err);
    snprintf(path, sizeof path, "%s/missing.toml", g_scratch);
    CHECK(meetkit_client_open_profile(path, NULL, &client, &err) == MEETKIT_IO);
    CHECK(client == NULL);
    meetkit_error_free(err);
}

/* ---- the unified meeting API ------------------------------------------------------ */

/* Copies the `index`-th string of a JSON array of strings (no escapes) into `out`; 0 when absent. */
static int json_array_string(const char *json, int index, char *out, size_t size) {
    const char *p = json ? strchr(json, '[') : NULL;
    int i;
    size_t n = 0;
    for (i = 0; p != NULL && i <= index; i++) {
        p = strchr(p + 1, '"');
        if (p != NULL && i < index) {
            p = strchr(p + 1, '"');
        }
    }
    if (p == NULL) {
        return 0;
    }
    p++;
    while (*p && *p != '"' && n + 1 < size) {
        out[n++] = *p++;
    }
    out[n] = '\0';
    return 1;
}

static meetkit_meeting *meeting_for(const char *vendor) {
    meetkit_meeting *m = NULL;
    meetkit_error *err = NULL;
    CHECK(expect(meetkit_meeting_new(g_client, vendor, &m, &err), MEETKIT_OK, err, vendor));
    return m;
}

/* The meeting verbs that return nothing must succeed. */
#define MEETING_OK(call, what)                          \
    do {                                                \
        meetkit_error *e_ = NULL;                       \
        meetkit_status s_ = (call);                     \
        CHECK(expect(s_, MEETKIT_OK, e_, what));        \
    } while (0)

/* The canonical workflow of scripts/record_meeting.rhai on one vendor: create a room, call a
 * device in, record, stop, end, wait for the recordings, download them, check the files. */
static void meeting_workflow(const char *vendor, const char *options, int start_first) {
    meetkit_meeting *m = meeting_for(vendor);
    meetkit_error *err = NULL;
    char *room = NULL, *device = NULL, *people = NULL, *started = NULL, *stopped = NULL;
    char *files = NULL, *paths = NULL;
    char handle[256], device_id[256], path[1024], dir[600];
    struct progress p = {0, 0, 0, 0};
    int i, on_disk = 0;

    if (m == NULL) {
        return;
    }
    CHECK(meetkit_meeting_can(m, "invite") && meetkit_meeting_can(m, "download_recordings"));
    CHECK(expect(meetkit_meeting_create_room(m, options, 10000, &room, &err), MEETKIT_OK, err, "create_room"));
    json_value(room, "handle", handle, sizeof handle);
    CHECK(strncmp(handle, vendor, strlen(vendor)) == 0 && handle[strlen(vendor)] == ':');
    CHECK(contains(room, "\"vendor\":\""));
    if (start_first) {
        MEETING_OK(meetkit_meeting_start(m, handle, 10000, &e_), "start");
    }

    CHECK(expect(meetkit_meeting_invite(m, handle, "sip:1001@10.0.0.5", 15000, &device, &err), MEETKIT_OK, err,
                 "invite"));
    json_value(device, "id", device_id, sizeof device_id);
    meetkit_string_free(device);
    CHECK(device_id[0] != '\0');
    CHECK(expect(meetkit_meeting_participants(m, handle, 10000, &people, &err), MEETKIT_OK, err, "participants"));
    CHECK(people != NULL && people[0] == '[');
    CHECK(contains(people, device_id));
    MEETING_OK(meetkit_meeting_mute(m, handle, device_id, 10000, &e_), "mute");
    MEETING_OK(meetkit_meeting_unmute(m, handle, device_id, 10000, &e_), "unmute");

    CHECK(expect(meetkit_meeting_start_recording(m, handle, 10000, &started, &err), MEETKIT_OK, err,
                 "start_recording"));
    CHECK(started != NULL);
    meetkit_string_free(started);
    CHECK(advance_clock(2.0));
    CHECK(expect(meetkit_meeting_stop_recording(m, handle, 10000, &stopped, &err), MEETKIT_OK, err,
                 "stop_recording"));
    CHECK(stopped != NULL && stopped[0] == '[');
    meetkit_string_free(stopped);
    MEETING_OK(meetkit_meeting_end(m, handle, 10000, &e_), "end");

    /* AVD and vmr list the recordings once they are stopped. */
    CHECK(expect(meetkit_meeting_recordings(m, handle, 10000, &files, &err), MEETKIT_OK, err, "recordings"));
    CHECK(files != NULL && strstr(files, "\"url\":") != NULL && strstr(files, "\"file_name\":") != NULL);
    meetkit_string_free(files);

    snprintf(dir, sizeof dir, "%s/meeting-%s", g_scratch, vendor);
    CHECK(expect(meetkit_meeting_download_recordings(m, handle, dir, on_progress, &p, 60000, &paths, &err),
                 MEETKIT_OK, err, "download_recordings"));
    for (i = 0; json_array_string(paths, i, path, sizeof path); i++) {
        struct stat st;
        CHECK(strncmp(path, dir, strlen(dir)) == 0);
        CHECK(stat(path, &st) == 0 && st.st_size > 0);
        on_disk++;
    }
    CHECK(on_disk > 0);
    CHECK(count_entries(dir) == on_disk);
    CHECK(p.calls >= 2 * on_disk);
    meetkit_string_free(paths);
    CHECK(meetkit_meeting_free(m) == MEETKIT_OK);
}

static void test_meeting_workflow_avd(void) {
    meeting_workflow("avd", "{\"name\": \"C Weekly\"}", 0);
}

static void test_meeting_workflow_vmr(void) {
    meeting_workflow("vmr", "{\"name\": \"C lab\"}", 1);
}

/* A verb the vendor cannot do: MEETKIT_UNSUPPORTED with the capability table's hint. */
static void expect_unsupported(meetkit_meeting *m, meetkit_status status, meetkit_error *err, const char *verb,
                               const char *hint_part) {
    char *caps = meetkit_meeting_capabilities(m);
    char pattern[64];
    CHECK(status == MEETKIT_UNSUPPORTED);
    CHECK(meetkit_error_status(err) == MEETKIT_UNSUPPORTED);
    CHECK(contains(meetkit_error_message(err), hint_part));
    CHECK(contains(meetkit_error_message(err), verb));
    CHECK(!meetkit_meeting_can(m, verb));
    /* The capability table says the same. */
    snprintf(pattern, sizeof pattern, "\"%s\":{", verb);
    CHECK(caps != NULL && strstr(caps, pattern) != NULL);
    /* Rows have the shape of `meetkit capabilities --output json`, the options included. */
    CHECK(caps != NULL && strstr(caps, "\"options\":[") != NULL && strstr(caps, "\"ignored\":{") != NULL);
    CHECK(contains(caps, hint_part)); /* frees caps */
    meetkit_error_free(err);
}

static void test_meeting_unsupported(void) {
    meetkit_meeting *netease = meeting_for("netease");
    meetkit_meeting *kedacom = meeting_for("kedacom");
    meetkit_error *err = NULL;
    char *out = (char *)0x1;
    meetkit_status st;

    st = meetkit_meeting_invite(netease, "netease:1234:123456789", "sip:1001@10.0.0.5", 5000, &out, &err);
    CHECK(out == NULL);
    CHECK(equals(meetkit_error_vendor(err), "netease"));
    expect_unsupported(netease, st, err, "invite", "meeting.anonymous_join_info");

    st = meetkit_meeting_start_recording(kedacom, "kedacom:5550001:10000001", 5000, &out, &err);
    CHECK(out == NULL);
    expect_unsupported(kedacom, st, err, "start_recording", "record: true");

    /* Supported verbs answer true; an unknown verb is false. */
    CHECK(meetkit_meeting_can(netease, "recordings"));
    CHECK(meetkit_meeting_can(kedacom, "create_room"));
    CHECK(!meetkit_meeting_can(kedacom, "record"));
    CHECK(!meetkit_meeting_can(kedacom, NULL));
    CHECK(meetkit_meeting_free(netease) == MEETKIT_OK);
    CHECK(meetkit_meeting_free(kedacom) == MEETKIT_OK);
}

static void test_meeting_bad_arguments(void) {
    meetkit_meeting *m = meeting_for("avd");
    meetkit_meeting *none = (meetkit_meeting *)0x1;
    meetkit_error *err = NULL;
    char *out = (char *)0x1;

    /* Not room handles: configuration errors naming the format, never a crash. */
    CHECK(meetkit_meeting_participants(m, "weekly", 5000, &out, &err) == MEETKIT_CONFIG);
    CHECK(out == NULL);
    CHECK(contains(meetkit_error_message(err), "is not a room handle"));
    meetkit_error_free(err);
    CHECK(meetkit_meeting_end(m, "avd:a:b", 5000, &err) == MEETKIT_CONFIG);
    CHECK(contains(meetkit_error_message(err), "avd:<room_id>"));
    meetkit_error_free(err);
    CHECK(meetkit_meeting_end(m, "zoom:x", 5000, &err) == MEETKIT_CONFIG);
    meetkit_error_free(err);
    CHECK(meetkit_meeting_end(m, "", 5000, &err) == MEETKIT_CONFIG);
    meetkit_error_free(err);
    CHECK(meetkit_meeting_end(m, "avd:\xff", 5000, &err) == MEETKIT_INVALID_UTF8);
    meetkit_error_free(err);
    CHECK(meetkit_meeting_end(m, NULL, 5000, &err) == MEETKIT_NULL_ARGUMENT);
    CHECK(contains(meetkit_error_message(err), "room_handle"));
    meetkit_error_free(err);
    /* A room of another vendor. */
    CHECK(meetkit_meeting_end(m, "vmr:1061:meetkit@sim.vmr", 5000, &err) == MEETKIT_CONFIG);
    CHECK(contains(meetkit_error_message(err), "belongs to vmr"));
    meetkit_error_free(err);
    /* A room that does not exist is the vendor's error. */
    CHECK(meetkit_meeting_participants(m, "avd:no-such-room", 5000, &out, &err) == MEETKIT_API);
    CHECK(out == NULL);
    meetkit_error_free(err);

    /* Options. */
    CHECK(meetkit_meeting_create_room(m, "{\"name\": ", 5000, &out, &err) == MEETKIT_INVALID_JSON);
    meetkit_error_free(err);
    CHECK(meetkit_meeting_create_room(m, "[1]", 5000, &out, &err) == MEETKIT_CONFIG);
    meetkit_error_free(err);
    CHECK(meetkit_meeting_create_room(m, "{}", 5000, &out, &err) == MEETKIT_INVALID_PARAMS);
    CHECK(contains(meetkit_error_message(err), "name"));
    meetkit_error_free(err);
    /* A key that is no option: refused, naming the closest one. */
    CHECK(meetkit_meeting_create_room(m, "{\"name\": \"x\", \"hots\": \"h\"}", 5000, &out, &err) ==
          MEETKIT_INVALID_PARAMS);
    CHECK(contains(meetkit_error_message(err), "did you mean `host`?"));
    meetkit_error_free(err);
    /* An option AVD cannot use is ignored: a room, and ending it (twice) succeeds. */
    CHECK(meetkit_meeting_create_room(m, "{\"name\": \"ignored\", \"host\": \"h\", \"minutes\": 30}", 5000, &out,
                                      &err) == MEETKIT_OK);
    CHECK(contains(out, "\"handle\":\"avd:ignored\""));
    CHECK(meetkit_meeting_end(m, "avd:ignored", 5000, &err) == MEETKIT_OK);
    CHECK(meetkit_meeting_end(m, "avd:ignored", 5000, &err) == MEETKIT_OK);
    CHECK(meetkit_meeting_create_room(m, "{\"name\": \"x\"}", 5000, NULL, &err) == MEETKIT_NULL_ARGUMENT);
    CHECK(contains(meetkit_error_message(err), "room_json"));
    meetkit_error_free(err);
    CHECK(meetkit_meeting_invite(m, "avd:x", NULL, 5000, &out, &err) == MEETKIT_NULL_ARGUMENT);
    CHECK(contains(meetkit_error_message(err), "address"));
    meetkit_error_free(err);

    /* Handles. */
    CHECK(meetkit_meeting_new(g_client, "zoom", &none, &err) == MEETKIT_CONFIG);
    CHECK(none == NULL);
    meetkit_error_free(err);
    CHECK(meetkit_meeting_new(g_client, "avd", NULL, &err) == MEETKIT_NULL_ARGUMENT);
    meetkit_error_free(err);
    CHECK(meetkit_meeting_new((meetkit_client *)m, "avd", &none, &err) == MEETKIT_INVALID_HANDLE);
    CHECK(contains(meetkit_error_message(err), "it is a meetkit_meeting"));
    meetkit_error_free(err);
    CHECK(meetkit_meeting_end((meetkit_meeting *)g_client, "avd:x", 5000, &err) == MEETKIT_INVALID_HANDLE);
    meetkit_error_free(err);
    CHECK(meetkit_meeting_end(NULL, "avd:x", 5000, &err) == MEETKIT_NULL_ARGUMENT);
    meetkit_error_free(err);
    CHECK(meetkit_meeting_capabilities(NULL) == NULL);
    CHECK(!meetkit_meeting_can(NULL, "end"));
    CHECK(meetkit_meeting_free(NULL) == MEETKIT_OK);
    CHECK(meetkit_meeting_free(m) == MEETKIT_OK);
    CHECK(meetkit_meeting_free(m) == MEETKIT_INVALID_HANDLE);
    CHECK(meetkit_meeting_end(m, "avd:x", 5000, &err) == MEETKIT_INVALID_HANDLE);
    CHECK(contains(meetkit_error_message(err), "freed already"));
    meetkit_error_free(err);
    CHECK(meetkit_meeting_capabilities(m) == NULL);
    CHECK(!meetkit_meeting_can(m, "end"));
}

/* ---- events from vmr -------------------------------------------------------------- */

#define MAX_SEEN 64

/* What one subscription's callback saw; guarded by g_events_lock. */
struct event_log {
    int calls;
    int created;
    int overlaps;
    int in_callback;
    int on_caller_thread;
    char uuids[MAX_SEEN][64];
};

static pthread_mutex_t g_events_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_events_cond = PTHREAD_COND_INITIALIZER;
static pthread_t g_main_thread;

static void on_event(const char *event_json, void *userdata) {
    struct event_log *log = (struct event_log *)userdata;
    char uuid[64];
    pthread_mutex_lock(&g_events_lock);
    log->overlaps += log->in_callback;
    log->in_callback = 1;
    log->calls++;
    log->on_caller_thread += pthread_equal(pthread_self(), g_main_thread) != 0;
    if (strstr(event_json, "\"type\":\"participant_create\"") != NULL) {
        json_value(event_json, "uuid", uuid, sizeof uuid);
        if (log->created < MAX_SEEN) {
            snprintf(log->uuids[log->created], sizeof log->uuids[0], "%s", uuid);
        }
        log->created++;
    }
    pthread_cond_broadcast(&g_events_cond);
    pthread_mutex_unlock(&g_events_lock);
    sleep_ms(2); /* widen the window in which overlapping calls would be seen */
    pthread_mutex_lock(&g_events_lock);
    log->in_callback = 0;
    pthread_mutex_unlock(&g_events_lock);
}

/* Dials a SIP device into the vmr room; copies its participant uuid into `uuid`. */
static int dial(const char *destination, char *uuid, size_t size) {
    char params[256];
    char *result = NULL;
    meetkit_error *err = NULL;
    int ok;
    snprintf(params, sizeof params, "{\"role\":\"guest\",\"destination\":\"%s\",\"protocol\":\"sip\"}", destination);
    ok = expect(meetkit_call(g_client, "vmr", "conference.dial", params, 10000, &result, &err), MEETKIT_OK, err,
                "conference.dial");
    ok = ok && json_array_string(result, 0, uuid, size) && uuid[0] != '\0';
    meetkit_string_free(result);
    return ok;
}

static int saw(const struct event_log *log, const char *uuid) {
    int i;
    for (i = 0; i < log->created && i < MAX_SEEN; i++) {
        if (strcmp(log->uuids[i], uuid) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Waits until every log saw every uuid; a minute without them is a hang (returns 0). */
static int wait_for_creates(struct event_log *logs, int n_logs, char (*uuids)[64], int n_uuids) {
    struct timespec deadline;
    int done = 0, i, j;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 60;
    pthread_mutex_lock(&g_events_lock);
    for (;;) {
        done = 1;
        for (i = 0; i < n_logs; i++) {
            for (j = 0; j < n_uuids; j++) {
                done = done && saw(&logs[i], uuids[j]);
            }
        }
        if (done || pthread_cond_timedwait(&g_events_cond, &g_events_lock, &deadline) != 0) {
            break;
        }
    }
    pthread_mutex_unlock(&g_events_lock);
    return done;
}

static void test_events_vmr(void) {
    struct event_log *log = calloc(1, sizeof *log), *witness = calloc(1, sizeof *witness);
    meetkit_subscription *sub = NULL, *still = NULL;
    meetkit_error *err = NULL;
    char uuid[1][64], later[1][64];
    int calls_after;

    g_main_thread = pthread_self();
    CHECK(expect(meetkit_events_subscribe(g_client, "vmr", NULL, on_event, log, 10000, &sub, &err), MEETKIT_OK, err,
                 "events_subscribe"));
    CHECK(dial("sip:1001@10.0.0.5", uuid[0], sizeof uuid[0]));
    CHECK(wait_for_creates(log, 1, uuid, 1));

    CHECK(meetkit_events_unsubscribe(sub) == MEETKIT_OK);
    pthread_mutex_lock(&g_events_lock);
    calls_after = log->calls;
    CHECK(log->in_callback == 0);
    CHECK(log->overlaps == 0);
    CHECK(log->on_caller_thread == 0);
    pthread_mutex_unlock(&g_events_lock);
    /* More events happen; none reaches the callback, though another subscription gets them. */
    CHECK(expect(meetkit_events_subscribe(g_client, "vmr", NULL, on_event, witness, 10000, &still, &err), MEETKIT_OK,
                 err, "events_subscribe"));
    CHECK(dial("sip:1002@10.0.0.6", later[0], sizeof later[0]));
    CHECK(wait_for_creates(witness, 1, later, 1));
    CHECK(meetkit_events_unsubscribe(still) == MEETKIT_OK);
    pthread_mutex_lock(&g_events_lock);
    CHECK(log->calls == calls_after);
    pthread_mutex_unlock(&g_events_lock);
    CHECK(meetkit_events_unsubscribe(sub) == MEETKIT_INVALID_HANDLE);
    free(witness);
    free(log);
}

#define SUBSCRIPTIONS 4
#define DIALERS 4

struct dialer {
    int index;
    int ok;
    char uuid[64];
};

static void *dialer_main(void *arg) {
    struct dialer *d = (struct dialer *)arg;
    char destination[64];
    snprintf(destination, sizeof destination, "sip:20%02d@10.0.1.%d", d->index, d->index + 1);
    d->ok = dial(destination, d->uuid, sizeof d->uuid);
    return NULL;
}

/* Several subscriptions at once, while several threads make calls: every subscription sees
 * every event, on its own meetkit thread, its calls never overlapping. */
static void test_events_many_threads(void) {
    struct event_log *logs = calloc(SUBSCRIPTIONS, sizeof *logs);
    meetkit_subscription *subs[SUBSCRIPTIONS];
    pthread_t threads[DIALERS];
    struct dialer dialers[DIALERS];
    char uuids[DIALERS][64];
    int i;

    g_main_thread = pthread_self();
    for (i = 0; i < SUBSCRIPTIONS; i++) {
        meetkit_error *err = NULL;
        subs[i] = NULL;
        CHECK(expect(meetkit_events_subscribe(g_client, "vmr", "{\"room\": \"meetkit@sim.vmr\"}", on_event, &logs[i],
                                              10000, &subs[i], &err),
                     MEETKIT_OK, err, "events_subscribe"));
    }
    for (i = 0; i < DIALERS; i++) {
        dialers[i].index = i;
        dialers[i].ok = 0;
        dialers[i].uuid[0] = '\0';
        CHECK(pthread_create(&threads[i], NULL, dialer_main, &dialers[i]) == 0);
    }
    for (i = 0; i < DIALERS; i++) {
        pthread_join(threads[i], NULL);
        CHECK(dialers[i].ok);
        snprintf(uuids[i], sizeof uuids[i], "%s", dialers[i].uuid);
    }
    CHECK(wait_for_creates(logs, SUBSCRIPTIONS, uuids, DIALERS));
    for (i = 0; i < SUBSCRIPTIONS; i++) {
        CHECK(meetkit_events_unsubscribe(subs[i]) == MEETKIT_OK);
    }
    pthread_mutex_lock(&g_events_lock);
    for (i = 0; i < SUBSCRIPTIONS; i++) {
        CHECK(logs[i].created >= DIALERS);
        CHECK(logs[i].overlaps == 0);
        CHECK(logs[i].on_caller_thread == 0);
        CHECK(logs[i].in_callback == 0);
    }
    pthread_mutex_unlock(&g_events_lock);
    free(logs);
}

/* ---- capture and closing on free ---------------------------------------------------- */

/* `method` `path` on `base_url` (`http://127.0.0.1:PORT`) with a JSON `body` (or NULL); the
 * answer's body, malloc'd (caller frees), or NULL. */
static char *http_request(const char *method, const char *base_url, const char *path, const char *body) {
    struct sockaddr_in addr;
    char request[1024], *buf, *answer;
    size_t len = 0, cap = 1 << 16;
    ssize_t n;
    int port = 0, fd;
    if (sscanf(base_url, "http://127.0.0.1:%d", &port) != 1) {
        return NULL;
    }
    fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    snprintf(request, sizeof request,
             "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
             method, path, body ? strlen(body) : 0, body ? body : "");
    if (write(fd, request, strlen(request)) < 0) {
        close(fd);
        return NULL;
    }
    buf = malloc(cap);
    while (buf != NULL && (n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (len + 1 == cap) {
            char *bigger = realloc(buf, cap * 2);
            if (bigger == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = bigger;
            cap *= 2;
        }
    }
    close(fd);
    if (buf == NULL) {
        return NULL;
    }
    buf[len] = '\0';
    answer = strstr(buf, "\r\n\r\n");
    if (answer == NULL) {
        free(buf);
        return NULL;
    }
    memmove(buf, answer + 4, strlen(answer + 4) + 1);
    return buf;
}

/* GET `path` from `base_url`; the body, malloc'd (caller frees), or NULL. */
static char *http_get(const char *base_url, const char *path) {
    return http_request("GET", base_url, path, NULL);
}

/* The whole file, malloc'd (caller frees), or NULL. */
static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    char *text;
    long size;
    if (f == NULL) {
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    fseek(f, 0, SEEK_SET);
    text = malloc((size_t)size + 1);
    if (text != NULL) {
        text[fread(text, 1, (size_t)size, f)] = '\0';
    }
    fclose(f);
    return text;
}

/* Moves the shared simulator's virtual clock forward (POST /_sim/clock/advance on its AVD
 * server): invites connect and recordings grow without waiting in real time. */
static int advance_clock(double seconds) {
    char base_url[256], body[64], *profile = meetkit_sim_profile(g_sim), *answer;
    int ok;
    json_value(profile, "base_url", base_url, sizeof base_url); /* the first section is avd */
    meetkit_string_free(profile);
    snprintf(body, sizeof body, "{\"seconds\": %.3f}", seconds);
    answer = http_request("POST", base_url, "/_sim/clock/advance", body);
    ok = answer != NULL && strstr(answer, "\"ok\":true") != NULL;
    free(answer);
    return ok;
}

/* A client with {"capture": ...}: its vmr session is open after a call, meetkit_client_free ends
 * it (the simulator's state shows no session), and the HAR file records it without secrets. */
static void test_capture_and_free_ends_the_vmr_session(void) {
    meetkit_sim *sim = NULL;
    meetkit_client *client = NULL;
    meetkit_error *err = NULL;
    char api[256], auth[128], pin[64], har[600], options[800], *profile, *state, *text, *result = NULL;
    if (!expect(meetkit_sim_start(NULL, &sim, &err), MEETKIT_OK, err, "sim_start")) {
        CHECK(0);
        return;
    }
    profile = meetkit_sim_profile(sim);
    json_value(strstr(profile, "\"vmr\""), "api_server", api, sizeof api);
    json_value(strstr(profile, "\"vmr\""), "auth", auth, sizeof auth);
    json_value(strstr(profile, "\"vmr\""), "password", pin, sizeof pin);
    snprintf(har, sizeof har, "%s/capture.har", g_scratch);
    snprintf(options, sizeof options, "{\"capture\": \"%s\"}", har);
    CHECK(expect(meetkit_client_new_with_options(profile, options, &client, &err), MEETKIT_OK, err, "with_options"));
    CHECK(expect(meetkit_call(client, "vmr", "conference.status", NULL, 10000, &result, &err), MEETKIT_OK, err,
                 "vmr conference.status"));
    meetkit_string_free(result);
    state = http_get(api, "/_sim/state");
    CHECK(state != NULL && strstr(state, "\"participant_uuid\"") != NULL); /* the session is open */
    free(state);

    CHECK(meetkit_client_free(client) == MEETKIT_OK);
    state = http_get(api, "/_sim/state");
    CHECK(state != NULL && strstr(state, "\"sessions\":[]") != NULL);
    free(state);

    text = read_text(har);
    CHECK(text != NULL && strstr(text, "{\"log\":{\"version\":\"1.2\"") == text);
    CHECK(text != NULL && strstr(text, "vmr session.new") != NULL && strstr(text, "vmr session.end") != NULL);
    CHECK(text != NULL && auth[0] != '\0' && strstr(text, auth) == NULL);
    CHECK(text != NULL && pin[0] != '\0' && strstr(text, pin) == NULL);
    free(text);

    /* Options are checked: an unknown one, and a file that cannot be created. */
    client = NULL;
    CHECK(meetkit_client_new_with_options(profile, "{\"captur\": \"x.har\"}", &client, &err) == MEETKIT_CONFIG);
    CHECK(client == NULL);
    CHECK(contains(meetkit_error_message(err), "captur"));
    meetkit_error_free(err);
    CHECK(meetkit_client_new_with_options(profile, "{\"capture\": \"/nonexistent-dir/x.har\"}", &client, &err) ==
          MEETKIT_IO);
    meetkit_error_free(err);
    CHECK(expect(meetkit_client_new_with_options(profile, NULL, &client, &err), MEETKIT_OK, err, "no options"));
    CHECK(meetkit_client_free(client) == MEETKIT_OK);

    /* {"journal": FILE}: the client's calls go into a run journal (an SQLite file). */
    {
        char db[600], jopts[800];
        FILE *f;
        char magic[16] = {0};
        snprintf(db, sizeof db, "%s/runs.db", g_scratch);
        snprintf(jopts, sizeof jopts, "{\"journal\": \"%s\"}", db);
        CHECK(expect(meetkit_client_new_with_options(profile, jopts, &client, &err), MEETKIT_OK, err, "journal"));
        CHECK(expect(meetkit_call(client, "vmr", "conference.status", NULL, 10000, &result, &err), MEETKIT_OK, err,
                     "journaled call"));
        meetkit_string_free(result);
        CHECK(meetkit_client_free(client) == MEETKIT_OK);
        f = fopen(db, "rb");
        CHECK(f != NULL && fread(magic, 1, 15, f) == 15 && strcmp(magic, "SQLite format 3") == 0);
        if (f) fclose(f);
    }
    meetkit_string_free(profile);
    CHECK(meetkit_sim_free(sim) == MEETKIT_OK);
}

/* Secret result fields read "***" unless the client was created with {"allow_secrets": true};
 * scripts run with the client follow it. */
static void test_allow_secrets(void) {
    meetkit_client *allowed = NULL;
    meetkit_error *err = NULL;
    char token[256], pin[64], shown[64], path[600], out[600], *profile, *result = NULL;
    result = call_ok("app.get_token", NULL);
    json_value(result, "token", token, sizeof token);
    CHECK(strcmp(token, "***") == 0);
    meetkit_string_free(result);

    profile = meetkit_sim_profile(g_sim);
    json_value(strstr(profile, "\"vmr\""), "password", pin, sizeof pin);
    CHECK(expect(meetkit_client_new_with_options(profile, "{\"allow_secrets\": true}", &allowed, &err), MEETKIT_OK,
                 err, "allow_secrets"));
    CHECK(expect(meetkit_call(allowed, "avd", "app.get_token", NULL, 10000, &result, &err), MEETKIT_OK, err,
                 "allowed get_token"));
    json_value(result, "token", token, sizeof token);
    CHECK(strlen(token) > 8 && strcmp(token, "***") != 0);
    meetkit_string_free(result);
    CHECK(expect(meetkit_call(allowed, "vmr", "meet.check_join", NULL, 10000, &result, &err), MEETKIT_OK, err,
                 "allowed check_join"));
    json_value(result, "password", shown, sizeof shown);
    CHECK(pin[0] != '\0' && strcmp(shown, pin) == 0);
    meetkit_string_free(result);

    snprintf(path, sizeof path, "%s/token.rhai", g_scratch);
    snprintf(out, sizeof out, "%s/script-out", g_scratch);
    CHECK(write_file(path, "vendor(\"avd\").call(\"app.get_token\", #{}).token\n"));
    CHECK(expect(meetkit_run_script(g_client, path, NULL, out, 20000, &result, &err), MEETKIT_OK, err, "script"));
    CHECK(equals(result, "\"***\""));
    CHECK(expect(meetkit_run_script(allowed, path, NULL, out, 20000, &result, &err), MEETKIT_OK, err, "allowed script"));
    CHECK(result != NULL && strlen(result) > 10 && strcmp(result, "\"***\"") != 0);
    meetkit_string_free(result);
    /* The options form follows the client too (it used to hide secrets whatever the client said). */
    CHECK(expect(meetkit_run_script_with_options(g_client, path, NULL, &result, &err), MEETKIT_OK, err, "script+opts"));
    CHECK(equals(result, "\"***\""));
    CHECK(expect(meetkit_run_script_with_options(allowed, path, NULL, &result, &err), MEETKIT_OK, err,
                 "allowed script+opts"));
    CHECK(result != NULL && strlen(result) > 10 && strcmp(result, "\"***\"") != 0);
    meetkit_string_free(result);

    CHECK(meetkit_client_free(allowed) == MEETKIT_OK);
    allowed = NULL;
    CHECK(meetkit_client_new_with_options(profile, "{\"allow_secrets\": 1}", &allowed, &err) == MEETKIT_CONFIG);
    CHECK(allowed == NULL);
    meetkit_error_free(err);
    meetkit_string_free(profile);
}

/* ---- the simulator's options and its NetEase callbacks ------------------------------ */

/* A loopback port that is free now, or 0. */
static int free_port(void) {
    struct sockaddr_in addr;
    socklen_t size = sizeof addr;
    int port = 0, fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&addr, sizeof addr) == 0 &&
        getsockname(fd, (struct sockaddr *)&addr, &size) == 0) {
        port = ntohs(addr.sin_port);
    }
    if (fd >= 0) {
        close(fd);
    }
    return port;
}

/* What the NetEase callback saw; guarded by g_events_lock. */
struct netease_log {
    char want[32];
    int started;
};

static void on_netease(const char *event_json, void *userdata) {
    struct netease_log *log = (struct netease_log *)userdata;
    char uid[32];
    pthread_mutex_lock(&g_events_lock);
    if (strstr(event_json, "\"type\":\"MEETING_ROOM_START\"") != NULL) {
        json_value(event_json, "meetingUniqueId", uid, sizeof uid);
        log->started += strcmp(uid, log->want) == 0;
    }
    pthread_cond_broadcast(&g_events_cond);
    pthread_mutex_unlock(&g_events_lock);
}

/* A simulator started with NetEase, vmr and Kedacom options: its callbacks go to the receiver
 * named in the options, where a subscription of a client made from its profile gets them. */
static void test_sim_options_and_netease_callbacks(void) {
    meetkit_sim *sim = NULL;
    meetkit_client *client = NULL;
    meetkit_subscription *sub = NULL;
    meetkit_error *err = NULL;
    struct netease_log *log = calloc(1, sizeof *log);
    char options[512], listen[64], base[256], path[128], account[64], params[512], *profile, *result = NULL,
        *answer;
    struct timespec deadline;
    int port = free_port();
    CHECK(port > 0);
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    snprintf(options, sizeof options,
             "{\"strict\": true, \"netease\": {\"callback_listen\": \"%s\", \"record_delay_secs\": 1}, "
             "\"vmr\": {\"dial_answer_delay_ms\": 100}, \"kedacom\": {\"api_level\": 3}}",
             listen);
    if (!expect(meetkit_sim_start(options, &sim, &err), MEETKIT_OK, err, "sim_start with options")) {
        CHECK(0);
        free(log);
        return;
    }
    profile = meetkit_sim_profile(sim);
    CHECK(profile != NULL && strstr(profile, listen) != NULL); /* netease.callback_listen */
    json_value(strstr(profile, "\"netease\""), "base_url", base, sizeof base);
    CHECK(expect(meetkit_client_new(profile, &client, &err), MEETKIT_OK, err, "client_new"));
    meetkit_string_free(profile);
    CHECK(expect(meetkit_events_subscribe(client, "netease", NULL, on_netease, log, 10000, &sub, &err), MEETKIT_OK,
                 err, "netease events_subscribe"));

    CHECK(expect(meetkit_call(client, "netease", "account.create", "{}", 10000, &result, &err), MEETKIT_OK, err,
                 "account.create"));
    json_value(result, "accountId", account, sizeof account);
    meetkit_string_free(result);
    result = NULL;
    snprintf(params, sizeof params,
             "{\"host\": \"%s\", \"type\": 3, \"subject\": \"c callbacks\", \"startTime\": %lld000, "
             "\"endTime\": %lld000}",
             account, (long long)time(NULL) + 3600, (long long)time(NULL) + 7200);
    CHECK(expect(meetkit_call(client, "netease", "meeting.create", params, 10000, &result, &err), MEETKIT_OK, err,
                 "meeting.create"));
    pthread_mutex_lock(&g_events_lock);
    json_value(result, "meetingUniqueId", log->want, sizeof log->want);
    pthread_mutex_unlock(&g_events_lock);
    meetkit_string_free(result);
    CHECK(log->want[0] != '\0');

    /* Open the AV room now: the simulator calls back MEETING_ROOM_START. */
    snprintf(path, sizeof path, "/_sim/netease/meetings/%s/start", log->want);
    answer = http_request("POST", base, path, "{}");
    CHECK(answer != NULL && strstr(answer, "\"ok\":true") != NULL);
    free(answer);
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 10;
    pthread_mutex_lock(&g_events_lock);
    while (log->started == 0 && pthread_cond_timedwait(&g_events_cond, &g_events_lock, &deadline) == 0) {
    }
    CHECK(log->started == 1);
    pthread_mutex_unlock(&g_events_lock);

    CHECK(meetkit_events_unsubscribe(sub) == MEETKIT_OK);
    CHECK(meetkit_client_free(client) == MEETKIT_OK);
    CHECK(meetkit_sim_free(sim) == MEETKIT_OK);
    free(log);

    /* Options of every vendor are checked, the message naming the key. */
    sim = NULL;
    CHECK(meetkit_sim_start("{\"netease\": {\"record_delay_secs\": -1}}", &sim, &err) == MEETKIT_CONFIG);
    CHECK(sim == NULL);
    CHECK(contains(meetkit_error_message(err), "netease.record_delay_secs"));
    meetkit_error_free(err);
    CHECK(meetkit_sim_start("{\"kedacom\": {\"api_levl\": 2}}", &sim, &err) == MEETKIT_CONFIG);
    CHECK(contains(meetkit_error_message(err), "api_levl"));
    meetkit_error_free(err);
}

/* Last: frees the shared fixtures and checks that nothing meetkit handed out is still live. */
/* A JSON number for a string parameter is sent as its decimal text (the table types room_id as string). */
static void test_number_for_string_param(void) {
    meetkit_error *err = NULL;
    char *result = NULL;
    char room_id[64];
    result = call_ok("room.create", "{\"room_id\": 880012345, \"user_id\": 7}");
    json_value(result, "room_id", room_id, sizeof room_id);
    CHECK(strcmp(room_id, "880012345") == 0);
    CHECK(result != NULL && strstr(result, "\"880012345\"") != NULL); /* a JSON string, quoted */
    meetkit_string_free(result);
    result = NULL;
    CHECK(meetkit_call(g_client, "avd", "room.read", "{\"room_id\": 1.5}", 0, &result, &err) ==
          MEETKIT_INVALID_PARAMS);
    CHECK(result == NULL);
    CHECK(contains(meetkit_error_message(err), "`room_id`: expected string, got float (1.5)"));
    meetkit_error_free(err);
}

static void test_nothing_left_live(void) {
    CHECK(meetkit_client_free(g_client) == MEETKIT_OK);
    CHECK(meetkit_sim_free(g_sim) == MEETKIT_OK);
    CHECK(meetkit_sim_free(g_sim) == MEETKIT_INVALID_HANDLE);
    CHECK(meetkit_live_objects() == 0);
}

int main(int argc, char **argv) {
    meetkit_error *err = NULL;
    char *profile;
    if (argc > 1) {
        snprintf(g_scratch, sizeof g_scratch, "%s", argv[1]);
        mkdir(g_scratch, 0700);
    } else {
        snprintf(g_scratch, sizeof g_scratch, "/tmp/meetkit-c-XXXXXX");
        if (mkdtemp(g_scratch) == NULL) {
            perror("mkdtemp");
            return 2;
        }
    }

    if (!expect(meetkit_sim_start("{\"avd\": {\"invite_delay_ms\": 300}}", &g_sim, &err), MEETKIT_OK, err,
                "sim_start")) {
        return 2;
    }
    profile = meetkit_sim_profile(g_sim);
    if (!expect(meetkit_client_new(profile, &g_client, &err), MEETKIT_OK, err, "client_new")) {
        return 2;
    }
    meetkit_string_free(profile);

    run("null_arguments", test_null_arguments);
    run("invalid_utf8", test_invalid_utf8);
    run("invalid_json", test_invalid_json);
    run("unknown_endpoint", test_unknown_endpoint);
    run("invalid_params", test_invalid_params);
    run("api_error_40005", test_api_error_40005);
    run("freed_and_invalid_handles", test_freed_and_invalid_handles);
    run("timeout", test_timeout);
    run("events_unsupported", test_events_unsupported);
    run("avd_workflow", test_avd_workflow);
    run("progress_callback_cancels", test_progress_callback_cancels);
    run("many_threads_one_client", test_many_threads_one_client);
    run("run_script", test_run_script);
    run("run_script_cancelled_from_another_thread", test_run_script_cancelled_from_another_thread);
    run("open_profile", test_open_profile);
    run("meeting_workflow_avd", test_meeting_workflow_avd);
    run("meeting_workflow_vmr", test_meeting_workflow_vmr);
    run("meeting_unsupported", test_meeting_unsupported);
    run("meeting_bad_arguments", test_meeting_bad_arguments);
    run("events_vmr", test_events_vmr);
    run("events_many_threads", test_events_many_threads);
    run("number_for_string_param", test_number_for_string_param);
    run("capture_and_free_ends_the_vmr_session", test_capture_and_free_ends_the_vmr_session);
    run("allow_secrets", test_allow_secrets);
    run("sim_options_and_netease_callbacks", test_sim_options_and_netease_callbacks);

    run("nothing_left_live", test_nothing_left_live);
    printf("test_meetkit: %d passed, %d failed\n", g_passed, g_failed);
    return g_failed == 0 ? 0 : 1;
}
