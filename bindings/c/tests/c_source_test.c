/* bindings/c/tests/c_source_test.c
 *
 * The C API with a live file source, compiled as C99: reload on change with
 * the change callback on the watcher thread, status after a bad edit and for a
 * missing file, and a forked child that keeps following the file after
 * hotfix_client_after_fork. Waits are bounded (10 s) liveness deadlines, not
 * timing assertions. */

#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "hotfix/hotfix_c.h"

static char dir[256];
static char path[300];

static void SleepMs(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

/* Replaces the flag file atomically (write + rename). */
static void WriteFlags(const char* json) {
  char tmp[320];
  FILE* f;
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  f = fopen(tmp, "w");
  CHECK(f != NULL);
  if (f == NULL) return;
  fputs(json, f);
  fclose(f);
  CHECK(rename(tmp, path) == 0);
}

static void WriteFixFlag(int version, int on) {
  char json[512];
  snprintf(json, sizeof json,
           "{\"version\": %d, \"flags\": {\"fix-123\": {\"variants\": "
           "{\"on\": true, \"off\": false}, \"off_variant\": \"off\", "
           "\"default\": \"%s\"}}}",
           version, on ? "on" : "off");
  WriteFlags(json);
}

static hotfix_client_t* FileClient(const char* file) {
  hotfix_options_t* options = hotfix_options_create();
  hotfix_client_t* client = NULL;
  char* err = NULL;
  CHECK(hotfix_options_set_file_path(options, file) == HOTFIX_OK);
  CHECK(hotfix_options_set_file_poll_interval_ms(options, 10) == HOTFIX_OK);
  CHECK(hotfix_client_create(options, &client, &err) == HOTFIX_OK);
  if (err != NULL) fprintf(stderr, "create: %s\n", err);
  hotfix_free(err);
  hotfix_options_destroy(options);
  return client;
}

/* Polls `client` until fix-123 is `want` or 10 s pass. */
static int WaitForFix(const hotfix_client_t* client, int want) {
  int i;
  for (i = 0; i < 1000; ++i) {
    if (hotfix_client_enabled(client, "fix-123", NULL) == want) return 1;
    SleepMs(10);
  }
  return 0;
}

struct Seen {
  pthread_mutex_t mu;
  int calls;
  int on_main_thread;
  uint64_t last_version;
  hotfix_origin_t origin;
};

static pthread_t main_thread;

static void OnChange(void* user_data, const hotfix_change_event_t* event) {
  struct Seen* seen = (struct Seen*)user_data;
  pthread_mutex_lock(&seen->mu);
  ++seen->calls;
  seen->on_main_thread |= pthread_equal(pthread_self(), main_thread) ? 1 : 0;
  seen->last_version = hotfix_change_event_new_version(event);
  seen->origin = hotfix_change_event_origin(event);
  pthread_mutex_unlock(&seen->mu);
}

static void FileChangesReachEvaluationsAndCallbacks(void) {
  hotfix_client_t* client;
  hotfix_client_status_t* status = NULL;
  struct Seen seen;
  int id = 0;
  memset(&seen, 0, sizeof seen);
  pthread_mutex_init(&seen.mu, NULL);

  WriteFixFlag(1, 0);
  client = FileClient(path);
  CHECK(hotfix_client_wait_until_ready(client, 10000) == 1);
  CHECK(hotfix_client_enabled(client, "fix-123", NULL) == 0);
  CHECK(hotfix_client_add_listener(client, OnChange, &seen, &id, NULL) ==
        HOTFIX_OK);

  WriteFixFlag(2, 1);
  CHECK(WaitForFix(client, 1));
  CHECK(hotfix_client_version(client) == 2);
  /* The callback ran (on the watcher thread) before the flags were visible
   * to this thread or right after: wait for it without assuming which. */
  {
    int i, calls = 0;
    for (i = 0; i < 1000 && calls == 0; ++i) {
      pthread_mutex_lock(&seen.mu);
      calls = seen.calls;
      pthread_mutex_unlock(&seen.mu);
      if (calls == 0) SleepMs(10);
    }
  }
  pthread_mutex_lock(&seen.mu);
  CHECK(seen.calls == 1);
  CHECK(seen.on_main_thread == 0);
  CHECK(seen.last_version == 2);
  CHECK(seen.origin == HOTFIX_ORIGIN_FILE);
  pthread_mutex_unlock(&seen.mu);

  CHECK(hotfix_client_get_status(client, &status, NULL) == HOTFIX_OK);
  CHECK(hotfix_client_status_state(status) == HOTFIX_STATE_VALID);
  CHECK(hotfix_client_status_origin(status) == HOTFIX_ORIGIN_FILE);
  CHECK(hotfix_client_status_version(status) == 2);
  CHECK(hotfix_client_status_last_success_us(status) > 0);
  hotfix_client_status_destroy(status);

  /* A bad edit keeps the last good flags and is reported. */
  WriteFlags("{\"version\": 3, \"flags\": {\"fix-123\": ");
  {
    int i;
    hotfix_code_t code = HOTFIX_OK;
    for (i = 0; i < 1000 && code == HOTFIX_OK; ++i) {
      CHECK(hotfix_client_get_status(client, &status, NULL) == HOTFIX_OK);
      code = hotfix_client_status_last_error_code(status);
      if (code != HOTFIX_OK) {
        CHECK(code == HOTFIX_INVALID_ARGUMENT);
        CHECK(strlen(hotfix_client_status_last_error(status)) > 0);
        CHECK(hotfix_client_status_last_error_time_us(status) > 0);
        CHECK(hotfix_client_status_state(status) == HOTFIX_STATE_STALE);
        CHECK(hotfix_client_status_version(status) == 2);
      }
      hotfix_client_status_destroy(status);
      if (code == HOTFIX_OK) SleepMs(10);
    }
    CHECK(code == HOTFIX_INVALID_ARGUMENT);
  }
  CHECK(hotfix_client_enabled(client, "fix-123", NULL) == 1);

  CHECK(hotfix_client_remove_listener(client, id) == HOTFIX_OK);
  hotfix_client_destroy(client);
  pthread_mutex_destroy(&seen.mu);
}

static void MissingFileIsReportedNotFatal(void) {
  char missing[320];
  hotfix_client_t* client;
  hotfix_client_status_t* status = NULL;
  snprintf(missing, sizeof missing, "%s/does-not-exist.json", dir);
  client = FileClient(missing);
  CHECK(client != NULL);
  CHECK(hotfix_client_enabled(client, "fix-123", NULL) == 0);
  CHECK(hotfix_client_get_status(client, &status, NULL) == HOTFIX_OK);
  CHECK(hotfix_client_status_state(status) == HOTFIX_STATE_ERROR);
  CHECK(hotfix_client_status_last_error_code(status) != HOTFIX_OK);
  CHECK(strstr(hotfix_client_status_last_error(status), "does-not-exist") !=
        NULL);
  hotfix_client_status_destroy(status);
  hotfix_client_destroy(client);
}

static void ForkedChildFollowsTheFileAfterAfterFork(void) {
  hotfix_client_t* client;
  int to_parent[2];
  int to_child[2];
  pid_t pid;
  char byte = 0;
  int wstatus = 0;

  WriteFixFlag(10, 0);
  client = FileClient(path);
  CHECK(hotfix_client_enabled(client, "fix-123", NULL) == 0);
  CHECK(pipe(to_parent) == 0);
  CHECK(pipe(to_child) == 0);

  pid = fork();
  CHECK(pid >= 0);
  if (pid == 0) {
    int ok;
    close(to_parent[0]);
    close(to_child[1]);
    if (hotfix_client_after_fork(client) != HOTFIX_OK) _exit(3);
    if (write(to_parent[1], "r", 1) != 1) _exit(4);
    if (read(to_child[0], &byte, 1) != 1) _exit(5);  /* file rewritten */
    ok = WaitForFix(client, 1);
    _exit(ok ? 0 : 1);
  }
  close(to_parent[1]);
  close(to_child[0]);
  CHECK(read(to_parent[0], &byte, 1) == 1);
  WriteFixFlag(11, 1);
  CHECK(write(to_child[1], "w", 1) == 1);
  CHECK(waitpid(pid, &wstatus, 0) == pid);
  CHECK(WIFEXITED(wstatus));
  if (WIFSIGNALED(wstatus)) {
    fprintf(stderr, "  child killed by signal %d\n", WTERMSIG(wstatus));
  }
  if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) != 0) {
    fprintf(stderr, "  child exited with %d\n", WEXITSTATUS(wstatus));
  }
  CHECK(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  close(to_parent[0]);
  close(to_child[1]);
  /* The parent follows too. */
  CHECK(WaitForFix(client, 1));
  hotfix_client_destroy(client);
}

int main(void) {
  const char* tmp = getenv("TMPDIR");
  main_thread = pthread_self();
  snprintf(dir, sizeof dir, "%s/hotfix_c_source_test.XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(path, sizeof path, "%s/flags.json", dir);

  RUN(FileChangesReachEvaluationsAndCallbacks);
  RUN(MissingFileIsReportedNotFatal);
#ifdef HOTFIX_TSAN
  /* TSan kills a child of a multi-threaded process that starts threads. */
  fprintf(stderr, "[ SKIP ] ForkedChildFollowsTheFileAfterAfterFork (TSan)\n");
#else
  RUN(ForkedChildFollowsTheFileAfterAfterFork);
#endif

  unlink(path);
  rmdir(dir);
  return check_failures == 0 ? 0 : 1;
}
