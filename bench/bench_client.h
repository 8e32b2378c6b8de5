// bench/bench_client.h
//
// The Client of the stand-alone counting drivers (counting_instructions,
// counting_overhead): `flags` static boolean flags from StaticFlagSetJson,
// with exposure counting on or off. A driver has nothing to measure without
// it, so a failure to create it ends the process with the reason on stderr.
//
// Header-only. Thread-safe (a pure function).

#ifndef HOTFIX_BENCH_BENCH_CLIENT_H_
#define HOTFIX_BENCH_BENCH_CLIENT_H_

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "bench_flags.h"
#include "hotfix/client.h"

namespace hotfix {
namespace bench {

inline std::unique_ptr<Client> StaticFlagsClient(std::size_t flags,
                                                 bool counting) {
  ClientOptions options;
  options.bootstrap_json =
      StaticFlagSetJson(flags, /*version=*/1, /*flip=*/false);
  options.telemetry.counting = counting;
  auto client = Client::Create(options);
  if (!client.ok()) {
    std::fprintf(stderr, "Client::Create: %s\n",
                 std::string(client.status().message()).c_str());
    std::exit(1);
  }
  return *std::move(client);
}

}  // namespace bench
}  // namespace hotfix

#endif  // HOTFIX_BENCH_BENCH_CLIENT_H_
