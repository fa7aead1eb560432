/* Sequential meetkit_call rate from C: figure 4 of BENCHMARKS.md (run by meetkit-bench).
 *
 *   cc -O2 -Ibindings-c/include bench/c/call_rate.c -Ltarget/release -lmeetkit \
 *      -Wl,-rpath,$PWD/target/release -o target/release/call_rate
 *   target/release/call_rate profile.json 5000
 *
 * Makes N sequential AVD `room.list` calls on one client (after 20 warm-up calls, which also
 * fetch the token) and prints one JSON line {"calls": N, "calls_per_sec": R}. Exits 1 with the
 * error message on any failure. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "meetkit.h"

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    if (buf && fread(buf, 1, (size_t)len, f) != (size_t)len) { free(buf); buf = NULL; }
    if (buf) buf[len] = '\0';
    fclose(f);
    return buf;
}

static int fail(const char *what, struct meetkit_error *err) {
    char *msg = meetkit_error_message(err);
    fprintf(stderr, "call_rate: %s: %s\n", what, msg ? msg : "(no message)");
    meetkit_string_free(msg);
    meetkit_error_free(err);
    return 1;
}

static int one_call(const struct meetkit_client *client) {
    char *result = NULL;
    struct meetkit_error *err = NULL;
    if (meetkit_call(client, "avd", "room.list", NULL, 0, &result, &err) != MEETKIT_OK) return fail("room.list", err);
    meetkit_string_free(result);
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s PROFILE_JSON_FILE CALLS\n", argv[0]);
        return 2;
    }
    long calls = strtol(argv[2], NULL, 10);
    char *profile = read_file(argv[1]);
    if (!profile || calls <= 0) {
        fprintf(stderr, "call_rate: cannot read %s, or bad call count %s\n", argv[1], argv[2]);
        return 2;
    }
    struct meetkit_client *client = NULL;
    struct meetkit_error *err = NULL;
    if (meetkit_client_new(profile, &client, &err) != MEETKIT_OK) return fail("client", err);
    free(profile);
    for (int i = 0; i < 20; i++)
        if (one_call(client)) return 1;

    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < calls; i++)
        if (one_call(client)) return 1;
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    printf("{\"calls\": %ld, \"calls_per_sec\": %.1f}\n", calls, (double)calls / secs);
    meetkit_client_free(client);
    return 0;
}
