/*
 * The tiny harness of the C tests (tests/test_meetkit.c, tests/device.c): CHECK records a
 * failed condition, run() prints `PASS name` or `FAIL name` per test, expect() checks a
 * status. Include after meetkit.h.
 *
 * expect(status, want, err, what) reads `err`: pass a status already returned
 * (`st = call(..., &err); CHECK(expect(st, MEETKIT_OK, err, "call"));`) when the call itself
 * sets `err`, since C does not order the evaluation of arguments.
 */
#ifndef MEETKIT_TEST_HARNESS_H
#define MEETKIT_TEST_HARNESS_H

#include <stdio.h>

static int g_failed_checks;
static int g_passed;
static int g_failed;

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            g_failed_checks++;                                                          \
        }                                                                               \
    } while (0)

static void run(const char *name, void (*test)(void)) {
    int before = g_failed_checks;
    test();
    if (g_failed_checks == before) {
        g_passed++;
        printf("PASS %s\n", name);
    } else {
        g_failed++;
        printf("FAIL %s\n", name);
    }
    fflush(stdout);
}

/* Checks `status == want`; on a mismatch prints the error message. Frees `err`. */
static int expect(meetkit_status status, meetkit_status want, meetkit_error *err, const char *what) {
    if (status != want) {
        char *message = meetkit_error_message(err);
        fprintf(stderr, "  %s: status %d, expected %d (%s)\n", what, (int)status, (int)want,
                message ? message : "no error");
        meetkit_string_free(message);
    }
    meetkit_error_free(err);
    return status == want;
}

#endif
