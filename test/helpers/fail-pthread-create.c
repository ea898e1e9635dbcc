// An LD_PRELOAD shim for tests: pthread_create fails with EAGAIN while the
// environment variable CR_FAIL_PTHREAD_CREATE is set, as it does for a
// process at its cgroup's pids.max, and works as usual otherwise. Node sets
// process.env through setenv(3), so a script can turn it on around one call.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

typedef int (*create_fn)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);

int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*), void* arg) {
  if (getenv("CR_FAIL_PTHREAD_CREATE") != NULL) return EAGAIN;
  create_fn real = (create_fn)dlsym(RTLD_NEXT, "pthread_create");
  return real(thread, attr, start, arg);
}
