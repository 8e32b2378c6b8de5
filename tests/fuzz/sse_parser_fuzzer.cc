// tests/fuzz/sse_parser_fuzzer.cc
//
// libFuzzer target for the SSE parser (src/sources/sse_parser.h), which reads
// every byte a flag server's stream sends. The input is cut into chunks at
// points the input itself chooses (the parser must give the same events for
// any split of the same stream), and checks: no crash, no event larger than
// the limit, and a split feed dispatching exactly what a whole feed does.
// Seed corpus: tests/fuzz/corpus/sse/.
//
//   sse_parser_fuzzer -max_total_time=30 tests/fuzz/corpus/sse

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "sources/sse_parser.h"

namespace {

constexpr std::size_t kLimit = 4096;

void Check(bool condition) {
  if (!condition) std::abort();
}

struct Outcome {
  std::vector<std::string> events;  // type, id, data joined
  bool failed = false;
};

Outcome Run(std::string_view stream, const std::vector<std::size_t>& cuts) {
  hotfix::internal::SseParser parser(kLimit);
  Outcome out;
  std::size_t at = 0;
  auto feed = [&](std::string_view piece) {
    if (out.failed) return;
    absl::Status st =
        parser.Feed(piece, [&](const hotfix::internal::SseEvent& e) {
          Check(e.data.size() <= kLimit);
          out.events.push_back(e.type + "\n" + e.id + "\n" + e.data);
          return true;
        });
    if (!st.ok()) out.failed = true;
  };
  for (std::size_t cut : cuts) {
    if (cut <= at || cut > stream.size()) continue;
    feed(stream.substr(at, cut - at));
    at = cut;
  }
  feed(stream.substr(at));
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  if (size < 1) return 0;
  // The first byte picks how to split the rest.
  const std::uint8_t mode = data[0];
  const std::string_view stream(reinterpret_cast<const char*>(data + 1),
                                size - 1);
  std::vector<std::size_t> cuts;
  if (mode & 1) {
    for (std::size_t i = 1; i < stream.size(); ++i) cuts.push_back(i);
  } else {
    for (std::size_t i = 1 + mode % 7; i < stream.size(); i += 1 + mode % 13) {
      cuts.push_back(i);
    }
  }
  const Outcome whole = Run(stream, {});
  const Outcome split = Run(stream, cuts);
  // Events dispatched before a failure are the same either way.
  if (!whole.failed && !split.failed) Check(whole.events == split.events);
  return 0;
}
