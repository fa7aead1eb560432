/*
 * A complete meetkit program: start the built-in simulator, connect a client to it, create
 * a room, print the answer, then create it again and print the vendor's error code.
 * Built by examples/cmake (find_package or pkg-config) and examples/pkg-config.
 */
#include <stdio.h>
#include <string.h>

#include <meetkit.h>

static void print_error(const char *what, meetkit_error *err) {
    char *message = meetkit_error_message(err);
    fprintf(stderr, "%s: %s\n", what, message);
    meetkit_string_free(message);
    meetkit_error_free(err);
}

int main(void) {
    const char *params = "{\"room_id\": \"hello\", \"user_id\": \"ops\", \"topic\": \"Hello from C\"}";
    meetkit_sim *sim = NULL;
    meetkit_client *client = NULL;
    meetkit_error *err = NULL;
    char *profile, *room = NULL, *code;
    int ok;

    if (meetkit_sim_start(NULL, &sim, &err) != MEETKIT_OK) {
        print_error("simulator", err);
        return 1;
    }
    profile = meetkit_sim_profile(sim);
    if (meetkit_client_new(profile, &client, &err) != MEETKIT_OK) {
        print_error("client", err);
        return 1;
    }
    meetkit_string_free(profile);

    if (meetkit_call(client, "avd", "room.create", params, 10000, &room, &err) != MEETKIT_OK) {
        print_error("room.create", err);
        return 1;
    }
    printf("room.create -> %s\n", room);
    meetkit_string_free(room);

    /* Again: the vendor refuses with its code 40005 (room exists). */
    ok = meetkit_call(client, "avd", "room.create", params, 10000, &room, &err) == MEETKIT_API;
    code = meetkit_error_vendor_code(err);
    ok = ok && code != NULL && strcmp(code, "40005") == 0;
    printf("room.create again -> vendor error %s\n", code ? code : "(none)");
    meetkit_string_free(code);
    meetkit_error_free(err);

    meetkit_client_free(client);
    meetkit_sim_free(sim);
    return ok ? 0 : 1;
}
