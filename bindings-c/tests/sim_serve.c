/*
 * Serves the built-in simulators for a program that cannot start them itself (the device
 * library's test, tests/device.c, links a libmeetkit built without `sim`).
 *
 *   sim_serve    prints the simulators' profile as one JSON line, then serves until its
 *                standard input closes, then stops them and exits 0.
 *
 * Linked against the full library (MEETKIT_FEATURE_SIM) by bindings-c/test.sh.
 */
#include <stdio.h>

#include "meetkit.h"

#if !defined(MEETKIT_FEATURE_SIM)
#error "sim_serve needs a libmeetkit built with the sim feature"
#endif

int main(void) {
    meetkit_sim *sim = NULL;
    meetkit_error *err = NULL;
    char *profile;

    if (meetkit_sim_start(NULL, &sim, &err) != MEETKIT_OK) {
        char *message = meetkit_error_message(err);
        fprintf(stderr, "sim_serve: %s\n", message ? message : "cannot start the simulators");
        meetkit_string_free(message);
        meetkit_error_free(err);
        return 1;
    }
    profile = meetkit_sim_profile(sim);
    printf("%s\n", profile);
    fflush(stdout);
    meetkit_string_free(profile);
    while (getchar() != EOF) {
    }
    return meetkit_sim_free(sim) == MEETKIT_OK ? 0 : 1;
}
