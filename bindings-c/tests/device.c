/*
 * The device library's test: a program using only what the default libmeetkit has (calls,
 * the meeting API, downloads, events), built with `pkg-config --cflags --libs meetkit`
 * against an installed default build (no simulator, no scripts, no webhook receiver, no
 * journal) and run against simulators served by another process (tests/sim_serve.c).
 *
 *   device PROFILE_JSON SCRATCH_DIR
 *
 * Prints one `PASS name` or `FAIL name` line per test and exits non-zero when one failed.
 * Built by bindings-c/test.sh with gcc -std=c99 -Wall -Wextra -Werror.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <meetkit.h>

#include "harness.h"

/* The installed header of a default build declares no optional function. */
#if defined(MEETKIT_FEATURE_SIM) || defined(MEETKIT_FEATURE_SCRIPT) || defined(MEETKIT_FEATURE_WEBHOOK) || \
    defined(MEETKIT_FEATURE_JOURNAL)
#error "the installed header of the default build defines a MEETKIT_FEATURE_* macro"
#endif

static const char *g_profile, *g_scratch;

/* True when the meetkit string `s` (freed here) contains every one of `a` and `b`. */
static int contains2(char *s, const char *a, const char *b) {
    int found = s != NULL && strstr(s, a) != NULL && strstr(s, b) != NULL;
    if (!found) {
        fprintf(stderr, "  expected \"%s\" and \"%s\" in \"%s\"\n", a, b, s ? s : "(null)");
    }
    meetkit_string_free(s);
    return found;
}

/* The string value of `"key":"..."` in compact JSON (no escapes needed here) into `out`. */
static int json_string(const char *json, const char *key, char *out, size_t size) {
    char pattern[64];
    const char *start, *end;
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    start = json ? strstr(json, pattern) : NULL;
    if (start == NULL) {
        return 0;
    }
    start += strlen(pattern);
    end = strchr(start, '"');
    if (end == NULL || (size_t)(end - start) >= size) {
        return 0;
    }
    memcpy(out, start, (size_t)(end - start));
    out[end - start] = '\0';
    return 1;
}

static meetkit_client *client(void) {
    meetkit_client *c = NULL;
    meetkit_error *err = NULL;
    meetkit_status st = meetkit_client_new(g_profile, &c, &err);
    CHECK(expect(st, MEETKIT_OK, err, "meetkit_client_new"));
    return c;
}

/* A call, and the vendor's own error code when it refuses the same call again. */
static void test_device_call_and_vendor_error(void) {
    const char *params = "{\"room_id\": \"device\", \"user_id\": \"ops\", \"topic\": \"from a device\"}";
    meetkit_client *c = client();
    meetkit_error *err = NULL;
    char *room = NULL;
    meetkit_status st = meetkit_call(c, "avd", "room.create", params, 10000, &room, &err);

    CHECK(expect(st, MEETKIT_OK, err, "room.create"));
    err = NULL;
    CHECK(room != NULL && strstr(room, "device") != NULL);
    meetkit_string_free(room);
    room = NULL;
    CHECK(meetkit_call(c, "avd", "room.create", params, 10000, &room, &err) == MEETKIT_API);
    CHECK(room == NULL);
    CHECK(contains2(meetkit_error_vendor_code(err), "40005", "40005"));
    meetkit_error_free(err);
    CHECK(meetkit_client_free(c) == MEETKIT_OK);
}

/* The unified meeting API: a room, a SIP device called in (connected), who is in it, the end. */
static void test_device_meeting_api(void) {
    meetkit_client *c = client();
    meetkit_meeting *m = NULL;
    meetkit_error *err = NULL;
    char *room = NULL, *device = NULL, *people = NULL, handle[256] = "", device_id[256] = "";
    meetkit_status st = meetkit_meeting_new(c, "avd", &m, &err);

    CHECK(expect(st, MEETKIT_OK, err, "meeting_new"));
    err = NULL;
    st = meetkit_meeting_create_room(m, "{\"name\": \"Device room\"}", 10000, &room, &err);
    CHECK(expect(st, MEETKIT_OK, err, "create_room"));
    err = NULL;
    CHECK(json_string(room, "handle", handle, sizeof handle) && strncmp(handle, "avd:", 4) == 0);
    meetkit_string_free(room);
    st = meetkit_meeting_invite(m, handle, "sip:1001@10.0.0.5", 15000, &device, &err);
    CHECK(expect(st, MEETKIT_OK, err, "invite"));
    err = NULL;
    CHECK(json_string(device, "id", device_id, sizeof device_id) && device_id[0] != '\0');
    meetkit_string_free(device);
    st = meetkit_meeting_participants(m, handle, 10000, &people, &err);
    CHECK(expect(st, MEETKIT_OK, err, "participants"));
    err = NULL;
    CHECK(contains2(people, "[", device_id));
    st = meetkit_meeting_end(m, handle, 10000, &err);
    CHECK(expect(st, MEETKIT_OK, err, "end"));
    CHECK(meetkit_meeting_free(m) == MEETKIT_OK);
    CHECK(meetkit_client_free(c) == MEETKIT_OK);
}

/* A file uploaded to the (simulated) AVD server comes back byte for byte through a checked
 * download. */
static void test_device_upload_and_download(void) {
    const char content[] = "meetkit device download check\n";
    char file[600], dir[600], params[700], url[1024], got[sizeof content + 16];
    meetkit_client *c = client();
    meetkit_error *err = NULL;
    meetkit_status st;
    char *result = NULL, *path = NULL;
    FILE *f;
    size_t n = 0;

    snprintf(file, sizeof file, "%s/clip.mp4", g_scratch);
    snprintf(dir, sizeof dir, "%s/downloads", g_scratch);
    f = fopen(file, "wb");
    CHECK(f != NULL);
    if (f == NULL) {
        meetkit_client_free(c);
        return;
    }
    fputs(content, f);
    fclose(f);
    snprintf(params, sizeof params, "{\"file\": \"%s\"}", file);
    st = meetkit_call(c, "avd", "uploadfile", params, 10000, &result, &err);
    CHECK(expect(st, MEETKIT_OK, err, "uploadfile"));
    err = NULL;
    CHECK(json_string(result, "download_url", url, sizeof url));
    meetkit_string_free(result);
    st = meetkit_download(c, url, dir, NULL, NULL, 10000, &path, &err);
    CHECK(expect(st, MEETKIT_OK, err, "download"));
    f = path ? fopen(path, "rb") : NULL;
    CHECK(f != NULL);
    if (f != NULL) {
        n = fread(got, 1, sizeof got, f);
        fclose(f);
    }
    CHECK(n == strlen(content) && memcmp(got, content, n) == 0);
    CHECK(path != NULL && strncmp(path, dir, strlen(dir)) == 0);
    meetkit_string_free(path);
    CHECK(meetkit_client_free(c) == MEETKIT_OK);
}

/* The run journal is left out: asking for it is a config error naming the feature to build
 * with, not a silent no-op. */
static void test_device_journal_option_names_its_feature(void) {
    meetkit_client *journaled = NULL;
    meetkit_error *err = NULL;
    char options[700];

    snprintf(options, sizeof options, "{\"journal\": \"%s/runs.db\"}", g_scratch);
    CHECK(meetkit_client_new_with_options(g_profile, options, &journaled, &err) == MEETKIT_CONFIG);
    CHECK(journaled == NULL);
    CHECK(contains2(meetkit_error_message(err), "runs.db", "--features journal"));
    meetkit_error_free(err);
}

static void on_event(const char *event_json, void *userdata) {
    (void)event_json;
    ++*(int *)userdata;
}

/* NetEase events arrive as HTTP callbacks: without the webhook receiver, subscribing is a
 * config error naming the feature (and no port is bound). */
static void test_device_netease_events_need_webhook(void) {
    meetkit_client *c = client();
    meetkit_subscription *sub = NULL;
    meetkit_error *err = NULL;
    int events = 0;

    CHECK(meetkit_events_subscribe(c, "netease", "{\"listen\": \"127.0.0.1:0\"}", on_event, &events, 5000, &sub,
                                   &err) == MEETKIT_CONFIG);
    CHECK(sub == NULL);
    CHECK(contains2(meetkit_error_message(err), "webhook", "--features webhook"));
    meetkit_error_free(err);
    CHECK(events == 0);
    CHECK(meetkit_client_free(c) == MEETKIT_OK);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PROFILE_JSON SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    g_profile = argv[1];
    g_scratch = argv[2];
    mkdir(g_scratch, 0755);
    run("device_call_and_vendor_error", test_device_call_and_vendor_error);
    run("device_meeting_api", test_device_meeting_api);
    run("device_upload_and_download", test_device_upload_and_download);
    run("device_journal_option_names_its_feature", test_device_journal_option_names_its_feature);
    run("device_netease_events_need_webhook", test_device_netease_events_need_webhook);
    if (meetkit_live_objects() != 0) {
        printf("FAIL device_frees_everything (%llu live)\n", (unsigned long long)meetkit_live_objects());
        g_failed++;
    } else {
        printf("PASS device_frees_everything\n");
        g_passed++;
    }
    return g_failed == 0 ? 0 : 1;
}
