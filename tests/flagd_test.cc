// tests/flagd_test.cc
//
// flagd flag definitions in hotfix::Compile: the differential test against
// @openfeature/flagd-core (the reference evaluator), the awkward parts of
// flagd's semantics by name, and the compile errors that name their JSON
// path.
//
// FlagdDifferentialTest reads the cases and flagd-core's results that
// tests/openfeature/flagd_reference.js wrote: tests/data/flagd/reference.json
// (committed; 50 contexts) or, when HOTFIX_FLAGD_REFERENCE names a file, that
// file (the openfeature stage of ./scripts/dev generates 10,000 contexts).

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "common/context_json.h"
#include "gtest/gtest.h"
#include "hotfix/snapshot.h"
#include "rapidjson/document.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"

#ifndef HOTFIX_SOURCE_DIR
#error "HOTFIX_SOURCE_DIR must name the source tree"
#endif

namespace hotfix {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string ToJson(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  v.Accept(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// flagd's reason and error code for a hotfix evaluation of a flagd flag.
std::string FlagdReason(const EvaluationDetail& d) {
  switch (d.reason) {
    case Reason::kStatic:
      return "STATIC";
    case Reason::kRuleMatch:
      return "TARGETING_MATCH";
    case Reason::kDefault:
      return "DEFAULT";
    case Reason::kKilled:
      return "DISABLED";
    case Reason::kError:
      return "ERROR";
    default:
      return absl::StrCat("hotfix:", std::string(ReasonName(d.reason)));
  }
}

ValueType TypeFor(std::string_view type) {
  if (type == "boolean") return ValueType::kBool;
  if (type == "string") return ValueType::kString;
  if (type == "number") return ValueType::kNumber;
  return ValueType::kJson;
}

// The value as flagd-core reports it (JSON), given the caller's default.
std::string ValueJson(const EvaluationDetail& d, const rapidjson::Value& def) {
  switch (d.value.type) {
    case ValueType::kNone:
      return ToJson(def);
    case ValueType::kBool:
      return d.value.bool_value ? "true" : "false";
    case ValueType::kNumber: {
      rapidjson::Value n(d.value.number_value);
      return ToJson(n);
    }
    case ValueType::kString: {
      rapidjson::Value s(rapidjson::StringRef(d.value.string_value.data(),
                                              d.value.string_value.size()));
      return ToJson(s);
    }
    case ValueType::kJson: {
      rapidjson::Document doc;
      doc.Parse(d.value.string_value.data(), d.value.string_value.size());
      return ToJson(doc);
    }
  }
  return "?";
}

// Normalizes a JSON text (numbers as doubles) for comparison.
std::string Canonical(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  std::function<void(rapidjson::Value&)> fix = [&](rapidjson::Value& v) {
    if (v.IsNumber()) {
      v.SetDouble(v.GetDouble());
    } else if (v.IsArray()) {
      for (auto& e : v.GetArray()) fix(e);
    } else if (v.IsObject()) {
      for (auto& m : v.GetObject()) fix(m.value);
    }
  };
  fix(doc);
  return ToJson(doc);
}

TEST(FlagdDifferentialTest, EveryCaseMatchesFlagdCore) {
  const char* env = std::getenv("HOTFIX_FLAGD_REFERENCE");
  const std::string path =
      env != nullptr && *env != '\0'
          ? std::string(env)
          : std::string(HOTFIX_SOURCE_DIR) + "/tests/data/flagd/reference.json";
  const std::string text = ReadFile(path);
  ASSERT_FALSE(text.empty()) << path;
  rapidjson::Document ref;
  ref.Parse(text.c_str(), text.size());
  ASSERT_FALSE(ref.HasParseError()) << path;
  const absl::Time now = absl::FromUnixMillis(ref["nowMs"].GetInt64());
  const auto& documents = ref["documents"];
  const auto& contexts = ref["contexts"];
  const auto& results = ref["results"];
  // Contexts once.
  std::deque<std::string> storage;
  std::vector<Context> ctxs(contexts.Size());
  for (rapidjson::SizeType i = 0; i < contexts.Size(); ++i) {
    ASSERT_TRUE(tools::ContextFromJson(contexts[i], &storage, &ctxs[i]).ok())
        << ToJson(contexts[i]);
  }
  std::size_t evaluations = 0;
  std::size_t mismatches = 0;
  for (rapidjson::SizeType d = 0; d < documents.Size(); ++d) {
    const auto& doc = documents[d];
    const std::string name = doc["name"].GetString();
    const std::string flag = doc["flag"].GetString();
    const ValueType type = TypeFor(doc["type"].GetString());
    const auto& def = doc["default"];
    auto snapshot = Compile(doc["json"].GetString());
    const auto& rows = results[d];
    if (!snapshot.ok()) {
      // hotfix refuses at compile time only what flagd cannot evaluate.
      for (const auto& row : rows.GetArray()) {
        ++evaluations;
        if (!row[3].IsString() ||
            std::string(row[3].GetString()) != "PARSE_ERROR") {
          ADD_FAILURE() << name << ": hotfix rejects the definition ("
                        << snapshot.status().message()
                        << ") but flagd-core evaluates it: " << ToJson(row);
          ++mismatches;
          break;
        }
      }
      continue;
    }
    for (rapidjson::SizeType c = 0; c < rows.Size(); ++c) {
      ++evaluations;
      const auto& row = rows[c];
      const EvaluationDetail got =
          (*snapshot)->Evaluate(flag, ctxs[c], type, now);
      const std::string want_value = Canonical(ToJson(row[0]));
      const std::string want_variant =
          row[1].IsNull() ? "(none)" : row[1].GetString();
      const std::string want_reason = row[2].GetString();
      const std::string want_error = row[3].IsNull() ? "" : row[3].GetString();
      const std::string got_value = Canonical(ValueJson(got, def));
      const std::string got_variant =
          got.variant.empty() ? "(none)" : std::string(got.variant);
      const std::string got_reason = FlagdReason(got);
      std::string got_error;
      if (got.reason == Reason::kError) {
        got_error = std::string(ErrorKindName(got.error));
      }
      if (got_value != want_value || got_variant != want_variant ||
          got_reason != want_reason || got_error != want_error) {
        if (++mismatches <= 40) {
          ADD_FAILURE() << name << " context " << ToJson(contexts[c])
                        << "\n  flagd-core: " << want_value << " "
                        << want_variant << " " << want_reason << " "
                        << want_error << "\n  hotfix:     " << got_value << " "
                        << got_variant << " " << got_reason << " " << got_error;
        }
      }
    }
  }
  std::printf("flagd differential: %zu evaluations, %zu mismatches (%s)\n",
              evaluations, mismatches, path.c_str());
  EXPECT_EQ(mismatches, 0u);
}

}  // namespace
}  // namespace hotfix
