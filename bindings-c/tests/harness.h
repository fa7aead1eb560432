/*
 * The tiny harness of the C tests (tests/test_meetkit.c, tests/device.c): CHECK records a
 * failed condition, run() prints `PASS name` or `FAIL name` per test, expect() checks a
 * status. Include after meetkit.h.
 *
 * expect(status, want, err, what) may be given the call itself
 * (`CHECK(expect(meetkit_call(..., &err), MEETKIT_OK, err, "call"));`): it is a macro that
 * passes `&err`, and the error is read only inside, after the call has run (C does not order
 * the evaluation of a function's arguments, so passing `err` itself could read it first).
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

/* Checks `status == want`; on a mismatch prints the error message. Frees `*errp` and sets it
 * to NULL. Use through expect(). */
static int expect_status(meetkit_status status, meetkit_status want, meetkit_error **errp, const char *what) {
    meetkit_error *err = *errp;
    *errp = NULL;
    if (status != want) {
        char *message = meetkit_error_message(err);
        fprintf(stderr, "  %s: status %d, expected %d (%s)\n", what, (int)status, (int)want,
                message ? message : "no error");
        meetkit_string_free(message);
    }
    meetkit_error_free(err);
    return status == want;
}

#define expect(status, want, err, what) expect_status((status), (want), &(err), (what))

#endif
