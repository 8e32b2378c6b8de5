// bench/bench_flags.h
//
// Synthetic flag sets for the benchmarks: deterministic generators of flag
// keys and of native flag-set documents (docs/flag-format.md). The same keys
// feed the hotfix snapshots and the baselines (a hash map of the same
// strings), so both do identical key work.
//
// Keys look like real ones ("payments.fix-4217", "search-api.kill-17") and
// vary in length (13 to 31 bytes, most beyond std::string's 15-byte inline
// buffer), as a service's flag names do.
//
// Header-only. Thread-safe (pure functions).

#ifndef HOTFIX_BENCH_BENCH_FLAGS_H_
#define HOTFIX_BENCH_BENCH_FLAGS_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace hotfix {
namespace bench {

// FlagKey()
//
// The i-th synthetic flag key; distinct for distinct i (the number is i).
inline std::string FlagKey(std::size_t i) {
  static constexpr const char* kTeams[] = {
      "payments",        "search-api", "checkout-web", "ads",
      "identity",        "inventory",  "mobile-ios",   "notifications",
      "billing-core",    "growth",     "risk",         "shipping",
      "catalog-service", "pricing",    "web",          "infra"};
  static constexpr const char* kKinds[] = {"fix", "kill", "exp", "rollout",
                                           "perf-guard"};
  constexpr std::size_t kTeamCount = sizeof(kTeams) / sizeof(kTeams[0]);
  constexpr std::size_t kKindCount = sizeof(kKinds) / sizeof(kKinds[0]);
  return absl::StrCat(kTeams[i % kTeamCount], ".",
                      kKinds[(i / kTeamCount) % kKindCount], "-", i);
}

// FlagKeys()
//
// FlagKey(0) ... FlagKey(n - 1), in that order.
inline std::vector<std::string> FlagKeys(std::size_t n) {
  std::vector<std::string> keys;
  keys.reserve(n);
  for (std::size_t i = 0; i < n; ++i) keys.push_back(FlagKey(i));
  return keys;
}

namespace flags_internal {

// A static boolean flag: no rules, so its answer never depends on the context.
// Hygiene metadata as most real flags carry it.
inline void AppendStaticBool(std::string& out, std::size_t i, bool on) {
  absl::StrAppend(&out, "\"", FlagKey(i),
                  "\":{\"variants\":{\"on\":true,\"off\":false},"
                  "\"off_variant\":\"off\",\"default\":\"",
                  on ? "on" : "off", "\",\"owner\":\"team-", i % 16,
                  "\",\"ticket\":\"OPS-", 1000 + i, "\"");
}

// One clause in the mix used by realistic documents; `pick` selects it.
inline void AppendClause(std::string& out, std::size_t pick,
                         std::size_t segment_count) {
  if (pick % 70 == 69) {
    // Regexes are rare in real sets and the most expensive to compile.
    out +=
        "{\"attribute\":\"user_agent\",\"op\":\"matches\","
        "\"value\":\"^Mozilla/5\\\\.0 .*Chrome/1[0-9]{2}\"}";
    return;
  }
  switch (pick % 6) {
    case 0:
      out +=
          "{\"attribute\":\"region\",\"op\":\"in\","
          "\"values\":[\"us-east\",\"us-west\",\"ca-central\"]}";
      break;
    case 1:
      out +=
          "{\"attribute\":\"app_version\",\"op\":\"semver_gte\","
          "\"value\":\"5.2.0\"}";
      break;
    case 2:
      out +=
          "{\"attribute\":\"email\",\"op\":\"ends_with\","
          "\"value\":\"@example.com\"}";
      break;
    case 3:
      out += "{\"attribute\":\"age_days\",\"op\":\"lt\",\"value\":30}";
      break;
    case 4:
      absl::StrAppend(&out, "{\"op\":\"segment\",\"values\":[\"segment-",
                      pick % segment_count, "\"]}");
      break;
    default:
      out +=
          "{\"attribute\":\"plan\",\"op\":\"not_in\","
          "\"values\":[\"free\",\"trial\"]}";
      break;
  }
}

inline void AppendSplit(std::string& out, std::size_t i) {
  // Ramps as seen in practice: 1 %, 12.5 %, 50 %.
  static constexpr const char* kSplits[] = {
      "[{\"variant\":\"on\",\"weight\":1},{\"variant\":\"off\",\"weight\":99}]",
      "[{\"variant\":\"on\",\"weight\":12.5},{\"variant\":\"off\",\"weight\":"
      "87.5}]",
      "[{\"variant\":\"on\",\"weight\":50},{\"variant\":\"off\",\"weight\":50}"
      "]"};
  absl::StrAppend(&out, "{\"rollout\":{\"split\":", kSplits[i % 3], "}}");
}

}  // namespace flags_internal

// StaticFlagSetJson()
//
// A document of `n` static boolean flags FlagKey(0..n-1); flag i is on when
// (i + flip) is even, so two documents with different `flip` change every
// flag's value. `extra_flags` (comma-separated "key":{...} members, may be
// empty) is appended to the flags object.
inline std::string StaticFlagSetJson(std::size_t n, std::uint64_t version,
                                     bool flip = false,
                                     const std::string& extra_flags = "") {
  std::string out;
  out.reserve(n * 150 + extra_flags.size() + 64);
  absl::StrAppend(&out, "{\"version\":", version, ",\"flags\":{");
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) out += ',';
    flags_internal::AppendStaticBool(out, i, ((i + (flip ? 1 : 0)) % 2) == 0);
    out += '}';
  }
  if (!extra_flags.empty()) {
    if (n != 0) out += ',';
    out += extra_flags;
  }
  out += "}}";
  return out;
}

// MixedFlagSetJson()
//
// A document of `n` flags FlagKey(0..n-1) shaped like a real service's set,
// per 100 flags:
//   83  static booleans (a quarter with description, tags and expiry),
//    1  static string flag with three variants, 1 static number flag,
//   10  flags with 1-3 rules (region `in`, `semver_gte`, `ends_with`, numeric
//       `lt`, `segment`, `not_in`; about one regex `matches` in 70), a
//       third of them with targets, every other rule serving a split,
//    4  percentage rollouts (1 %, 12.5 %, 50 %),
//    1  flag with a prerequisite on an earlier static flag.
// Plus max(4, n / 500) segments with included/excluded keys and one rule.
inline std::string MixedFlagSetJson(std::size_t n, std::uint64_t version = 1) {
  using namespace flags_internal;
  const std::size_t segment_count = n / 500 > 4 ? n / 500 : 4;
  std::string out;
  out.reserve(n * 220 + segment_count * 200 + 64);
  absl::StrAppend(&out, "{\"version\":", version, ",\"flags\":{");
  for (std::size_t i = 0; i < n; ++i) {
    if (i != 0) out += ',';
    const std::size_t slot = i % 100;
    if (slot < 83) {
      AppendStaticBool(out, i, i % 3 != 0);
      if (i % 4 == 0) {
        absl::StrAppend(&out,
                        ",\"description\":\"Guards the change shipped in "
                        "OPS-",
                        1000 + i, "\",\"tags\":[\"hotfix\",\"team-", i % 16,
                        "\"],\"expires\":\"2026-12-31\"");
      }
    } else if (slot == 83) {
      absl::StrAppend(&out, "\"", FlagKey(i),
                      "\":{\"variants\":{\"control\":\"v1\",\"treatment\":"
                      "\"v2\",\"fallback\":\"legacy\"},\"default\":"
                      "\"control\",\"owner\":\"team-",
                      i % 16, "\"");
    } else if (slot == 84) {
      absl::StrAppend(&out, "\"", FlagKey(i),
                      "\":{\"variants\":{\"small\":10,\"large\":250},"
                      "\"default\":\"small\",\"owner\":\"team-",
                      i % 16, "\"");
    } else if (slot < 95) {
      absl::StrAppend(&out, "\"", FlagKey(i),
                      "\":{\"variants\":{\"on\":true,\"off\":false},"
                      "\"off_variant\":\"off\",\"default\":\"off\"");
      if (i % 3 == 0) {
        absl::StrAppend(&out,
                        ",\"targets\":[{\"variant\":\"on\",\"keys\":["
                        "\"user-",
                        i, "\",\"user-", i + 1, "\",\"user-", i + 2, "\"]}]");
      }
      out += ",\"rules\":[";
      const std::size_t rules = 1 + i % 3;
      for (std::size_t r = 0; r < rules; ++r) {
        if (r != 0) out += ',';
        out += "{\"if\":[";
        const std::size_t clauses = 1 + (i + r) % 2;
        for (std::size_t c = 0; c < clauses; ++c) {
          if (c != 0) out += ',';
          AppendClause(out, i * 3 + r * 2 + c, segment_count);
        }
        out += "],\"serve\":";
        if ((i + r) % 2 == 0) {
          AppendSplit(out, i + r);
        } else {
          out += "\"on\"";
        }
        out += '}';
      }
      out += ']';
    } else if (slot < 99) {
      absl::StrAppend(&out, "\"", FlagKey(i),
                      "\":{\"variants\":{\"on\":true,\"off\":false},"
                      "\"off_variant\":\"off\",\"default\":");
      AppendSplit(out, i);
    } else {
      // Slot 49 of the same hundred is a static boolean flag.
      absl::StrAppend(&out, "\"", FlagKey(i),
                      "\":{\"variants\":{\"on\":true,\"off\":false},"
                      "\"off_variant\":\"off\",\"default\":\"on\","
                      "\"prerequisites\":[{\"flag\":\"",
                      FlagKey(i - 50), "\",\"variant\":\"on\"}]");
    }
    out += '}';
  }
  out += "},\"segments\":{";
  for (std::size_t s = 0; s < segment_count; ++s) {
    if (s != 0) out += ',';
    absl::StrAppend(&out, "\"segment-", s, "\":{\"included\":[\"user-", s,
                    "\",\"user-", s + 100, "\",\"user-", s + 200,
                    "\"],\"excluded\":[\"user-", s + 300,
                    "\"],\"rules\":[{\"if\":[{\"attribute\":\"email\",\"op\":"
                    "\"ends_with\",\"value\":\"@team",
                    s, ".example.com\"}]}]}");
  }
  out += "}}";
  return out;
}

}  // namespace bench
}  // namespace hotfix

#endif  // HOTFIX_BENCH_BENCH_FLAGS_H_
