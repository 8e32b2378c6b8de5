// tests/fuzz/patch_fuzzer.cc
//
// libFuzzer target for applying what a flag server sends (RemoteDocument,
// src/sources/remote_document.h): a whole document then patches, each cut
// from the input at NUL bytes. Checks: no crash; the served version never
// goes down; every document the sink is offered is valid JSON that the
// compiler accepts or refuses cleanly. Seed corpus: tests/fuzz/corpus/patch/.
//
//   patch_fuzzer -max_total_time=30 tests/fuzz/corpus/patch

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "hotfix/snapshot.h"
#include "sources/remote_document.h"
#include "sources/source.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

// Compiles what it is offered, as a Client does, and remembers the version.
class CompilingSink : public hotfix::internal::SourceSink {
 public:
  absl::Status Offer(std::string_view json, hotfix::SnapshotOrigin,
                     bool require_newer) override {
    auto snapshot = hotfix::Compile(json);
    if (!snapshot.ok()) {
      Check(snapshot.status().code() == absl::StatusCode::kInvalidArgument ||
            snapshot.status().code() == absl::StatusCode::kResourceExhausted);
      return snapshot.status();
    }
    if (require_newer && (*snapshot)->version() < version_) {
      return absl::FailedPreconditionError("older");
    }
    version_ = (*snapshot)->version();
    return absl::OkStatus();
  }
  void ReportSuccess(hotfix::SnapshotOrigin) override {}
  void ReportError(hotfix::SnapshotOrigin, const absl::Status&) override {}

  std::uint64_t version() const { return version_; }

 private:
  std::uint64_t version_ = 0;
};

constexpr char kBase[] =
    R"({"version":1,"flags":{"a":{"variants":{"on":true,"off":false},)"
    R"("default":"on"},"b":{"variants":{"x":"1"},"default":"x"}}})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  CompilingSink sink;
  hotfix::internal::RemoteDocument doc(&sink, nullptr);
  doc.ApplyFull(kBase, hotfix::SnapshotOrigin::kStream);
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  bool first = true;
  while (!rest.empty()) {
    const std::size_t nul = rest.find('\0');
    const std::string_view piece = rest.substr(0, nul);
    rest = nul == std::string_view::npos ? std::string_view()
                                         : rest.substr(nul + 1);
    const std::uint64_t before = doc.version();
    // The first piece may be a whole document (a `put`); the rest patches.
    if (first && !piece.empty() && piece[0] == '{' &&
        piece.find("\"base_version\"") == std::string_view::npos) {
      doc.ApplyFull(piece, hotfix::SnapshotOrigin::kStream);
    } else {
      doc.ApplyPatch(piece, hotfix::SnapshotOrigin::kStream);
    }
    first = false;
    if (doc.has_document()) Check(doc.version() >= before || before == 0);
  }
  return 0;
}
