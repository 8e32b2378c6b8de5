// bench/server_propagation_benchmark.cc
//
// Flip-to-receive latency of hotfixd's SSE fan-out with 1, 1,000 and 10,000
// connected streams (any list with --clients). Starts hotfixd (temporary data directory, ephemeral
// port), opens N raw SSE connections from one epoll thread, then flips a flag
// through the admin API F times (kill / revive alternately) and records, for
// every connection, the time from sending the admin request to receiving the
// `patch` event with the new version. Reports p50 / p99 / max over all
// N x F samples, the admin write's own round trip while the streams are
// connected (it includes the SQLite commit's fsync), hotfixd's resident memory
// with the N streams idle, and the CPU hotfixd used during the flips.
//
// Raw sockets rather than SDK clients: this isolates the server's fan-out
// (the SDK's own apply-and-publish cost is measured by the library
// benchmarks). One reader thread timestamps every connection, so at N = 1000
// part of the measured spread is the reader walking its sockets.
//
//   server_propagation_benchmark [--hotfixd PATH] [--clients 1,1000,10000]
//                                [--flips 20]
//
// The client process needs an open-file limit above the largest N (it raises
// its soft limit to the hard one).

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>

namespace {

using Clock = std::chrono::steady_clock;

constexpr char kAdmin[] = "bench-admin-token-0123456789abcdef";
constexpr char kSdk[] = "bench-sdk-key-0123456789abcdef0123";

struct Conn {
  int fd = -1;
  std::string tail;  // last bytes read, for markers split across reads
  bool got = false;
  Clock::time_point at;
};

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(
      v.size() - 1, static_cast<std::size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

int Connect(int port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return -1;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

// Reads every readable connection until all have seen `marker` or the
// deadline passes. Returns how many have.
std::size_t Pump(int ep, std::vector<Conn>& conns, const std::string& marker,
                 Clock::time_point deadline) {
  std::size_t done = 0;
  for (const Conn& c : conns) done += c.got ? 1 : 0;
  std::vector<epoll_event> events(1024);
  char buf[65536];
  while (done < conns.size() && Clock::now() < deadline) {
    const int n =
        epoll_wait(ep, events.data(), static_cast<int>(events.size()), 50);
    const Clock::time_point now = Clock::now();
    for (int i = 0; i < n; ++i) {
      Conn& c = conns[events[i].data.u32];
      for (;;) {
        const ssize_t r = read(c.fd, buf, sizeof(buf));
        if (r <= 0) break;
        if (c.got) continue;
        c.tail.append(buf, static_cast<std::size_t>(r));
        if (c.tail.find(marker) != std::string::npos) {
          c.got = true;
          c.at = now;
          ++done;
        }
        if (c.tail.size() > 256) c.tail.erase(0, c.tail.size() - 64);
      }
    }
  }
  return done;
}

struct Server {
  pid_t pid = -1;
  int port = 0;
  std::string dir;
};

Server StartServer(const std::string& hotfixd, int max_streams) {
  Server s;
  char tmpl[] = "/tmp/hotfix-prop-XXXXXX";
  s.dir = mkdtemp(tmpl);
  const std::string port_file = s.dir + "/port";
  std::vector<std::string> args = {hotfixd,
                                   "--data-dir",
                                   s.dir + "/data",
                                   "--port",
                                   "0",
                                   "--port-file",
                                   port_file,
                                   "--max-streams",
                                   std::to_string(max_streams),
                                   "--max-streams-per-key",
                                   std::to_string(max_streams),
                                   "--max-connections",
                                   std::to_string(max_streams + 64),
                                   "--max-connections-per-address",
                                   std::to_string(max_streams + 64),
                                   "--stream-admission-rate",
                                   "1000000"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string e1 = std::string("HOTFIX_ADMIN_TOKEN=") + kAdmin;
  std::string e2 = std::string("HOTFIX_SDK_KEY=") + kSdk;
  char* envp[] = {e1.data(), e2.data(), nullptr};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  const std::string log = s.dir + "/hotfixd.log";
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (posix_spawn(&s.pid, argv[0], &fa, nullptr, argv.data(), envp) != 0) {
    std::fprintf(stderr, "cannot start %s\n", hotfixd.c_str());
    std::exit(1);
  }
  posix_spawn_file_actions_destroy(&fa);
  for (int i = 0; i < 1000 && s.port == 0; ++i) {
    std::ifstream in(port_file);
    in >> s.port;
    if (s.port == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (s.port == 0) {
    std::fprintf(stderr, "hotfixd did not start (see %s)\n", log.c_str());
    std::exit(1);
  }
  return s;
}

void StopServer(Server& s, bool keep_log = false) {
  kill(s.pid, SIGTERM);
  int status = 0;
  waitpid(s.pid, &status, 0);
  if (keep_log) {
    std::fprintf(stderr, "hotfixd log: %s/hotfixd.log\n", s.dir.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(s.dir, ec);
}

// VmRSS of `pid` in KiB.
long RssKiB(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return -1;
}

// CPU time (user + system) `pid` has used, in seconds.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)),
                   std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stoull(f);
    if (i == 15) stime = std::stoull(f);
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

}  // namespace

int main(int argc, char** argv) {
  std::string hotfixd = HOTFIXD_PATH;
  std::vector<int> client_counts = {1, 1000, 10000};
  int flips = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--hotfixd") {
      hotfixd = argv[i + 1];
    } else if (a == "--flips") {
      flips = std::atoi(argv[i + 1]);
    } else if (a == "--clients") {
      client_counts.clear();
      std::stringstream ss(argv[i + 1]);
      std::string item;
      while (std::getline(ss, item, ','))
        client_counts.push_back(std::atoi(item.c_str()));
    }
  }
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
  signal(SIGPIPE, SIG_IGN);

  const int max_clients =
      *std::max_element(client_counts.begin(), client_counts.end());
  Server server = StartServer(hotfixd, max_clients + 16);
  httplib::Client admin("127.0.0.1", server.port);
  admin.set_bearer_token_auth(kAdmin);
  admin.set_keep_alive(true);
  admin.set_tcp_nodelay(true);  // else Nagle + delayed ACK add ~40 ms

  std::printf("%-8s %-8s %9s %9s %9s %12s %10s %9s\n", "clients", "samples",
              "p50 ms", "p99 ms", "max ms", "write p50 ms", "RSS MiB",
              "CPU %");
  for (const int n : client_counts) {
    // Current version, so every stream starts with a small heartbeat.
    auto head = admin.Get("/v1/flags");
    std::uint64_t version =
        std::stoull(head->get_header_value("X-Hotfix-Version"));
    const int ep = epoll_create1(0);
    std::vector<Conn> conns(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) {
      Conn& c = conns[static_cast<std::size_t>(i)];
      c.fd = Connect(server.port);
      if (c.fd < 0) {
        std::fprintf(stderr, "connect %d failed\n", i);
        StopServer(server, true);
        return 1;
      }
      const std::string req =
          "GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
          "Bearer " +
          std::string(kSdk) +
          "\r\nAccept: text/event-stream\r\nLast-Event-ID: " +
          std::to_string(version) + "\r\n\r\n";
      if (write(c.fd, req.data(), req.size()) !=
          static_cast<ssize_t>(req.size())) {
        return 1;
      }
      fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<uint32_t>(i);
      epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    }
    // Everyone connected: each got its initial heartbeat.
    const std::size_t ready = Pump(ep, conns, "event: heartbeat",
                                   Clock::now() + std::chrono::seconds(60));
    if (ready != conns.size()) {
      std::fprintf(stderr, "only %zu of %d streams connected\n", ready, n);
      StopServer(server, true);
      return 1;
    }
    const long rss = RssKiB(server.pid);
    const double cpu_before = CpuSeconds(server.pid);
    const Clock::time_point flips_start = Clock::now();
    std::vector<double> latencies;
    std::vector<double> writes;
    for (int f = 0; f < flips; ++f) {
      for (Conn& c : conns) c.got = false;
      ++version;
      const std::string marker = "id: " + std::to_string(version) + "\n";
      const Clock::time_point t0 = Clock::now();
      Clock::time_point acked;
      std::thread writer([&] {
        auto r = admin.Post(
            f % 2 == 0
                ? "/v1/admin/envs/production/flags/kill-recommendations/kill"
                : "/v1/admin/envs/production/flags/kill-recommendations/revive",
            "{\"reason\":\"propagation benchmark\"}", "application/json");
        acked = Clock::now();
        if (!r || r->status != 200) std::fprintf(stderr, "flip failed\n");
      });
      const std::size_t got =
          Pump(ep, conns, marker, t0 + std::chrono::seconds(30));
      writer.join();
      if (got != conns.size()) {
        std::fprintf(stderr,
                     "flip %d: only %zu of %d streams got version %llu\n", f,
                     got, n, static_cast<unsigned long long>(version));
        StopServer(server, true);
        return 1;
      }
      writes.push_back(Ms(acked - t0));
      for (const Conn& c : conns) latencies.push_back(Ms(c.at - t0));
    }
    const double cpu = 100.0 * (CpuSeconds(server.pid) - cpu_before) /
                       std::chrono::duration<double>(Clock::now() - flips_start)
                           .count();
    std::printf("%-8d %-8zu %9.2f %9.2f %9.2f %12.2f %10.1f %9.0f\n", n,
                latencies.size(), Percentile(latencies, 0.5),
                Percentile(latencies, 0.99), Percentile(latencies, 1.0),
                Percentile(writes, 0.5), rss / 1024.0, cpu);
    std::fflush(stdout);
    for (Conn& c : conns) close(c.fd);
    close(ep);
    // Wait until hotfixd has noticed and freed the streams.
    const std::string gone =
        "hotfixd_stream_connections{env=\"production\"} 0\n";
    for (int i = 0; i < 300; ++i) {
      auto m = admin.Get("/metrics");
      if (m && m->body.find(gone) != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  StopServer(server);
  return 0;
}
