// bench/peers/flagd_peer_benchmark.cc
//
// hotfix on flagd's flag definitions (bench/peers/flagd_flags.json, compiled
// by hotfix::Compile's flagd compiler): ns per Client::Enabled for each
// case over 1024 contexts, the best of several repetitions. Prints one JSON
// object; bench/peers/run.sh puts it beside @openfeature/flagd-core's figures.
//
//   flagd_peer_benchmark FLAGS_JSON [iterations] [repetitions] [case]

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "hotfix/client.h"
#include "hotfix/context.h"
#include "hotfix/options.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FLAGS_JSON [iterations] [repetitions]\n",
                 argv[0]);
    return 2;
  }
  std::ifstream in(argv[1]);
  std::stringstream text;
  text << in.rdbuf();
  const long iterations = argc > 2 ? std::atol(argv[2]) : 5000000;
  const int repetitions = argc > 3 ? std::atoi(argv[3]) : 5;
  const std::string only = argc > 4 ? argv[4] : "";
  hotfix::ClientOptions options;
  options.bootstrap_json = text.str();
  auto client = hotfix::Client::Create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "%s\n",
                 std::string(client.status().message()).c_str());
    return 1;
  }
  // The same contexts as flagd_core_bench.js.
  std::vector<std::string> keys, emails, versions;
  for (int i = 0; i < 1024; ++i) {
    keys.push_back("user-" + std::to_string(i));
    emails.push_back("u" + std::to_string(i) +
                     (i % 3 == 0 ? "@example.com" : "@other.org"));
    versions.push_back(std::to_string(i % 4) + "." + std::to_string(i % 7) +
                       "." + std::to_string(i % 5));
  }
  std::vector<hotfix::Context> contexts(1024);
  for (int i = 0; i < 1024; ++i) {
    contexts[i].set_key(keys[i]);
    contexts[i].Set("email", std::string_view(emails[i]));
    contexts[i].Set("version", std::string_view(versions[i]));
  }
  // Names as an application writes them: literals, whose length is known at
  // compile time.
  constexpr std::string_view cases[] = {"static-bool", "ends-with-semver",
                                        "fractional-10"};
  std::printf(
      "{\"peer\":\"hotfix (C++ Client::Enabled)\",\"iterations\":%ld,"
      "\"cases\":{",
      iterations);
  long sink = 0;
  bool first = true;
  for (int c = 0; c < 3; ++c) {
    if (!only.empty() && only != cases[c]) continue;
    for (long i = 0; i < 100000; ++i) {
      sink += (*client)->Enabled(cases[c], contexts[i & 1023]);
    }
    double best = 1e300;
    for (int r = 0; r < repetitions; ++r) {
      const auto start = std::chrono::steady_clock::now();
      for (long i = 0; i < iterations; ++i) {
        sink += (*client)->Enabled(cases[c], contexts[i & 1023]);
      }
      const double ns = std::chrono::duration<double, std::nano>(
                            std::chrono::steady_clock::now() - start)
                            .count() /
                        static_cast<double>(iterations);
      if (ns < best) best = ns;
    }
    std::printf("%s\"%s\":%.2f", first ? "" : ",",
                std::string(cases[c]).c_str(), best);
    first = false;
  }
  std::printf("},\"sink\":%ld}\n", sink);
  return 0;
}
