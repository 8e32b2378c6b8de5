// bench/server_propagation_benchmark.cc
//
// Flip-to-receive latency of hotfixd's SSE fan-out with 1, 1,000 and 10,000
// connected streams (any list with --clients), beside the floor it is judged
// against, in the same run. Starts hotfixd (temporary data directory,
// ephemeral port), opens N raw SSE connections from one epoll thread, then
// flips a flag through the admin API F times (kill / revive alternately) and
// records, for every connection, the time from sending the admin request to
// receiving the `patch` event with the new version. Reports p50 / p99 / max
// over all N x F samples, the admin write's own round trip while the streams
// are connected (it includes the SQLite commit's fsync), hotfixd's resident
// memory with the N streams idle, and the CPU hotfixd used during the flips.
//
// The baseline (`floor` rows): the same reader against a forked child that
// does nothing but the kernel's part — on a trigger it write(2)s one event of
// the same size to every connection from two threads (hotfixd's default
// --io-threads); no HTTP parsing, database, compile or framing. On loopback
// each send also runs the receiver's TCP path, and the reader pays a
// receive per connection, so this is what no server can go below on the
// same machine; `hotfixd / floor` is printed per N.
//
// Raw sockets rather than SDK clients: this isolates the server's fan-out
// (the SDK's own apply-and-publish cost is measured by the library
// benchmarks). One reader thread timestamps every connection, so at large N
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
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
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

// ------------------------------------------------------------ the floor

// The same event size as hotfixd's `patch` of kill-recommendations, so that
// both move the same bytes.
constexpr std::size_t kFloorEventBytes = 420;

struct Floor {
  pid_t pid = -1;
  int port = 0;
  int trigger = -1;  // write a version (8 bytes) to send it to everyone
};

// Writes all of `data` to `fd` (blocking); false if the peer is gone.
bool WriteAll(int fd, const std::string& data) {
  std::size_t off = 0;
  while (off < data.size()) {
    const ssize_t w = write(fd, data.data() + off, data.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    off += static_cast<std::size_t>(w);
  }
  return true;
}

std::string FloorEvent(std::uint64_t version) {
  std::string e = "event: patch\nid: " + std::to_string(version) + "\ndata: ";
  e.append(
      kFloorEventBytes > e.size() + 2 ? kFloorEventBytes - e.size() - 2 : 0,
      'x');
  e += "\n\n";
  return e;
}

// The child: accepts connections, answers each with a stream head and a
// heartbeat, and on each trigger writes the event to every connection from
// two threads. Never returns.
[[noreturn]] void RunFloor(int listener, int trigger) {
  std::mutex mu;
  std::vector<int> fds;  // guarded by mu
  std::thread acceptor([&] {
    const std::string head =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"
        "event: heartbeat\nid: 0\ndata: {}\n\n";
    for (;;) {
      const int c = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;
      }
      int one = 1;
      setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
      if (!WriteAll(c, head)) {
        close(c);
        continue;
      }
      std::lock_guard<std::mutex> lock(mu);
      fds.push_back(c);
    }
  });
  acceptor.detach();
  for (;;) {
    std::uint64_t version = 0;
    if (read(trigger, &version, sizeof(version)) != sizeof(version)) _exit(0);
    const std::string event = FloorEvent(version);
    std::vector<int> all;
    {
      std::lock_guard<std::mutex> lock(mu);
      all = fds;
    }
    std::vector<char> dead(all.size(), 0);
    auto send_range = [&](std::size_t from, std::size_t to) {
      for (std::size_t i = from; i < to; ++i) {
        if (!WriteAll(all[i], event)) dead[i] = 1;
      }
    };
    std::thread second(send_range, all.size() / 2, all.size());
    send_range(0, all.size() / 2);
    second.join();
    std::lock_guard<std::mutex> lock(mu);
    std::vector<int> alive;
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (dead[i]) {
        close(all[i]);
      } else {
        alive.push_back(all[i]);
      }
    }
    // Connections accepted meanwhile are after `all` in fds.
    alive.insert(alive.end(), fds.begin() + static_cast<long>(all.size()),
                 fds.end());
    fds.swap(alive);
  }
}

Floor StartFloor() {
  Floor f;
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listener < 0 ||
      bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      listen(listener, 4096) != 0 ||
      getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    std::fprintf(stderr, "floor: cannot listen: %s\n", std::strerror(errno));
    std::exit(1);
  }
  f.port = ntohs(addr.sin_port);
  int pipe_fds[2];
  if (pipe(pipe_fds) != 0) std::exit(1);
  f.pid = fork();
  if (f.pid == 0) {
    close(pipe_fds[1]);
    RunFloor(listener, pipe_fds[0]);
  }
  close(listener);
  close(pipe_fds[0]);
  f.trigger = pipe_fds[1];
  return f;
}

void StopFloor(Floor& f) {
  close(f.trigger);
  kill(f.pid, SIGKILL);
  int status = 0;
  waitpid(f.pid, &status, 0);
}

// ------------------------------------------------------------ one N

struct Row {
  std::size_t samples = 0;
  double p50 = 0, p99 = 0, max = 0, write_p50 = 0;
  double rss_mib = 0, cpu_percent = 0;
  bool ok = false;
};

// Opens `n` streams to `port` (each sends `request(version)`), waits for the
// first heartbeat on each, then `flips` times: `flip(f, version)` (returns
// when the write is acknowledged) while the reader waits for "id: version"
// on every stream. `pid`: the server, for its memory and CPU.
Row Measure(int n, int flips, int port, pid_t pid, std::uint64_t version,
            const std::function<std::string(std::uint64_t)>& request,
            const std::function<void(int, std::uint64_t)>& flip) {
  Row row;
  const int ep = epoll_create1(0);
  std::vector<Conn> conns(static_cast<std::size_t>(n));
  auto finish = [&] {
    for (Conn& c : conns) {
      if (c.fd >= 0) close(c.fd);
    }
    close(ep);
    return row;
  };
  for (int i = 0; i < n; ++i) {
    Conn& c = conns[static_cast<std::size_t>(i)];
    c.fd = Connect(port);
    if (c.fd < 0) {
      std::fprintf(stderr, "connect %d failed\n", i);
      return finish();
    }
    const std::string req = request(version);
    if (write(c.fd, req.data(), req.size()) !=
        static_cast<ssize_t>(req.size())) {
      return finish();
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
    return finish();
  }
  const long rss = RssKiB(pid);
  const double cpu_before = CpuSeconds(pid);
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
      flip(f, version);
      acked = Clock::now();
    });
    const std::size_t got =
        Pump(ep, conns, marker, t0 + std::chrono::seconds(30));
    writer.join();
    if (got != conns.size()) {
      std::fprintf(stderr, "flip %d: only %zu of %d streams got version %llu\n",
                   f, got, n, static_cast<unsigned long long>(version));
      return finish();
    }
    writes.push_back(Ms(acked - t0));
    for (const Conn& c : conns) latencies.push_back(Ms(c.at - t0));
  }
  row.cpu_percent =
      100.0 * (CpuSeconds(pid) - cpu_before) /
      std::chrono::duration<double>(Clock::now() - flips_start).count();
  row.samples = latencies.size();
  row.p50 = Percentile(latencies, 0.5);
  row.p99 = Percentile(latencies, 0.99);
  row.max = Percentile(latencies, 1.0);
  row.write_p50 = Percentile(writes, 0.5);
  row.rss_mib = rss / 1024.0;
  row.ok = true;
  return finish();
}

void PrintRow(const char* who, int n, const Row& r) {
  std::printf("%-8s %-8d %-8zu %9.2f %9.2f %9.2f %12.2f %10.1f %9.0f\n", who, n,
              r.samples, r.p50, r.p99, r.max, r.write_p50, r.rss_mib,
              r.cpu_percent);
  std::fflush(stdout);
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

  Floor floor = StartFloor();  // before any thread of ours exists
  const int max_clients =
      *std::max_element(client_counts.begin(), client_counts.end());
  Server server = StartServer(hotfixd, max_clients + 16);
  httplib::Client admin("127.0.0.1", server.port);
  admin.set_bearer_token_auth(kAdmin);
  admin.set_keep_alive(true);
  admin.set_tcp_nodelay(true);  // else Nagle + delayed ACK add ~40 ms

  std::printf("%-8s %-8s %-8s %9s %9s %9s %12s %10s %9s\n", "server", "clients",
              "samples", "p50 ms", "p99 ms", "max ms", "write p50 ms",
              "RSS MiB", "CPU %");
  std::uint64_t floor_version = 0;
  for (const int n : client_counts) {
    // Current version, so every stream starts with a small heartbeat.
    auto head = admin.Get("/v1/flags");
    const std::uint64_t version =
        std::stoull(head->get_header_value("X-Hotfix-Version"));
    const Row hot = Measure(
        n, flips, server.port, server.pid, version,
        [](std::uint64_t v) {
          return "GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Authorization: Bearer " +
                 std::string(kSdk) +
                 "\r\nAccept: text/event-stream\r\nLast-Event-ID: " +
                 std::to_string(v) + "\r\n\r\n";
        },
        [&](int f, std::uint64_t) {
          auto r = admin.Post(f % 2 == 0 ? "/v1/admin/envs/production/flags/"
                                           "kill-recommendations/kill"
                                         : "/v1/admin/envs/production/flags/"
                                           "kill-recommendations/revive",
                              "{\"reason\":\"propagation benchmark\"}",
                              "application/json");
          if (!r || r->status != 200) std::fprintf(stderr, "flip failed\n");
        });
    if (!hot.ok) {
      StopServer(server, true);
      StopFloor(floor);
      return 1;
    }
    PrintRow("hotfixd", n, hot);
    const Row base = Measure(
        n, flips, floor.port, floor.pid, floor_version,
        [](std::uint64_t) {
          return std::string("GET /v1/stream HTTP/1.1\r\n\r\n");
        },
        [&](int, std::uint64_t v) {
          if (write(floor.trigger, &v, sizeof(v)) != sizeof(v)) {
            std::fprintf(stderr, "floor: trigger failed\n");
          }
        });
    floor_version += static_cast<std::uint64_t>(flips);
    if (!base.ok) {
      StopServer(server, true);
      StopFloor(floor);
      return 1;
    }
    PrintRow("floor", n, base);
    std::printf("%-8s %-8d %-8s %9.2f %9.2f\n", "ratio", n, "",
                hot.p50 / base.p50, hot.p99 / base.p99);
    std::fflush(stdout);
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
  StopFloor(floor);
  return 0;
}
