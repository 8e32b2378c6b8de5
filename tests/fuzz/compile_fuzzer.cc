// tests/fuzz/compile_fuzzer.cc
//
// libFuzzer target for the flag-set compiler (hotfix::Compile), the boundary
// that sees every byte a file, server or admin sends. Checks that any input
// either compiles or fails with InvalidArgument / ResourceExhausted, that the
// two unknown-operator policies agree (kFailClosed accepts everything kReject
// accepts, with no warnings), and that every compiled flag evaluates without
// crashing for a few fixed contexts. Every input is also compiled as flagd's
// format (DocumentFormat::kFlagd), whose JSON Logic compiler folds constants
// by evaluating them. Seed corpus: tests/fuzz/corpus/compile/ (native and
// flagd documents).
//
//   compile_fuzzer -max_total_time=60 tests/fuzz/corpus/compile

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "hotfix/context.h"
#include "hotfix/evaluation.h"
#include "hotfix/snapshot.h"
#include "hotfix/value.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

// Evaluates every flag of `snapshot` for a few fixed contexts, at a fixed time
// and at the real time, asking for every value type.
void EvaluateAll(const hotfix::Snapshot& snapshot) {
  static const std::string_view kKeys[] = {"user-1", "", "alice", "staff-7"};
  const absl::Time fixed = absl::FromUnixSeconds(1767225600);  // 2026-01-01
  const std::vector<hotfix::FlagInfo> flags = snapshot.Flags();
  Check(flags.size() == snapshot.size());
  for (const hotfix::FlagInfo& info : flags) {
    Check(snapshot.Contains(info.key));
    for (std::string_view key : kKeys) {
      hotfix::Context context(key);
      context.Set("region", "eu")
          .Set("email", "alice@example.com")
          .Set("app_version", "1.2.3-rc.1")
          .Set("age", 31)
          .Set("beta", true)
          .Set("created", "2025-06-01T12:00:00Z")
          .Set("tenant", "t1")
          .Set("version", "v2.1")
          .Set("plan", "pro");
      const hotfix::EvaluationDetail detail =
          snapshot.Evaluate(info.key, context, hotfix::ValueType::kNone, fixed);
      Check(detail.error != hotfix::ErrorKind::kFlagNotFound);
      Check(detail.snapshot_version == snapshot.version());
      // flagd flags may mix variant types (their type is then kNone).
      if (detail.value.type != hotfix::ValueType::kNone &&
          info.type != hotfix::ValueType::kNone) {
        Check(detail.value.type == info.type);
      }
      snapshot.Evaluate(info.key, context, info.type);
      snapshot.Evaluate(info.key, context, hotfix::ValueType::kBool, fixed);
    }
    snapshot.Evaluate(info.key);  // no key, no attributes
  }
  Check(snapshot.Evaluate("no such flag \xff").error ==
        hotfix::ErrorKind::kFlagNotFound);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);

  hotfix::CompileOptions reject;
  reject.unknown_operators = hotfix::UnknownOperatorPolicy::kReject;
  hotfix::CompileOptions fail_closed;
  fail_closed.unknown_operators = hotfix::UnknownOperatorPolicy::kFailClosed;

  auto strict = hotfix::Compile(json, reject);
  auto lenient = hotfix::Compile(json, fail_closed);
  for (const auto* result : {&strict, &lenient}) {
    if (!result->ok()) {
      const absl::StatusCode code = result->status().code();
      Check(code == absl::StatusCode::kInvalidArgument ||
            code == absl::StatusCode::kResourceExhausted);
      Check(!result->status().message().empty());
    }
  }
  if (strict.ok()) {
    Check(lenient.ok());
    Check((*strict)->warnings().empty());
    Check((*lenient)->warnings().empty());
    Check((*strict)->size() == (*lenient)->size());
    Check((*strict)->version() == (*lenient)->version());
  }
  if (lenient.ok()) EvaluateAll(**lenient);

  hotfix::CompileOptions flagd;
  flagd.format = hotfix::DocumentFormat::kFlagd;
  auto as_flagd = hotfix::Compile(json, flagd);
  if (!as_flagd.ok()) {
    const absl::StatusCode code = as_flagd.status().code();
    Check(code == absl::StatusCode::kInvalidArgument ||
          code == absl::StatusCode::kResourceExhausted);
    Check(!as_flagd.status().message().empty());
  } else {
    Check((*as_flagd)->format() == hotfix::DocumentFormat::kFlagd);
    EvaluateAll(**as_flagd);
  }
  return 0;
}
