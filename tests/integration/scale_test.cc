// tests/integration/scale_test.cc
//
// hotfixd with thousands of streams on loopback: every one of 2,000
// concurrent SSE streams receives a change, and /healthz counts them. The
// streams are raw sockets read by one epoll loop in this process (an SDK
// client per stream would measure the test, not the server). Bounded: every
// wait has a deadline; timings are printed, never asserted.

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "harness.h"
#include "server_test.h"

namespace hotfix {
namespace integration {
namespace {

constexpr int kStreams = 2000;

// Many GET /v1/stream connections, read together by one epoll loop. Each
// connection keeps only what it needs: whether it has seen "id: <v>" lines.
class StreamCrowd {
 public:
  StreamCrowd(int port, int count) : epoll_(epoll_create1(EPOLL_CLOEXEC)) {
    conns_.resize(static_cast<std::size_t>(count));
    const std::string request = absl::StrCat(
        "GET /v1/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ",
        kSdkKey, "\r\nAccept: text/event-stream\r\n\r\n");
    for (Conn& c : conns_) {
      c.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<std::uint16_t>(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (c.fd < 0 ||
          connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
          send(c.fd, request.data(), request.size(), MSG_NOSIGNAL) !=
              static_cast<ssize_t>(request.size())) {
        ++failed_;
        continue;
      }
      fcntl(c.fd, F_SETFL, fcntl(c.fd, F_GETFL) | O_NONBLOCK);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = &c;
      epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
    }
  }
  ~StreamCrowd() {
    for (Conn& c : conns_) {
      if (c.fd >= 0) close(c.fd);
    }
    close(epoll_);
  }

  int failed_to_open() const { return failed_; }

  // Reads until every open connection has seen event id `version`, or
  // `timeout`. Returns how many have; fills `took` with the time each
  // needed from this call's start.
  int WaitForVersion(std::uint64_t version, absl::Duration timeout,
                     std::vector<double>* took_ms = nullptr) {
    const std::string marker = absl::StrCat("\nid: ", version, "\n");
    const absl::Time start = absl::Now();
    const absl::Time deadline = start + timeout;
    auto count = [&] {
      return static_cast<int>(
          std::count_if(conns_.begin(), conns_.end(),
                        [&](const Conn& c) { return c.seen >= version; }));
    };
    std::vector<epoll_event> events(256);
    char buffer[16384];
    while (count() < static_cast<int>(conns_.size()) - failed_ &&
           absl::Now() < deadline) {
      const int n = epoll_wait(epoll_, events.data(),
                               static_cast<int>(events.size()), 100);
      for (int i = 0; i < n; ++i) {
        Conn& c = *static_cast<Conn*>(events[i].data.ptr);
        for (;;) {
          const ssize_t got = recv(c.fd, buffer, sizeof buffer, 0);
          if (got <= 0) break;
          c.tail.append(buffer, static_cast<std::size_t>(got));
          if (c.seen < version && c.tail.find(marker) != std::string::npos) {
            c.seen = version;
            if (took_ms != nullptr) {
              took_ms->push_back(
                  absl::ToDoubleMilliseconds(absl::Now() - start));
            }
          }
          // Keep a tail long enough to hold a marker split across reads.
          if (c.tail.size() > 64) c.tail.erase(0, c.tail.size() - 64);
        }
      }
    }
    return count();
  }

 private:
  struct Conn {
    int fd = -1;
    std::uint64_t seen = 0;
    std::string tail = "\n";
  };
  const int epoll_;
  std::vector<Conn> conns_;
  int failed_ = 0;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))];
}

class ScaleTest : public ServerTest {
 protected:
  void SetUp() override {
    Start({"--max-streams", "4096", "--max-streams-per-key", "4096",
           "--stream-admission-rate", "100000"});
  }
};

TEST_F(ScaleTest, TwoThousandStreamsAllReceiveAChange) {
  StreamCrowd crowd(server_->port(), kStreams);
  ASSERT_EQ(crowd.failed_to_open(), 0);
  ASSERT_EQ(crowd.WaitForVersion(1, absl::Seconds(60)), kStreams)
      << "not every stream got the current set";
  HttpReply health = Call("GET", "/healthz", "", "");
  EXPECT_NE(health.body.find(absl::StrCat("\"streams\":", kStreams)),
            std::string::npos)
      << health.body;

  const absl::Time start = absl::Now();
  HttpReply kill =
      Call("POST", "/v1/admin/envs/production/flags/fix-double-charge/kill",
           R"({"reason":"scale test"})");
  const double write_ms = absl::ToDoubleMilliseconds(absl::Now() - start);
  ASSERT_EQ(kill.status, 200) << kill.body;
  std::vector<double> took;
  EXPECT_EQ(crowd.WaitForVersion(2, absl::Seconds(60), &took), kStreams);
  std::printf(
      "%d streams: admin write %.1f ms; change seen after p50 %.1f ms, p99 "
      "%.1f ms, max %.1f ms (from the write's answer)\n",
      kStreams, write_ms, Percentile(took, 0.5), Percentile(took, 0.99),
      Percentile(took, 1.0));
  // The admin API is not held up by the fan-out.
  EXPECT_EQ(Call("GET", "/v1/admin/envs").status, 200);
}

}  // namespace
}  // namespace integration
}  // namespace hotfix
