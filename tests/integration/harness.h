// tests/integration/harness.h
//
// Test harness for the integration tests: runs the real hotfixd binary as a
// subprocess on 127.0.0.1 with an ephemeral port and a temporary data
// directory (stderr captured to a file), runs the real hotfixctl binary,
// speaks HTTP with cpp-httplib, and reads SSE streams on a background
// thread. Every wait is bounded.
//
// Thread-safety: ServerProcess and the free functions are thread-compatible
// (HTTP helpers may be called concurrently); SseReader is thread-safe.

#ifndef HOTFIX_TESTS_INTEGRATION_HARNESS_H_
#define HOTFIX_TESTS_INTEGRATION_HARNESS_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <httplib.h>

#include "absl/time/time.h"
#include "rapidjson/document.h"
#include "support/temp_dir.h"
#include "support/wait_exit.h"

namespace hotfix {
namespace integration {

inline constexpr char kAdminToken[] = "test-admin-token-5a1b0c9d8e7f6a5b";
inline constexpr char kSdkKey[] = "test-sdk-key-0f1e2d3c4b5a69788796";

// A fresh directory under $TMPDIR (or /tmp), removed by the destructor.
using ::hotfix::testing_support::TempDir;

// A listening TCP socket on 127.0.0.1 (ephemeral port) owned by the test, for
// restarting hotfixd on the same port: each ServerProcess started with it
// serves it (--listen-fd) and, while none runs, connections wait in its
// backlog. Nothing else can take the port between two servers.
class ListeningSocket {
 public:
  ListeningSocket();
  ~ListeningSocket();
  ListeningSocket(const ListeningSocket&) = delete;
  ListeningSocket& operator=(const ListeningSocket&) = delete;
  int fd() const { return fd_; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

struct ServerOptions {
  // Required: the SQLite data directory, and with `database` set the prefix
  // of the port file and stderr log.
  std::string data_dir;
  // When set, passed as --database instead of --data-dir (a postgres:// URL
  // of a PostgresServer database).
  std::string database;
  // Passed as HOTFIX_ADMIN_TOKEN / HOTFIX_SDK_KEY when not empty.
  std::string admin_token = kAdminToken;
  std::string sdk_key = kSdkKey;
  // Appended to the command line (after --data-dir, --port 0, --port-file
  // and --heartbeat-interval 1s, so they may override the latter).
  std::vector<std::string> args;
  // When set, hotfixd serves this socket (passed as descriptor 3) instead of
  // binding a new port.
  const ListeningSocket* socket = nullptr;
};

class ServerProcess {
 public:
  // Start()
  //
  // Starts hotfixd and waits (at most 15 s) until it listens. Fails the
  // current test (and returns null) if it does not.
  static std::unique_ptr<ServerProcess> Start(const ServerOptions& options);

  // Kills the process (SIGKILL) if it still runs.
  ~ServerProcess();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string url() const;
  // The process's stderr so far.
  std::string Stderr() const;

  // SIGKILL and reap.
  void Kill9();
  // SIGTERM; waits at most `timeout` for exit. Returns the exit status
  // (-1 if it had to be killed).
  int Terminate(absl::Duration timeout = absl::Seconds(15));

 private:
  ServerProcess() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string stderr_path_;
};

struct HttpReply {
  int status = 0;  // 0: transport error
  std::string body;
  httplib::Headers headers;
  std::string error;  // transport error text

  // The reply `result` holds, or its transport error.
  static HttpReply From(const httplib::Result& result);

  std::string Header(const std::string& name) const;
  // Parses `body` as JSON (asserts it parses).
  rapidjson::Document Json() const;
};

// Sends one request to 127.0.0.1:port. `token` empty: no Authorization.
HttpReply Http(int port, const std::string& method, const std::string& path,
               const std::string& token, const std::string& body = "",
               const httplib::Headers& headers = {});

// Result of one hotfixctl run.
struct CtlResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// RunCtl()
//
// Runs hotfixctl with `args` and an environment holding only PATH, HOME, the
// sanitizer and libfaketime settings and `env` (so the caller's HOTFIX_*
// never leak in). Bounded: killed after 30 s.
CtlResult RunCtl(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env = {},
                 const std::string& stdin_data = "");

// Runs hotfixd with `args` (bounded: killed after `timeout`) and returns its
// exit code and output, for configurations that must refuse to start.
CtlResult RunHotfixd(const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env = {},
                     absl::Duration timeout = absl::Seconds(30));

// The environment hotfixctl needs to reach `server` with `token`.
std::map<std::string, std::string> CtlEnv(
    const ServerProcess& server, const std::string& token = kAdminToken);

struct SseEvent {
  std::string type;  // "message" when the event had no `event:` line
  std::string id;
  std::string data;
};

// Reads GET /v1/stream on a background thread and records every event.
class SseReader {
 public:
  SseReader(int port, const std::string& token,
            std::optional<std::uint64_t> last_event_id = std::nullopt,
            const std::string& query = "");
  ~SseReader();
  SseReader(const SseReader&) = delete;
  SseReader& operator=(const SseReader&) = delete;

  // WaitFor()
  //
  // Returns the first recorded event at index >= `from` satisfying `pred`,
  // waiting at most `timeout`; nullopt on timeout.
  std::optional<SseEvent> WaitFor(
      const std::function<bool(const SseEvent&)>& pred, absl::Duration timeout,
      std::size_t from = 0);
  // Waits for an event with `id` == version (any type).
  std::optional<SseEvent> WaitForVersion(std::uint64_t version,
                                         absl::Duration timeout);
  // Waits until the stream has ended (server closed it).
  bool WaitForEnd(absl::Duration timeout);

  std::vector<SseEvent> Events() const;
  // HTTP status of the stream response; 0 until headers arrive.
  int status() const;

 private:
  void Run(std::string path, httplib::Headers headers);

  const int port_;
  std::unique_ptr<httplib::Client> client_;
  std::atomic<bool> stop_{false};
  // std::mutex, not absl::Mutex: the system Abseil is not TSan-instrumented
  // and its deadlock detector's internals are reported as races.
  mutable std::mutex mu_;
  std::vector<SseEvent> events_;  // guarded by mu_
  std::string buffer_;            // guarded by mu_
  int status_ = 0;                // guarded by mu_
  bool ended_ = false;            // guarded by mu_
  std::thread thread_;
};

// A raw TCP connection to 127.0.0.1:port, for requests no HTTP library would
// send (malformed, hostile, slow) and for watching what the server does with
// the connection. Every call is bounded.
class RawClient {
 public:
  explicit RawClient(int port);
  ~RawClient();
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  // Sends all of `bytes`; false if the server closed or reset the connection.
  bool Send(std::string_view bytes);
  // Reads until the server closes the connection or `timeout` passes;
  // returns everything read (also what came before a reset).
  std::string ReadAll(absl::Duration timeout);
  // Reads until a response head ("...\r\n\r\n") has arrived, the server
  // closed, or `timeout` passed; returns what was read.
  std::string ReadHead(absl::Duration timeout);
  // True once the server has closed the connection (EOF or reset), waiting
  // at most `timeout`; whatever else arrives is discarded.
  bool WaitClosed(absl::Duration timeout);

 private:
  int fd_ = -1;
};

// The status code of a raw response ("HTTP/1.1 413 ..." gives 413); 0 if
// there is none.
int StatusOf(const std::string& response);

// Resident memory of process `pid` in KiB (VmRSS), -1 if unknown.
std::int64_t RssKiB(pid_t pid);

// SpawnProcess()
//
// Starts `argv` with an environment of PATH, HOME, the sanitizer and
// libfaketime settings plus `env`, stdin from /dev/null and stdout + stderr
// appended to `output_path` ("" = /dev/null). Returns the pid, or -1.
pid_t SpawnProcess(const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& env,
                   const std::string& output_path);

// Waits for `pid` at most `timeout`; returns its exit code, or -1 after a
// SIGKILL when it did not exit in time (or died of a signal).
using ::hotfix::testing_support::WaitExit;

// Polls `pred` every 10 ms until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& pred, absl::Duration timeout);

// Writes `content` to `path`.
void WriteFile(const std::string& path, const std::string& content);
std::string ReadFile(const std::string& path);

// Applies an SSE `put` / `patch` data payload to `doc` the way an SDK does
// (docs/protocol.md); returns false if a patch does not apply to `doc`'s
// version.
bool ApplyEvent(const SseEvent& event, rapidjson::Document* doc);

// Writes a self-signed certificate for 127.0.0.1 / localhost and its key
// (PEM) to the given paths.
void MakeSelfSignedCertificate(const std::string& cert_path,
                               const std::string& key_path);

}  // namespace integration
}  // namespace hotfix

#endif  // HOTFIX_TESTS_INTEGRATION_HARNESS_H_
