// meetkit.h from C++17: included twice (the include guard), declarations usable from C++
// (extern "C"), linked against the library. Built by test.sh with
// g++ -std=c++17 -Wall -Wextra -Werror.
#include "meetkit.h"
#include "meetkit.h"

#include <cstdio>
#include <cstring>
#include <type_traits>

static_assert(MEETKIT_OK == 0, "MEETKIT_OK is 0");
static_assert(std::is_same<decltype(&meetkit_string_free), void (*)(char *)>::value, "C linkage types");

int main() {
    int failures = 0;
    meetkit_client *client = nullptr;
    meetkit_error *err = nullptr;
    if (meetkit_client_new("{\"avd\": 1}", &client, &err) != MEETKIT_CONFIG || client != nullptr) {
        failures++;
    }
    char *message = meetkit_error_message(err);
    if (message == nullptr || std::strstr(message, "profile `json`") == nullptr) {
        std::fprintf(stderr, "unexpected message: %s\n", message ? message : "(null)");
        failures++;
    }
    meetkit_string_free(message);
    if (meetkit_error_free(err) != MEETKIT_OK || meetkit_live_objects() != 0) {
        failures++;
    }
    std::printf("%s cxx_header_twice\n", failures == 0 ? "PASS" : "FAIL");
    return failures == 0 ? 0 : 1;
}
