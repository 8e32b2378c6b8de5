// tests/integration/harness.cc

#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "common/json_util.h"
#include "gtest/gtest.h"
#include "support/certificate.h"

#if defined(HOTFIX_TSAN)
// See tools/hotfixd/main.cc: the test's cpp-httplib clients are not
// instrumented either. die_after_fork=0: SdkGuardTest forks a client whose
// child starts threads again (AfterFork), which TSan would otherwise kill.
extern "C" const char* __tsan_default_options() {
  return "ignore_noninstrumented_modules=1:die_after_fork=0";
}
#endif

extern char** environ;

namespace hotfix {
namespace integration {
namespace {

std::atomic<int> g_counter{0};

std::string TmpRoot() {
  const char* t = std::getenv("TMPDIR");
  return t != nullptr && *t != '\0' ? t : "/tmp";
}

// Environment for a child: PATH, HOME, sanitizer options, plus `extra`.
// Under libfaketime (`faketime DATE ctest ...`, see `./scripts/dev soak`) its
// preload and settings are passed on too, so that every process of a test
// lives at the same fake date.
std::vector<std::string> ChildEnv(
    const std::map<std::string, std::string>& extra) {
  std::vector<std::string> env;
  for (const char* name : {"PATH", "HOME", "ASAN_OPTIONS", "UBSAN_OPTIONS",
                           "TSAN_OPTIONS", "LSAN_OPTIONS", "TZ"}) {
    if (const char* v = std::getenv(name); v != nullptr) {
      env.push_back(absl::StrCat(name, "=", v));
    }
  }
  if (std::getenv("FAKETIME") != nullptr) {
    for (char** e = environ; *e != nullptr; ++e) {
      const absl::string_view var(*e);
      if (absl::StartsWith(var, "FAKETIME") ||
          absl::StartsWith(var, "LD_PRELOAD=") ||
          absl::StartsWith(var, "DONT_FAKE_MONOTONIC=")) {
        env.emplace_back(var);
      }
    }
  }
  for (const auto& [k, v] : extra) env.push_back(absl::StrCat(k, "=", v));
  return env;
}

std::vector<char*> CStrings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// Spawns `argv` with stdin/stdout/stderr redirected to the given files
// ("" = /dev/null) and, if `fd3` >= 0, that descriptor as descriptor 3.
// Returns the pid or -1.
//
// posix_spawn, not fork: fork in a multi-threaded, sanitizer-instrumented
// test process can crash the child. So that a crashed or timed-out test
// never leaves servers behind, the child runs under util-linux `setpriv
// --pdeathsig KILL` when available (killed when the test process dies).
pid_t Spawn(std::vector<std::string> argv, std::vector<std::string> env,
            const std::string& stdin_path, const std::string& stdout_path,
            const std::string& stderr_path, int fd3 = -1) {
  static const bool kHaveSetpriv = access("/usr/bin/setpriv", X_OK) == 0;
  if (kHaveSetpriv) {
    argv.insert(argv.begin(),
                {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"});
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const int flags = O_WRONLY | O_CREAT | O_TRUNC | O_APPEND;
  posix_spawn_file_actions_addopen(
      &actions, 0, stdin_path.empty() ? "/dev/null" : stdin_path.c_str(),
      O_RDONLY, 0);
  posix_spawn_file_actions_addopen(
      &actions, 1, stdout_path.empty() ? "/dev/null" : stdout_path.c_str(),
      flags, 0600);
  if (!stderr_path.empty() && stderr_path == stdout_path) {
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  } else {
    posix_spawn_file_actions_addopen(
        &actions, 2, stderr_path.empty() ? "/dev/null" : stderr_path.c_str(),
        flags, 0600);
  }
  if (fd3 >= 0) posix_spawn_file_actions_adddup2(&actions, fd3, 3);
  std::vector<char*> args = CStrings(argv);
  std::vector<char*> envp = CStrings(env);
  pid_t pid = -1;
  const int rc =
      posix_spawn(&pid, args[0], &actions, nullptr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

std::string TempPath(const std::string& stem) {
  return absl::StrCat(TmpRoot(), "/hotfix-it-", getpid(), "-", g_counter++, "-",
                      stem);
}

}  // namespace

pid_t SpawnProcess(const std::vector<std::string>& argv,
                   const std::map<std::string, std::string>& env,
                   const std::string& output_path) {
  return Spawn(argv, ChildEnv(env), "", output_path, output_path);
}

// ------------------------------------------------------------------ files

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

bool WaitUntil(const std::function<bool()>& pred, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

// ---------------------------------------------------------- ListeningSocket

ListeningSocket::ListeningSocket() {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
      listen(fd_, 1024) != 0 ||
      getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ADD_FAILURE() << "cannot listen on 127.0.0.1: " << std::strerror(errno);
    return;
  }
  port_ = ntohs(addr.sin_port);
}

ListeningSocket::~ListeningSocket() {
  if (fd_ >= 0) close(fd_);
}

// ---------------------------------------------------------------- RawClient

RawClient::RawClient(int port) {
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  timeval tv{10, 0};
  setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (fd_ >= 0 &&
      connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd_);
    fd_ = -1;
  }
}

RawClient::~RawClient() {
  if (fd_ >= 0) close(fd_);
}

bool RawClient::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

namespace {

// Reads what is available within `timeout` into `out`; false on EOF or
// error (the connection is over), true if it is still open.
bool ReadSome(int fd, absl::Duration timeout, std::string* out) {
  pollfd p{fd, POLLIN, 0};
  const int ms = static_cast<int>(absl::ToInt64Milliseconds(timeout));
  if (poll(&p, 1, std::max(ms, 0)) <= 0) return true;
  char buffer[65536];
  const ssize_t n = recv(fd, buffer, sizeof(buffer), 0);
  if (n <= 0) return false;
  out->append(buffer, static_cast<std::size_t>(n));
  return true;
}

}  // namespace

std::string RawClient::ReadAll(absl::Duration timeout) {
  std::string out;
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline &&
         ReadSome(fd_, deadline - absl::Now(), &out)) {
  }
  return out;
}

std::string RawClient::ReadHead(absl::Duration timeout) {
  std::string out;
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline && out.find("\r\n\r\n") == std::string::npos &&
         ReadSome(fd_, deadline - absl::Now(), &out)) {
  }
  return out;
}

bool RawClient::WaitClosed(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  std::string discard;
  while (absl::Now() < deadline) {
    if (!ReadSome(fd_, deadline - absl::Now(), &discard)) return true;
    discard.clear();
  }
  return false;
}

int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return 0;
  return std::atoi(response.c_str() + 9);
}

std::int64_t RssKiB(pid_t pid) {
  const std::string status = ReadFile(absl::StrCat("/proc/", pid, "/status"));
  const std::size_t at = status.find("VmRSS:");
  if (at == std::string::npos) return -1;
  return std::atoll(status.c_str() + at + 6);
}

// ------------------------------------------------------------ ServerProcess

std::unique_ptr<ServerProcess> ServerProcess::Start(
    const ServerOptions& options) {
  std::unique_ptr<ServerProcess> server(new ServerProcess());
  const std::string port_file = options.data_dir + ".port";
  std::remove(port_file.c_str());
  server->stderr_path_ =
      absl::StrCat(options.data_dir, ".stderr.", g_counter++);
  std::vector<std::string> argv = {
      HOTFIXD_PATH,
      options.database.empty() ? "--data-dir" : "--database",
      options.database.empty() ? options.data_dir : options.database,
      "--port",
      "0",
      "--port-file",
      port_file,
      "--heartbeat-interval",
      "1s"};
  if (options.socket != nullptr) {
    argv.insert(argv.end(), {"--listen-fd", "3"});
  }
  for (const std::string& a : options.args) argv.push_back(a);
  std::map<std::string, std::string> env;
  if (!options.admin_token.empty())
    env["HOTFIX_ADMIN_TOKEN"] = options.admin_token;
  if (!options.sdk_key.empty()) env["HOTFIX_SDK_KEY"] = options.sdk_key;
  server->pid_ =
      Spawn(argv, ChildEnv(env), "", server->stderr_path_, server->stderr_path_,
            options.socket != nullptr ? options.socket->fd() : -1);
  if (server->pid_ < 0) {
    ADD_FAILURE() << "cannot start " << HOTFIXD_PATH;
    return nullptr;
  }
  bool exited = false;
  const bool listening = WaitUntil(
      [&] {
        int status = 0;
        if (waitpid(server->pid_, &status, WNOHANG) == server->pid_) {
          exited = true;
          return true;
        }
        const std::string text = ReadFile(port_file);
        if (text.empty()) return false;
        server->port_ = std::atoi(text.c_str());
        return server->port_ > 0;
      },
      absl::Seconds(15));
  if (exited || !listening) {
    if (exited) server->pid_ = -1;
    ADD_FAILURE() << "hotfixd did not start; stderr:\n" << server->Stderr();
    return nullptr;
  }
  return server;
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Kill9();
  // Sanitizer builds: a report in hotfixd fails the test that ran it.
  const std::string log = Stderr();
  for (const char* marker :
       {"WARNING: ThreadSanitizer", "ERROR: AddressSanitizer",
        "ERROR: LeakSanitizer", "runtime error:"}) {
    EXPECT_EQ(log.find(marker), std::string::npos)
        << "hotfixd reported \"" << marker << "\":\n"
        << log;
  }
  std::remove(stderr_path_.c_str());
}

std::string ServerProcess::url() const {
  return absl::StrCat("http://127.0.0.1:", port_);
}

std::string ServerProcess::Stderr() const { return ReadFile(stderr_path_); }

void ServerProcess::Kill9() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

int ServerProcess::Terminate(absl::Duration timeout) {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  const int code = WaitExit(pid_, timeout);
  pid_ = -1;
  return code;
}

// --------------------------------------------------------------------- HTTP

std::string HttpReply::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

HttpReply HttpReply::From(const httplib::Result& result) {
  HttpReply reply;
  if (!result) {
    reply.error = httplib::to_string(result.error());
    return reply;
  }
  reply.status = result->status;
  reply.body = result->body;
  reply.headers = result->headers;
  return reply;
}

rapidjson::Document HttpReply::Json() const {
  rapidjson::Document doc;
  const absl::Status st = tools::ParseJson(body, "reply", &doc);
  EXPECT_TRUE(st.ok()) << st << "\nbody: " << body;
  return doc;
}

HttpReply Http(int port, const std::string& method, const std::string& path,
               const std::string& token, const std::string& body,
               const httplib::Headers& extra) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(10, 0);
  client.set_read_timeout(30, 0);
  client.set_write_timeout(30, 0);
  client.set_keep_alive(false);
  client.set_tcp_nodelay(true);
  httplib::Headers headers = extra;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  const std::string type = "application/json";
  httplib::Result result =
      method == "GET"    ? client.Get(path, headers)
      : method == "POST" ? client.Post(path, headers, body, type)
      : method == "PUT"  ? client.Put(path, headers, body, type)
                         : client.Delete(path, headers, body, type);
  return HttpReply::From(result);
}

// ------------------------------------------------------------------ hotfixctl

namespace {

CtlResult RunProgram(const std::string& program,
                     const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env,
                     const std::string& stdin_data, absl::Duration timeout) {
  const std::string out_path = TempPath("out");
  const std::string err_path = TempPath("err");
  std::string in_path;
  if (!stdin_data.empty()) {
    in_path = TempPath("in");
    WriteFile(in_path, stdin_data);
  }
  std::vector<std::string> argv = {program};
  for (const std::string& a : args) argv.push_back(a);
  CtlResult result;
  const pid_t pid = Spawn(argv, ChildEnv(env), in_path, out_path, err_path);
  if (pid < 0) {
    ADD_FAILURE() << "cannot start " << program;
    return result;
  }
  result.exit_code = WaitExit(pid, timeout);
  result.out = ReadFile(out_path);
  result.err = ReadFile(err_path);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  if (!in_path.empty()) std::remove(in_path.c_str());
  return result;
}

}  // namespace

CtlResult RunCtl(const std::vector<std::string>& args,
                 const std::map<std::string, std::string>& env,
                 const std::string& stdin_data) {
  return RunProgram(HOTFIXCTL_PATH, args, env, stdin_data, absl::Seconds(30));
}

CtlResult RunHotfixd(const std::vector<std::string>& args,
                     const std::map<std::string, std::string>& env,
                     absl::Duration timeout) {
  return RunProgram(HOTFIXD_PATH, args, env, "", timeout);
}

std::map<std::string, std::string> CtlEnv(const ServerProcess& server,
                                          const std::string& token) {
  return {{"HOTFIX_URL", server.url()}, {"HOTFIX_TOKEN", token}};
}

// ------------------------------------------------------------------ SseReader

SseReader::SseReader(int port, const std::string& token,
                     std::optional<std::uint64_t> last_event_id,
                     const std::string& query)
    : port_(port) {
  client_ = std::make_unique<httplib::Client>("127.0.0.1", port);
  client_->set_connection_timeout(10, 0);
  client_->set_read_timeout(60, 0);
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
  headers.emplace("Accept", "text/event-stream");
  if (last_event_id.has_value()) {
    headers.emplace("Last-Event-ID", absl::StrCat(*last_event_id));
  }
  std::string path = "/v1/stream";
  if (!query.empty()) path += "?" + query;
  thread_ = std::thread([this, path, headers] { Run(path, headers); });
}

SseReader::~SseReader() {
  stop_.store(true);
  client_->stop();
  thread_.join();
}

void SseReader::Run(std::string path, httplib::Headers headers) {
  client_->Get(
      path, headers,
      [this](const httplib::Response& response) {
        std::lock_guard<std::mutex> lock(mu_);
        status_ = response.status;
        return !stop_.load();
      },
      [this](const char* data, std::size_t size) {
        std::lock_guard<std::mutex> lock(mu_);
        buffer_.append(data, size);
        for (;;) {
          const std::size_t end = buffer_.find("\n\n");
          if (end == std::string::npos) break;
          const std::string block = buffer_.substr(0, end);
          buffer_.erase(0, end + 2);
          SseEvent event;
          event.type = "message";
          bool has_data = false;
          std::istringstream lines(block);
          std::string line;
          while (std::getline(lines, line)) {
            if (line.empty() || line[0] == ':') continue;
            const std::size_t colon = line.find(':');
            std::string field = line.substr(0, colon);
            std::string value =
                colon == std::string::npos ? "" : line.substr(colon + 1);
            if (!value.empty() && value[0] == ' ') value.erase(0, 1);
            if (field == "event") {
              event.type = value;
            } else if (field == "id") {
              event.id = value;
            } else if (field == "data") {
              if (has_data) event.data += "\n";
              event.data += value;
              has_data = true;
            }
          }
          events_.push_back(std::move(event));
        }
        return !stop_.load();
      });
  std::lock_guard<std::mutex> lock(mu_);
  ended_ = true;
}

std::optional<SseEvent> SseReader::WaitFor(
    const std::function<bool(const SseEvent&)>& pred, absl::Duration timeout,
    std::size_t from) {
  std::optional<SseEvent> found;
  WaitUntil(
      [&] {
        std::lock_guard<std::mutex> lock(mu_);
        for (std::size_t i = from; i < events_.size(); ++i) {
          if (pred(events_[i])) {
            found = events_[i];
            return true;
          }
        }
        return false;
      },
      timeout);
  return found;
}

std::optional<SseEvent> SseReader::WaitForVersion(std::uint64_t version,
                                                  absl::Duration timeout) {
  const std::string id = absl::StrCat(version);
  return WaitFor([&](const SseEvent& e) { return e.id == id; }, timeout);
}

bool SseReader::WaitForEnd(absl::Duration timeout) {
  return WaitUntil(
      [&] {
        std::lock_guard<std::mutex> lock(mu_);
        return ended_;
      },
      timeout);
}

std::vector<SseEvent> SseReader::Events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_;
}

int SseReader::status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return status_;
}

// ----------------------------------------------------------------- protocol

bool ApplyEvent(const SseEvent& event, rapidjson::Document* doc) {
  rapidjson::Document data;
  if (!tools::ParseJson(event.data, "event", &data).ok()) return false;
  if (event.type == "put") {
    doc->CopyFrom(data, doc->GetAllocator());
    return true;
  }
  if (event.type != "patch") return true;
  const rapidjson::Value* base = tools::FindMember(data, "base_version");
  const rapidjson::Value* version = tools::FindMember(*doc, "version");
  if (base == nullptr || version == nullptr || !base->IsUint64() ||
      !version->IsUint64() || base->GetUint64() != version->GetUint64()) {
    return false;
  }
  const rapidjson::Value& key_value = data["key"];
  const std::string key(key_value.GetString(), key_value.GetStringLength());
  rapidjson::Value& flags = (*doc)["flags"];
  const rapidjson::Value* deleted = tools::FindMember(data, "deleted");
  rapidjson::Value name(key.data(),
                        static_cast<rapidjson::SizeType>(key.size()),
                        doc->GetAllocator());
  auto it = flags.FindMember(name);
  if (deleted != nullptr && deleted->IsTrue()) {
    if (it != flags.MemberEnd()) flags.EraseMember(it);
  } else {
    rapidjson::Value flag(data["flag"], doc->GetAllocator());
    if (it != flags.MemberEnd()) {
      it->value = std::move(flag);
    } else {
      flags.AddMember(std::move(name), std::move(flag), doc->GetAllocator());
    }
  }
  (*doc)["version"].SetUint64(data["version"].GetUint64());
  return true;
}

// ------------------------------------------------------------------ TLS

void MakeSelfSignedCertificate(const std::string& cert_path,
                               const std::string& key_path) {
  const testing_support::Certificate certificate;
  ASSERT_TRUE(certificate.WritePem(cert_path));
  ASSERT_TRUE(certificate.WriteKeyPem(key_path));
}

}  // namespace integration
}  // namespace hotfix
