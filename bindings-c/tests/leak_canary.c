/*
 * A deliberate leak: one string from meetkit is never freed. test.sh runs this under the
 * same valgrind options as the suite and expects valgrind to fail it, which shows that the
 * suite's clean valgrind run means something (meetkit's live-string set does not hide leaks).
 */
#include <stdio.h>

#include "meetkit.h"

int main(void) {
    meetkit_error *err = NULL;
    char *message;
    meetkit_client_new(NULL, NULL, &err);
    message = meetkit_error_message(err);
    meetkit_error_free(err);
    printf("leaking: %s\n", message);
    message = NULL;
    return 0;
}
