#define _GNU_SOURCE
#include "CWarmcacheShim.h"

#include <spawn.h>

int wc_spawn_actions_closefrom(void *actions, int lowfd) {
    return -posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, lowfd);
}
