// The flag-set compiler (docs/flag-format.md): every validation error names
// the JSON path and the problem, and valid documents compile into the
// expected model (sorted flags, static variants, rollout ranges, clause
// values, fingerprints, interned strings).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "hotfix/snapshot.h"
#include "model/model.h"
#include "model/string_pool.h"
#include "snapshot/compile.h"

namespace hotfix {
namespace {

using internal::Clause;
using internal::CompiledFlag;
using internal::CompiledFlagSet;
using internal::Op;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Pair;
using ::testing::StartsWith;

// Matches an InvalidArgument status whose message is "<path>: ...<problem>...".
MATCHER_P2(IsCompileError, path, problem,
           absl::StrCat("is InvalidArgument \"", path, ": ...", problem,
                        "...\"")) {
  const std::string prefix = absl::StrCat(path, ": ");
  return arg.code() == absl::StatusCode::kInvalidArgument &&
         absl::StartsWith(arg.message(), prefix) &&
         absl::StrContains(arg.message(), problem);
}

absl::Status CompileStatus(const std::string& json,
                           const CompileOptions& options = {}) {
  return Compile(json, options).status();
}

std::unique_ptr<const Snapshot> MustCompile(
    const std::string& json, const CompileOptions& options = {}) {
  auto snapshot = Compile(json, options);
  EXPECT_TRUE(snapshot.ok()) << snapshot.status();
  if (!snapshot.ok()) return nullptr;
  return *std::move(snapshot);
}

// {"version": 1, "flags": {<flags>}, "segments": {<segments>}}
std::string Doc(const std::string& flags, const std::string& segments = "") {
  std::string doc = absl::StrCat(R"({"version": 1, "flags": {)", flags, "}");
  if (!segments.empty())
    absl::StrAppend(&doc, R"(, "segments": {)", segments, "}");
  return doc + "}";
}

// A boolean flag body with `extra` fields appended.
std::string BoolFlag(const std::string& extra = "") {
  return absl::StrCat(
      R"({"variants": {"on": true, "off": false}, "off_variant": "off", "default": "off")",
      extra.empty() ? "" : ", ", extra, "}");
}

// Flag "f" with one rule whose `if` is [clause].
std::string OneClause(const std::string& clause,
                      const std::string& segments = "") {
  return Doc(absl::StrCat(R"("f": )",
                          BoolFlag(absl::StrCat(R"("rules": [{"if": [)", clause,
                                                R"(], "serve": "on"}])"))),
             segments);
}

const CompiledFlag& FlagOf(const Snapshot& s, const std::string& key) {
  return s.compiled().flags[s.compiled().index.at(key).index];
}

const Clause& FirstClause(const Snapshot& s) {
  return s.compiled().flags[0].rules[0].clauses[0];
}

// ------------------------------------------------------------ the document

TEST(DocumentTest, InvalidJsonNamesLineColumnAndOffset) {
  const absl::Status s = CompileStatus(R"({"version": 1 "flags": {}})");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()),
              StartsWith("invalid JSON at line 1, column 15 (offset 14): "));
  EXPECT_THAT(s.message(), HasSubstr("Missing a comma"));
  const absl::Status multi =
      CompileStatus("{\n  \"version\": 1,\n  \"flags\": {\n    \"f\": tru\n}}");
  EXPECT_THAT(std::string(multi.message()),
              StartsWith("invalid JSON at line 4, column 13 (offset 43): "));
}

TEST(DocumentTest, EmptyDocumentIsInvalidJson) {
  EXPECT_THAT(std::string(CompileStatus("").message()),
              StartsWith("invalid JSON at line 1, column 1 (offset 0)"));
}

TEST(DocumentTest, JsonIsStrict) {
  for (const char* doc : {
           R"({"version": 1, "flags": {},})",         // trailing comma
           R"({"version": 1, /* c */ "flags": {}})",  // comment
           R"({"version": 1, "flags": {"f": {"variants": {"a": NaN}}}})",
           R"({'version': 1, "flags": {}})",
           R"({"version": 1, "flags": {}} {})",  // two roots
       }) {
    const absl::Status s = CompileStatus(doc);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << doc;
    EXPECT_THAT(std::string(s.message()), StartsWith("invalid JSON at line "))
        << doc;
  }
}

TEST(DocumentTest, InvalidUtf8IsRejected) {
  const std::string doc = Doc(absl::StrCat(
      R"("f": {"variants": {"a": "caf)", "\xC3\x28", R"("}, "default": "a"})"));
  EXPECT_THAT(std::string(CompileStatus(doc).message()),
              StartsWith("invalid JSON at line "));
}

TEST(DocumentTest, NulByteAfterTheRootIsRejected) {
  std::string doc = Doc("");
  doc.push_back('\0');
  doc += "garbage";
  const absl::Status s = CompileStatus(doc);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("NUL byte"));
}

TEST(DocumentTest, NumbersConvertToTheNearestDouble) {
  auto s = MustCompile(
      Doc(R"("n": {"variants": {"a": 0.1, "b": 0.000000000000000000000000,
      "c": 1.7976931348623157e308, "d": 2.2250738585072014e-308, "e": 9007199254740993,
      "f": -12.5e-1, "g": 0.30000000000000004441}, "default": "a"})"));
  ASSERT_NE(s, nullptr);
  const auto& v = FlagOf(*s, "n").variants;
  EXPECT_EQ(v[0].value.number_value, 0.1);
  EXPECT_EQ(v[1].value.number_value, 0.0);
  EXPECT_EQ(v[2].value.number_value, 1.7976931348623157e308);
  EXPECT_EQ(v[3].value.number_value, 2.2250738585072014e-308);
  EXPECT_EQ(v[4].value.number_value, 9007199254740992.0);  // round half to even
  EXPECT_EQ(v[5].value.number_value, -1.25);
  EXPECT_EQ(v[6].value.number_value, 0.1 + 0.2);
}

TEST(DocumentTest, NumbersOutOfDoubleRangeAreRejected) {
  for (const char* number : {"1e400", "-1e309", "1e-400"}) {
    const absl::Status s = CompileStatus(Doc(absl::StrCat(
        R"("n": {"variants": {"a": )", number, R"(}, "default": "a"})")));
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << number;
    EXPECT_THAT(std::string(s.message()), StartsWith("invalid JSON at line "))
        << number;
  }
}

TEST(DocumentTest, LargerThanTheLimitIsRejected) {
  CompileOptions options;
  options.max_document_bytes = 20;
  const absl::Status s = CompileStatus(Doc(R"("f": )" + BoolFlag()), options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("exceeds the limit of 20 bytes"));
  options.max_document_bytes = 1 << 20;
  EXPECT_TRUE(CompileStatus(Doc(R"("f": )" + BoolFlag()), options).ok());
}

TEST(DocumentTest, DeepNestingIsRejectedWithoutRecursing) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const absl::Status s = CompileStatus(Doc(absl::StrCat(
      R"("f": {"variants": {"a": )", deep, R"(}, "default": "a"})")));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("nested deeper than 128 levels"));
  // 100 levels of JSON inside a variant value are fine.
  const std::string ok = std::string(100, '[') + std::string(100, ']');
  EXPECT_TRUE(CompileStatus(Doc(absl::StrCat(R"("f": {"variants": {"a": )", ok,
                                             R"(}, "default": "a"})")))
                  .ok());
}

TEST(DocumentTest, RootMustBeAnObject) {
  EXPECT_THAT(CompileStatus("[]"),
              IsCompileError("(root)", "expected an object"));
}

TEST(DocumentTest, VersionIsARequiredUnsignedInteger) {
  EXPECT_THAT(CompileStatus(R"({"flags": {}})"),
              IsCompileError("version", "required field is missing"));
  for (const char* version :
       {"-1", "1.5", "\"1\"", "null", "18446744073709551616"}) {
    const absl::Status s = CompileStatus(
        absl::StrCat(R"({"version": )", version, R"(, "flags": {}})"));
    EXPECT_THAT(s, IsCompileError("version", "expected an unsigned integer"))
        << version;
  }
  auto snapshot =
      MustCompile(R"({"version": 18446744073709551615, "flags": {}})");
  EXPECT_EQ(snapshot->version(), 18446744073709551615u);
}

TEST(DocumentTest, FlagsIsARequiredObject) {
  EXPECT_THAT(CompileStatus(R"({"version": 1})"),
              IsCompileError("flags", "required field is missing"));
  EXPECT_THAT(CompileStatus(R"({"version": 1, "flags": []})"),
              IsCompileError("flags", "expected an object"));
}

TEST(DocumentTest, SegmentsMustBeAnObjectAndEnvironmentAString) {
  EXPECT_THAT(CompileStatus(R"({"version": 1, "flags": {}, "segments": 3})"),
              IsCompileError("segments", "expected an object"));
  EXPECT_THAT(CompileStatus(R"({"version": 1, "flags": {}, "environment": 3})"),
              IsCompileError("environment", "expected a string"));
  EXPECT_TRUE(
      CompileStatus(R"({"version": 1, "flags": {}, "environment": "prod"})")
          .ok());
}

TEST(DocumentTest, UnknownTopLevelFieldIsAnError) {
  EXPECT_THAT(CompileStatus(R"({"version": 1, "flags": {}, "flgs": {}})"),
              IsCompileError("flgs", "unknown field \"flgs\""));
}

TEST(DocumentTest, DuplicateTopLevelFieldIsAnError) {
  EXPECT_THAT(CompileStatus(R"({"version": 1, "flags": {}, "version": 2})"),
              IsCompileError("version", "duplicate key \"version\""));
}

TEST(DocumentTest, SchemaAndExtensionFieldsAreIgnoredEverywhere) {
  auto s = MustCompile(
      R"({"$schema": "https://example.com/s.json", "x-top": [1, {"a": 1}],
    "version": 1,
    "segments": {"beta": {"x-seg": 1, "included": ["u"],
                          "rules": [{"x-r": 1, "if": [{"x-c": 1, "attribute": "a", "op": "eq", "value": 1}]}]}},
    "flags": {"f": {"$schema": "s", "x-owner-team": "payments",
      "variants": {"on": true, "off": false}, "default": {"variant": "off", "x-why": "safe"},
      "prerequisites": [{"flag": "g", "variant": "on", "x-p": 1}],
      "targets": [{"variant": "on", "keys": ["k"], "x-t": 1}],
      "rules": [{"x-note": "eu only", "if": [{"x-c": true, "attribute": "region", "op": "eq", "value": "eu"}],
                 "serve": {"rollout": {"x-r": 1, "split": [{"variant": "on", "weight": 100, "x-s": 1}]}}}]},
              "g": {"variants": {"on": true}, "default": "on"}}})");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->size(), 2u);
}

TEST(DocumentTest, ExtensionKeysInsideMapsAreEntries) {
  // In the flags and variants maps every member is an entry: a flag called
  // "x-ray" is a flag, not an ignored extension.
  auto s = MustCompile(
      Doc(R"("x-ray": {"variants": {"x-large": "XL"}, "default": "x-large"})"));
  EXPECT_TRUE(s->Contains("x-ray"));
  EXPECT_EQ(FlagOf(*s, "x-ray").variants[0].name, "x-large");
  EXPECT_THAT(CompileStatus(Doc(R"("$schema": "s")")),
              IsCompileError("flags.$schema", "invalid flag key \"$schema\""));
}

TEST(DocumentTest, DuplicateExtensionFieldIsAnError) {
  EXPECT_THAT(
      CompileStatus(R"({"version": 1, "x-a": 1, "flags": {}, "x-a": 2})"),
      IsCompileError("x-a", "duplicate key \"x-a\""));
}

TEST(DocumentTest, DuplicateKeyInsideAnExtensionIsAnError) {
  EXPECT_THAT(
      CompileStatus(
          R"({"version": 1, "flags": {}, "x-a": {"b": [{"c": 1, "c": 2}]}})"),
      IsCompileError("x-a.b[0].c", "duplicate key \"c\""));
}

// ------------------------------------------------------------ keys

TEST(KeyTest, DuplicateFlagKeyIsAnError) {
  EXPECT_THAT(CompileStatus(Doc(absl::StrCat(R"("fix-1": )", BoolFlag(),
                                             R"(, "fix-1": )", BoolFlag()))),
              IsCompileError("flags.fix-1", "duplicate key \"fix-1\""));
}

TEST(KeyTest, DuplicateSegmentKeyIsAnError) {
  EXPECT_THAT(CompileStatus(Doc("", R"("beta": {}, "beta": {})")),
              IsCompileError("segments.beta", "duplicate key \"beta\""));
}

TEST(KeyTest, FlagKeysUseALimitedCharset) {
  EXPECT_THAT(
      CompileStatus(Doc(R"("bad key": )" + BoolFlag())),
      IsCompileError("flags[\"bad key\"]", "invalid flag key \"bad key\""));
  EXPECT_THAT(CompileStatus(Doc(R"("": )" + BoolFlag())),
              IsCompileError("flags[\"\"]", "invalid flag key \"\""));
  EXPECT_THAT(CompileStatus(Doc(R"("caf\u00e9": )" + BoolFlag())),
              IsCompileError("flags[\"caf\xC3\xA9\"]", "invalid flag key"));
  EXPECT_THAT(CompileStatus(Doc(R"("a\nb": )" + BoolFlag())),
              IsCompileError("flags[\"a\\nb\"]", "invalid flag key \"a\\nb\""));
  EXPECT_TRUE(CompileStatus(Doc(R"("Fix_1.2-3": )" + BoolFlag())).ok());
}

TEST(KeyTest, KeysAreAtMost256Bytes) {
  const std::string ok(256, 'k');
  const std::string too_long(257, 'k');
  EXPECT_TRUE(
      CompileStatus(Doc(absl::StrCat("\"", ok, "\": ", BoolFlag()))).ok());
  const absl::Status s =
      CompileStatus(Doc(absl::StrCat("\"", too_long, "\": ", BoolFlag())));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("invalid flag key"));
  EXPECT_THAT(s.message(), HasSubstr("must be 1-256 characters"));
}

TEST(KeyTest, SegmentKeysUseTheSameRules) {
  EXPECT_THAT(CompileStatus(Doc("", R"("beta testers": {})")),
              IsCompileError("segments[\"beta testers\"]",
                             "invalid segment key \"beta testers\""));
}

TEST(KeyTest, KeysWithDotsAreQuotedInPaths) {
  EXPECT_THAT(CompileStatus(Doc(
                  R"("checkout.v2": {"variants": {"a": 1}, "default": "b"})")),
              IsCompileError("flags[\"checkout.v2\"].default",
                             "unknown variant \"b\""));
}

TEST(KeyTest, LongOffendingValuesAreCutInMessages) {
  const std::string op(1000, 'z');
  const absl::Status s = CompileStatus(OneClause(
      absl::StrCat(R"({"attribute": "a", "op": ")", op, R"(", "value": 1})")));
  EXPECT_THAT(
      s, IsCompileError("flags.f.rules[0].if[0].op", "unknown operator \"zzz"));
  EXPECT_LT(s.message().size(), 300u);
}

// ------------------------------------------------------------ flag fields

TEST(FlagFieldTest, UnknownFieldIsAnError) {
  EXPECT_THAT(CompileStatus(Doc(R"("fix-1": )" + BoolFlag(R"("kiled": true)"))),
              IsCompileError("flags.fix-1.kiled", "unknown field \"kiled\""));
}

TEST(FlagFieldTest, DuplicateFieldIsAnError) {
  EXPECT_THAT(CompileStatus(Doc(
                  R"("f": )" + BoolFlag(R"("killed": true, "killed": false)"))),
              IsCompileError("flags.f.killed", "duplicate key \"killed\""));
}

TEST(FlagFieldTest, FlagMustBeAnObject) {
  EXPECT_THAT(CompileStatus(Doc(R"("f": true)")),
              IsCompileError("flags.f", "expected an object"));
}

TEST(FlagFieldTest, VariantsAreRequiredAndNonEmpty) {
  EXPECT_THAT(CompileStatus(Doc(R"("f": {"default": "on"})")),
              IsCompileError("flags.f.variants", "required field is missing"));
  EXPECT_THAT(
      CompileStatus(Doc(R"("x": {"variants": {}, "default": "a"})")),
      IsCompileError("flags.x.variants", "expected at least one variant"));
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": {"variants": [true], "default": "a"})")),
      IsCompileError("flags.f.variants", "expected an object"));
}

TEST(FlagFieldTest, VariantNamesAreNonEmptyAndUnique) {
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": {"variants": {"": true}, "default": ""})")),
      IsCompileError("flags.f.variants[\"\"]",
                     "variant name must not be empty"));
  EXPECT_THAT(
      CompileStatus(Doc(
          R"("f": {"variants": {"on": true, "on": false}, "default": "on"})")),
      IsCompileError("flags.f.variants.on", "duplicate key \"on\""));
}

TEST(FlagFieldTest, VariantValuesShareOneType) {
  EXPECT_THAT(
      CompileStatus(Doc(
          R"("f": {"variants": {"on": true, "off": "no"}, "default": "on"})")),
      IsCompileError(
          "flags.f.variants.off",
          "all variants must have one type: expected bool, got string"));
  EXPECT_THAT(
      CompileStatus(
          Doc(R"("f": {"variants": {"a": {"x": 1}, "b": 2}, "default": "a"})")),
      IsCompileError("flags.f.variants.b",
                     "expected JSON object or array, got number"));
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": {"variants": {"a": null}, "default": "a"})")),
      IsCompileError("flags.f.variants.a",
                     "expected a bool, string, number, object or array"));
  // Objects and arrays are both JSON.
  EXPECT_TRUE(
      CompileStatus(
          Doc(R"("f": {"variants": {"a": {"x": 1}, "b": [1]}, "default": "a"})"))
          .ok());
}

TEST(FlagFieldTest, DuplicateKeyInsideAJsonVariantIsAnError) {
  EXPECT_THAT(
      CompileStatus(Doc(
          R"("f": {"variants": {"v": {"b": [{"k": 1, "k": 2}]}}, "default": "v"})")),
      IsCompileError("flags.f.variants.v.b[0].k", "duplicate key \"k\""));
}

TEST(FlagFieldTest, DefaultIsRequiredAndNamesAVariant) {
  EXPECT_THAT(CompileStatus(Doc(R"("f": {"variants": {"on": true}})")),
              IsCompileError("flags.f.default", "required field is missing"));
  EXPECT_THAT(
      CompileStatus(
          Doc(R"("fix-123": {"variants": {"on": true}, "default": "onn"})")),
      IsCompileError("flags.fix-123.default", "unknown variant \"onn\""));
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": {"variants": {"on": true}, "default": 1})")),
      IsCompileError("flags.f.default",
                     "expected a variant name or an object"));
}

TEST(FlagFieldTest, OffVariantNamesAVariant) {
  EXPECT_THAT(
      CompileStatus(Doc(
          R"("f": {"variants": {"on": true}, "default": "on", "off_variant": "of"})")),
      IsCompileError("flags.f.off_variant", "unknown variant \"of\""));
  EXPECT_THAT(
      CompileStatus(Doc(
          R"("f": {"variants": {"on": true}, "default": "on", "off_variant": false})")),
      IsCompileError("flags.f.off_variant", "expected a string"));
}

TEST(FlagFieldTest, KilledAndEnabledAreBools) {
  EXPECT_THAT(CompileStatus(Doc(R"("f": )" + BoolFlag(R"("killed": "yes")"))),
              IsCompileError("flags.f.killed", "expected true or false"));
  EXPECT_THAT(CompileStatus(Doc(R"("f": )" + BoolFlag(R"("enabled": 0)"))),
              IsCompileError("flags.f.enabled", "expected true or false"));
}

TEST(FlagFieldTest, MetadataTypesAreChecked) {
  EXPECT_THAT(CompileStatus(Doc(R"("f": )" + BoolFlag(R"("owner": 7)"))),
              IsCompileError("flags.f.owner", "expected a string"));
  EXPECT_THAT(CompileStatus(Doc(R"("f": )" + BoolFlag(R"("ticket": null)"))),
              IsCompileError("flags.f.ticket", "expected a string"));
  EXPECT_THAT(CompileStatus(Doc(R"("f": )" + BoolFlag(R"("description": [])"))),
              IsCompileError("flags.f.description", "expected a string"));
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": )" + BoolFlag(R"("tags": "payments")"))),
      IsCompileError("flags.f.tags", "expected an array"));
  EXPECT_THAT(CompileStatus(Doc(R"("f": )" + BoolFlag(R"("tags": ["a", 2])"))),
              IsCompileError("flags.f.tags[1]", "expected a string"));
}

TEST(FlagFieldTest, ExpiresIsADateOrRfc3339Time) {
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": )" + BoolFlag(R"("expires": "2026-13-01")"))),
      IsCompileError("flags.f.expires", "invalid time \"2026-13-01\""));
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": )" + BoolFlag(R"("expires": "next week")"))),
      IsCompileError("flags.f.expires", "invalid time \"next week\""));
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": )" + BoolFlag(R"("expires": 1767225600)"))),
      IsCompileError("flags.f.expires", "expected a string"));
}

// ------------------------------------------------------------ serve

TEST(ServeTest, ObjectServeNeedsExactlyOneOfVariantOrRollout) {
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": {"variants": {"on": true}, "default": {}})")),
      IsCompileError("flags.f.default",
                     "expected exactly one of \"variant\" or \"rollout\""));
  EXPECT_THAT(
      CompileStatus(
          Doc(R"("f": {"variants": {"on": true}, "default": {"variant": "on",
          "rollout": {"split": [{"variant": "on", "weight": 100}]}}})")),
      IsCompileError("flags.f.default",
                     "expected exactly one of \"variant\" or \"rollout\""));
  EXPECT_THAT(
      CompileStatus(Doc(
          R"("f": {"variants": {"on": true}, "default": {"varient": "on"}})")),
      IsCompileError("flags.f.default.varient", "unknown field \"varient\""));
  EXPECT_THAT(
      CompileStatus(Doc(
          R"("f": {"variants": {"on": true}, "default": {"variant": "onn"}})")),
      IsCompileError("flags.f.default.variant", "unknown variant \"onn\""));
}

std::string SplitFlag(const std::string& split,
                      const std::string& rollout_extra = "") {
  return Doc(absl::StrCat(R"("f": {"variants": {"on": true, "off": false},
      "default": {"rollout": {)",
                          rollout_extra, R"("split": [)", split, "]}}}"));
}

TEST(RolloutTest, WeightsMustSumTo100) {
  EXPECT_THAT(
      CompileStatus(SplitFlag(
          R"({"variant": "on", "weight": 10}, {"variant": "off", "weight": 80})")),
      IsCompileError("flags.f.default.rollout.split",
                     "split weights sum to 90, must be 100"));
  EXPECT_THAT(
      CompileStatus(SplitFlag(
          R"({"variant": "on", "weight": 50.5}, {"variant": "off", "weight": 50})")),
      IsCompileError("flags.f.default.rollout.split",
                     "split weights sum to 100.5, must be 100"));
  EXPECT_THAT(
      CompileStatus(SplitFlag(
          R"({"variant": "on", "weight": 33.333}, {"variant": "off", "weight": 66.666})")),
      IsCompileError("flags.f.default.rollout.split",
                     "split weights sum to 99.999, must be 100"));
}

TEST(RolloutTest, WeightsHaveAtMostThreeDecimals) {
  EXPECT_THAT(
      CompileStatus(SplitFlag(
          R"({"variant": "on", "weight": 12.3456}, {"variant": "off", "weight": 87.6544})")),
      IsCompileError("flags.f.default.rollout.split[0].weight",
                     "weight 12.3456 has more than 3 decimals"));
}

TEST(RolloutTest, WeightsAreNumbersBetween0And100) {
  EXPECT_THAT(
      CompileStatus(SplitFlag(
          R"({"variant": "on", "weight": -10}, {"variant": "off", "weight": 110})")),
      IsCompileError("flags.f.default.rollout.split[0].weight",
                     "weight -10 is negative"));
  EXPECT_THAT(
      CompileStatus(SplitFlag(
          R"({"variant": "on", "weight": 1e300}, {"variant": "off", "weight": 0})")),
      IsCompileError("flags.f.default.rollout.split[0].weight", "exceeds 100"));
  EXPECT_THAT(
      CompileStatus(SplitFlag(
          R"({"variant": "on", "weight": "50"}, {"variant": "off", "weight": 50})")),
      IsCompileError("flags.f.default.rollout.split[0].weight",
                     "expected a number"));
}

TEST(RolloutTest, SplitEntriesNameDistinctVariants) {
  EXPECT_THAT(
      CompileStatus(SplitFlag(
          R"({"variant": "onn", "weight": 50}, {"variant": "off", "weight": 50})")),
      IsCompileError("flags.f.default.rollout.split[0].variant",
                     "unknown variant \"onn\""));
  EXPECT_THAT(
      CompileStatus(SplitFlag(
          R"({"variant": "on", "weight": 50}, {"variant": "on", "weight": 50})")),
      IsCompileError("flags.f.default.rollout.split[1].variant",
                     "variant \"on\" appears more than once in the split"));
  EXPECT_THAT(CompileStatus(SplitFlag(R"({"weight": 100})")),
              IsCompileError("flags.f.default.rollout.split[0].variant",
                             "required field is missing"));
  EXPECT_THAT(CompileStatus(SplitFlag(R"({"variant": "on"})")),
              IsCompileError("flags.f.default.rollout.split[0].weight",
                             "required field is missing"));
  EXPECT_THAT(CompileStatus(SplitFlag(
                  R"({"variant": "on", "weight": 100, "wieght": 1})")),
              IsCompileError("flags.f.default.rollout.split[0].wieght",
                             "unknown field \"wieght\""));
}

TEST(RolloutTest, SplitIsARequiredNonEmptyArray) {
  EXPECT_THAT(CompileStatus(SplitFlag("")),
              IsCompileError("flags.f.default.rollout.split",
                             "expected a non-empty array"));
  EXPECT_THAT(
      CompileStatus(Doc(
          R"("f": {"variants": {"on": true}, "default": {"rollout": {}}})")),
      IsCompileError("flags.f.default.rollout.split",
                     "required field is missing"));
  EXPECT_THAT(
      CompileStatus(Doc(
          R"("f": {"variants": {"on": true}, "default": {"rollout": {"split": {}}}})")),
      IsCompileError("flags.f.default.rollout.split", "expected an array"));
}

TEST(RolloutTest, BucketByAndSaltAreStrings) {
  const std::string split = R"({"variant": "on", "weight": 100})";
  EXPECT_THAT(
      CompileStatus(SplitFlag(split, R"("bucket_by": 1, )")),
      IsCompileError("flags.f.default.rollout.bucket_by", "expected a string"));
  EXPECT_THAT(CompileStatus(SplitFlag(split, R"("bucket_by": "", )")),
              IsCompileError("flags.f.default.rollout.bucket_by",
                             "expected a non-empty string"));
  EXPECT_THAT(
      CompileStatus(SplitFlag(split, R"("salt": false, )")),
      IsCompileError("flags.f.default.rollout.salt", "expected a string"));
}

TEST(RolloutTest, RangesAreCumulativeInListedOrder) {
  auto s = MustCompile(SplitFlag(
      R"({"variant": "off", "weight": 87.5}, {"variant": "on", "weight": 12.5})"));
  const internal::Rollout& rollout = *FlagOf(*s, "f").fallthrough.rollout;
  EXPECT_THAT(rollout.ranges, ElementsAre(Pair(87500u, 1), Pair(100000u, 0)));
  EXPECT_EQ(rollout.bucket_by, "key");
  EXPECT_EQ(rollout.salt, "f");  // defaults to the flag key
  EXPECT_EQ(FlagOf(*s, "f").fallthrough.variant, -1);
}

TEST(RolloutTest, ThreeDecimalWeightsAreExact) {
  auto s = MustCompile(SplitFlag(
      R"({"variant": "on", "weight": 33.333}, {"variant": "off", "weight": 66.667})"));
  EXPECT_THAT(FlagOf(*s, "f").fallthrough.rollout->ranges,
              ElementsAre(Pair(33333u, 0), Pair(100000u, 1)));
}

TEST(RolloutTest, ZeroWeightEntriesAreValidatedButServeNoOne) {
  auto s = MustCompile(SplitFlag(
      R"({"variant": "on", "weight": 0}, {"variant": "off", "weight": 100})",
      R"("bucket_by": "tenant", "salt": "s1", )"));
  const internal::Rollout& rollout = *FlagOf(*s, "f").fallthrough.rollout;
  EXPECT_THAT(rollout.ranges, ElementsAre(Pair(100000u, 1)));
  EXPECT_EQ(rollout.bucket_by, "tenant");
  EXPECT_EQ(rollout.salt, "s1");
  EXPECT_THAT(
      CompileStatus(SplitFlag(
          R"({"variant": "nope", "weight": 0}, {"variant": "off", "weight": 100})")),
      IsCompileError("flags.f.default.rollout.split[0].variant",
                     "unknown variant \"nope\""));
}

// ------------------------------------------------------------ targets

TEST(TargetTest, TargetsNameVariantsAndKeysAtMostOnce) {
  EXPECT_THAT(
      CompileStatus(Doc(
          R"("f": )" +
          BoolFlag(
              R"("targets": [{"variant": "on", "keys": ["u1", "u2"]}, {"variant": "off", "keys": ["u3", "u1"]}])"))),
      IsCompileError("flags.f.targets[1].keys[1]",
                     "duplicate target key \"u1\""));
  EXPECT_THAT(
      CompileStatus(
          Doc(R"("f": )" +
              BoolFlag(R"("targets": [{"variant": "onn", "keys": []}])"))),
      IsCompileError("flags.f.targets[0].variant", "unknown variant \"onn\""));
  EXPECT_THAT(CompileStatus(Doc(
                  R"("f": )" +
                  BoolFlag(R"("targets": [{"variant": "on", "keys": "u1"}])"))),
              IsCompileError("flags.f.targets[0].keys", "expected an array"));
  EXPECT_THAT(
      CompileStatus(
          Doc(R"("f": )" +
              BoolFlag(R"("targets": [{"variant": "on", "keys": [1]}])"))),
      IsCompileError("flags.f.targets[0].keys[0]", "expected a string"));
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": )" + BoolFlag(R"("targets": [{"keys": []}])"))),
      IsCompileError("flags.f.targets[0].variant",
                     "required field is missing"));
  EXPECT_THAT(
      CompileStatus(
          Doc(R"("f": )" + BoolFlag(R"("targets": [{"variant": "on"}])"))),
      IsCompileError("flags.f.targets[0].keys", "required field is missing"));
  EXPECT_THAT(CompileStatus(Doc(R"("f": )" + BoolFlag(R"("targets": {})"))),
              IsCompileError("flags.f.targets", "expected an array"));
  EXPECT_THAT(
      CompileStatus(Doc(
          R"("f": )" +
          BoolFlag(
              R"("targets": [{"variant": "on", "keys": [], "key": "a"}])"))),
      IsCompileError("flags.f.targets[0].key", "unknown field \"key\""));
}

TEST(TargetTest, TargetsCompileToAKeyMap) {
  auto s = MustCompile(Doc(
      R"("f": )" +
      BoolFlag(
          R"("targets": [{"variant": "on", "keys": ["u1", "u2"]}, {"variant": "off", "keys": ["u3"]}])")));
  const CompiledFlag& f = FlagOf(*s, "f");
  EXPECT_EQ(f.targets.size(), 3u);
  EXPECT_EQ(f.targets.at("u1"), 0);
  EXPECT_EQ(f.targets.at("u3"), 1);
}

// ------------------------------------------------------------ rules and
// clauses

TEST(RuleTest, RulesNeedIfAndServe) {
  EXPECT_THAT(
      CompileStatus(
          Doc(R"("f": )" + BoolFlag(R"("rules": [{"serve": "on"}])"))),
      IsCompileError("flags.f.rules[0].if", "required field is missing"));
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": )" + BoolFlag(R"("rules": [{"if": []}])"))),
      IsCompileError("flags.f.rules[0].serve", "required field is missing"));
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": )" +
                        BoolFlag(R"("rules": [{"if": [], "serve": "onn"}])"))),
      IsCompileError("flags.f.rules[0].serve", "unknown variant \"onn\""));
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": )" +
                        BoolFlag(R"("rules": [{"if": {}, "serve": "on"}])"))),
      IsCompileError("flags.f.rules[0].if", "expected an array"));
  EXPECT_THAT(CompileStatus(Doc(R"("f": )" + BoolFlag(R"("rules": {})"))),
              IsCompileError("flags.f.rules", "expected an array"));
  EXPECT_THAT(
      CompileStatus(
          Doc(R"("f": )" +
              BoolFlag(R"("rules": [{"if": [], "serve": "on", "then": 1}])"))),
      IsCompileError("flags.f.rules[0].then", "unknown field \"then\""));
  EXPECT_THAT(
      CompileStatus(Doc(R"("f": )" +
                        BoolFlag(R"("rules": [{"if": [3], "serve": "on"}])"))),
      IsCompileError("flags.f.rules[0].if[0]", "expected an object"));
}

TEST(ClauseTest, UnknownOperatorIsRejectedByDefault) {
  const std::string doc = Doc(R"("fix-123": )" + BoolFlag(R"("rules": [
      {"if": [], "serve": "off"},
      {"if": [], "serve": "off"},
      {"if": [{"attribute": "age", "op": "betwen", "values": [1, 2]}], "serve": "on"}])"));
  EXPECT_THAT(CompileStatus(doc),
              IsCompileError("flags.fix-123.rules[2].if[0].op",
                             "unknown operator \"betwen\""));
}

TEST(ClauseTest, UnknownOperatorFailsClosedWhenAskedTo) {
  CompileOptions options;
  options.unknown_operators = UnknownOperatorPolicy::kFailClosed;
  auto s = MustCompile(Doc(R"("f": )" + BoolFlag(R"("rules": [
      {"if": [{"attribute": "geo", "op": "within", "value": {"lat": 1, "lon": 2}, "negate": true}],
       "serve": "on"}])")),
                       options);
  ASSERT_NE(s, nullptr);
  const Clause& c = FirstClause(*s);
  EXPECT_EQ(c.op, Op::kNever);
  EXPECT_TRUE(c.attribute.empty());
  EXPECT_THAT(s->warnings(),
              ElementsAre("flags.f.rules[0].if[0].op: unknown operator "
                          "\"within\"; clause never matches"));
  // The rest of the clause is still checked.
  EXPECT_THAT(CompileStatus(Doc(R"("f": )" + BoolFlag(R"("rules": [
      {"if": [{"attribute": "geo", "op": "within", "value": 1, "negat": true}], "serve": "on"}])")),
                            options),
              IsCompileError("flags.f.rules[0].if[0].negat",
                             "unknown field \"negat\""));
}

TEST(ClauseTest, UnknownOperatorInASegmentFailsClosedToo) {
  CompileOptions options;
  options.unknown_operators = UnknownOperatorPolicy::kFailClosed;
  auto s = MustCompile(
      Doc("",
          R"("beta": {"rules": [{"if": [{"attribute": "a", "op": "near", "value": 1}]}]})"),
      options);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->compiled().segments[0].rules[0][0].op, Op::kNever);
  EXPECT_THAT(
      s->warnings(),
      ElementsAre(HasSubstr(
          "segments.beta.rules[0].if[0].op: unknown operator \"near\"")));
  EXPECT_THAT(
      CompileStatus(Doc(
          "",
          R"("beta": {"rules": [{"if": [{"attribute": "a", "op": "near", "value": 1}]}]})")),
      IsCompileError("segments.beta.rules[0].if[0].op",
                     "unknown operator \"near\""));
}

TEST(ClauseTest, OpIsARequiredString) {
  EXPECT_THAT(
      CompileStatus(OneClause(R"({"attribute": "a", "value": 1})")),
      IsCompileError("flags.f.rules[0].if[0].op", "required field is missing"));
  EXPECT_THAT(
      CompileStatus(OneClause(R"({"attribute": "a", "op": 1, "value": 1})")),
      IsCompileError("flags.f.rules[0].if[0].op", "expected a string"));
}

TEST(ClauseTest, AttributeIsRequiredExceptForTimeAndSegmentOps) {
  EXPECT_THAT(CompileStatus(OneClause(R"({"op": "eq", "value": 1})")),
              IsCompileError("flags.f.rules[0].if[0].attribute",
                             "required field is missing"));
  EXPECT_THAT(
      CompileStatus(OneClause(R"({"attribute": "", "op": "eq", "value": 1})")),
      IsCompileError("flags.f.rules[0].if[0].attribute",
                     "expected a non-empty string"));
  EXPECT_THAT(
      CompileStatus(OneClause(R"({"attribute": 3, "op": "eq", "value": 1})")),
      IsCompileError("flags.f.rules[0].if[0].attribute", "expected a string"));
  EXPECT_THAT(CompileStatus(OneClause(
                  R"({"attribute": "a", "op": "segment", "value": "beta"})",
                  R"("beta": {})")),
              IsCompileError("flags.f.rules[0].if[0].attribute",
                             "not allowed with op \"segment\""));
}

TEST(ClauseTest, ExactlyOneOfValueOrValues) {
  EXPECT_THAT(
      CompileStatus(OneClause(R"({"attribute": "a", "op": "eq"})")),
      IsCompileError("flags.f.rules[0].if[0]",
                     "expected exactly one of \"value\" or \"values\""));
  EXPECT_THAT(
      CompileStatus(OneClause(
          R"({"attribute": "a", "op": "eq", "value": 1, "values": [1]})")),
      IsCompileError("flags.f.rules[0].if[0]",
                     "expected exactly one of \"value\" or \"values\""));
  EXPECT_THAT(CompileStatus(
                  OneClause(R"({"attribute": "a", "op": "in", "values": []})")),
              IsCompileError("flags.f.rules[0].if[0].values",
                             "expected a non-empty array"));
  EXPECT_THAT(
      CompileStatus(
          OneClause(R"({"attribute": "a", "op": "in", "values": "eu"})")),
      IsCompileError("flags.f.rules[0].if[0].values", "expected an array"));
}

TEST(ClauseTest, NegateIsABool) {
  EXPECT_THAT(
      CompileStatus(OneClause(
          R"({"attribute": "a", "op": "eq", "value": 1, "negate": "yes"})")),
      IsCompileError("flags.f.rules[0].if[0].negate",
                     "expected true or false"));
}

TEST(ClauseTest, UnknownAndDuplicateClauseFieldsAreErrors) {
  EXPECT_THAT(
      CompileStatus(OneClause(
          R"({"attribute": "a", "op": "eq", "value": 1, "negated": true})")),
      IsCompileError("flags.f.rules[0].if[0].negated",
                     "unknown field \"negated\""));
  EXPECT_THAT(
      CompileStatus(OneClause(
          R"({"attribute": "a", "op": "eq", "op": "in", "value": 1})")),
      IsCompileError("flags.f.rules[0].if[0].op", "duplicate key \"op\""));
}

TEST(ClauseTest, InValuesShareOneScalarType) {
  EXPECT_THAT(CompileStatus(OneClause(
                  R"({"attribute": "a", "op": "in", "values": ["eu", 1]})")),
              IsCompileError("flags.f.rules[0].if[0].values[1]",
                             "expected a string like the first value"));
  EXPECT_THAT(
      CompileStatus(OneClause(
          R"({"attribute": "a", "op": "not_in", "values": [1, true]})")),
      IsCompileError("flags.f.rules[0].if[0].values[1]",
                     "expected a number like the first value"));
  EXPECT_THAT(CompileStatus(OneClause(
                  R"({"attribute": "a", "op": "in", "values": [true, "x"]})")),
              IsCompileError("flags.f.rules[0].if[0].values[1]",
                             "expected a bool like the first value"));
  EXPECT_THAT(CompileStatus(OneClause(
                  R"({"attribute": "a", "op": "eq", "value": null})")),
              IsCompileError("flags.f.rules[0].if[0].value",
                             "expected a string, number or bool"));
  EXPECT_THAT(CompileStatus(OneClause(
                  R"({"attribute": "a", "op": "in", "values": [["eu"]]})")),
              IsCompileError("flags.f.rules[0].if[0].values[0]",
                             "expected a string, number or bool"));
}

TEST(ClauseTest, StringOperatorsTakeStrings) {
  for (const char* op : {"starts_with", "ends_with", "contains", "matches"}) {
    EXPECT_THAT(
        CompileStatus(OneClause(absl::StrCat(R"({"attribute": "a", "op": ")",
                                             op, R"(", "values": ["x", 1]})"))),
        IsCompileError("flags.f.rules[0].if[0].values[1]", "expected a string"))
        << op;
  }
}

TEST(ClauseTest, InvalidRegexIsAnErrorWithRe2sMessage) {
  EXPECT_THAT(CompileStatus(OneClause(
                  R"({"attribute": "a", "op": "matches", "value": "("})")),
              IsCompileError("flags.f.rules[0].if[0].value",
                             "invalid regex \"(\": missing )"));
  EXPECT_THAT(
      CompileStatus(OneClause(
          R"json({"attribute": "a", "op": "matches", "values": ["ok", "a)"]})json")),
      IsCompileError("flags.f.rules[0].if[0].values[1]",
                     "invalid regex \"a)\": "));
}

TEST(ClauseTest, RegexesAreLimitedIn4096BytesAndMemory) {
  const std::string too_long(4097, 'a');
  EXPECT_THAT(CompileStatus(OneClause(absl::StrCat(
                  R"({"attribute": "a", "op": "matches", "value": ")", too_long,
                  R"("})"))),
              IsCompileError("flags.f.rules[0].if[0].value",
                             "regex of 4097 bytes exceeds the limit of 4096"));
  // Within the length limit but beyond RE2's 1 MiB program budget.
  EXPECT_THAT(
      CompileStatus(OneClause(
          R"({"attribute": "a", "op": "matches", "value": "\\pL{1000}"})")),
      IsCompileError("flags.f.rules[0].if[0].value", "invalid regex"));
}

TEST(ClauseTest, NumericOperatorsTakeNumbers) {
  for (const char* op : {"lt", "lte", "gt", "gte"}) {
    EXPECT_THAT(
        CompileStatus(OneClause(absl::StrCat(R"({"attribute": "a", "op": ")",
                                             op, R"(", "value": "10"})"))),
        IsCompileError("flags.f.rules[0].if[0].value", "expected a number"))
        << op;
  }
}

TEST(ClauseTest, SemverOperatorsTakeValidSemvers) {
  EXPECT_THAT(
      CompileStatus(OneClause(
          R"({"attribute": "v", "op": "semver_gte", "value": "1.x"})")),
      IsCompileError("flags.f.rules[0].if[0].value", "invalid semver \"1.x\""));
  EXPECT_THAT(
      CompileStatus(OneClause(
          R"({"attribute": "v", "op": "semver_lt", "values": ["1.0.0", "01.0.0"]})")),
      IsCompileError("flags.f.rules[0].if[0].values[1]",
                     "invalid semver \"01.0.0\""));
  EXPECT_THAT(
      CompileStatus(
          OneClause(R"({"attribute": "v", "op": "semver_eq", "value": 1})")),
      IsCompileError("flags.f.rules[0].if[0].value", "expected a string"));
}

TEST(ClauseTest, TimeOperatorsTakeRfc3339Strings) {
  EXPECT_THAT(
      CompileStatus(OneClause(R"({"op": "after", "value": "2026-01-01"})")),
      IsCompileError("flags.f.rules[0].if[0].value",
                     "invalid time \"2026-01-01\""));
  EXPECT_THAT(
      CompileStatus(OneClause(R"({"op": "before", "value": 1767225600})")),
      IsCompileError("flags.f.rules[0].if[0].value", "expected a string"));
}

TEST(ClauseTest, SegmentClausesNameExistingSegments) {
  EXPECT_THAT(
      CompileStatus(OneClause(R"({"op": "segment", "values": ["beta", "x"]})",
                              R"("beta": {})")),
      IsCompileError("flags.f.rules[0].if[0].values[1]",
                     "unknown segment \"x\""));
  EXPECT_THAT(
      CompileStatus(OneClause(R"({"op": "segment", "value": "x"})")),
      IsCompileError("flags.f.rules[0].if[0].value", "unknown segment \"x\""));
}

TEST(ClauseTest, InClausesFillTheMatchingValueKind) {
  auto strings = MustCompile(OneClause(
      R"({"attribute": "region", "op": "in", "values": ["eu", "uk"]})"));
  const Clause& s = FirstClause(*strings);
  EXPECT_EQ(s.op, Op::kIn);
  EXPECT_EQ(s.attribute, "region");
  EXPECT_THAT(s.strings, ElementsAre("eu", "uk"));
  EXPECT_TRUE(s.string_set.empty());
  EXPECT_TRUE(s.numbers.empty());

  auto numbers = MustCompile(OneClause(
      R"({"attribute": "shard", "op": "not_in", "values": [3, 0.1]})"));
  const Clause& n = FirstClause(*numbers);
  EXPECT_EQ(n.op, Op::kNotIn);
  EXPECT_THAT(n.numbers, ElementsAre(3.0, 0.1));  // exactly the double 0.1
  EXPECT_TRUE(n.strings.empty());

  auto bools = MustCompile(OneClause(
      R"({"attribute": "beta", "op": "eq", "value": true, "negate": true})"));
  const Clause& b = FirstClause(*bools);
  EXPECT_TRUE(b.match_true);
  EXPECT_FALSE(b.match_false);
  EXPECT_TRUE(b.negate);
}

TEST(ClauseTest, LargeInClausesAlsoGetAHashSet) {
  std::string values;
  for (int i = 0; i <= static_cast<int>(Clause::kSmallSet); ++i) {
    absl::StrAppend(&values, i ? "," : "", "\"t", i, "\"");
  }
  auto s = MustCompile(OneClause(absl::StrCat(
      R"({"attribute": "t", "op": "in", "values": [)", values, "]}")));
  const Clause& c = FirstClause(*s);
  EXPECT_EQ(c.strings.size(), Clause::kSmallSet + 1);
  EXPECT_EQ(c.string_set.size(), Clause::kSmallSet + 1);
  EXPECT_TRUE(c.string_set.contains("t8"));
}

TEST(ClauseTest, OperatorsCompileTheirValues) {
  auto s = MustCompile(Doc(R"("f": )" + BoolFlag(R"("rules": [{"if": [
      {"attribute": "email", "op": "ends_with", "value": "@example.com"},
      {"attribute": "ua", "op": "matches", "values": ["^Chrome", "Firefox/\\d+"]},
      {"attribute": "age", "op": "gte", "value": 18},
      {"attribute": "app", "op": "semver_lt", "values": ["v2.0.0-rc.1+build.5", "1.9.0"]},
      {"op": "after", "value": "2026-01-01T00:00:00Z"},
      {"attribute": "created", "op": "before", "value": "1970-01-01T00:00:01.5+00:00"},
      {"op": "segment", "values": ["gamma", "alpha"]}], "serve": "on"}])"),
                           R"("gamma": {}, "alpha": {})"));
  ASSERT_NE(s, nullptr);
  const auto& clauses = s->compiled().flags[0].rules[0].clauses;
  ASSERT_EQ(clauses.size(), 7u);
  EXPECT_EQ(clauses[0].op, Op::kEndsWith);
  EXPECT_THAT(clauses[0].strings, ElementsAre("@example.com"));
  EXPECT_EQ(clauses[1].op, Op::kMatches);
  ASSERT_EQ(clauses[1].regexes.size(), 2u);
  EXPECT_TRUE(RE2::PartialMatch("Firefox/120", *clauses[1].regexes[1]));
  EXPECT_EQ(clauses[2].op, Op::kGte);
  EXPECT_THAT(clauses[2].numbers, ElementsAre(18.0));
  EXPECT_EQ(clauses[3].op, Op::kSemverLt);
  EXPECT_THAT(clauses[3].strings, ElementsAre("v2.0.0-rc.1+build.5", "1.9.0"));
  ASSERT_EQ(clauses[3].semvers.size(), 2u);
  EXPECT_EQ(clauses[3].semvers[0].major, 2u);
  EXPECT_EQ(clauses[3].semvers[0].prerelease, "rc.1");
  EXPECT_EQ(clauses[3].semvers[1].minor, 9u);
  EXPECT_EQ(clauses[3].semvers[1].prerelease, "");
  EXPECT_EQ(clauses[4].op, Op::kAfter);
  EXPECT_TRUE(clauses[4].use_now);
  EXPECT_TRUE(clauses[4].attribute.empty());
  EXPECT_THAT(clauses[4].times_micros,
              ElementsAre(absl::ToUnixMicros(absl::FromCivil(
                  absl::CivilSecond(2026, 1, 1), absl::UTCTimeZone()))));
  EXPECT_EQ(clauses[5].op, Op::kBefore);
  EXPECT_FALSE(clauses[5].use_now);
  EXPECT_EQ(clauses[5].attribute, "created");
  EXPECT_THAT(clauses[5].times_micros, ElementsAre(1500000));
  EXPECT_EQ(clauses[6].op, Op::kSegment);
  // Segments are sorted by key: alpha = 0, gamma = 1.
  EXPECT_EQ(s->compiled().segments[0].key, "alpha");
  EXPECT_THAT(clauses[6].segments, ElementsAre(1u, 0u));
}

TEST(ClauseTest, SemverViewsSurviveMovingTheCompiledSet) {
  // Short semver texts live inside std::string's SSO buffer; the parsed
  // views must not point there, or moving the clause would leave them dangling.
  std::string rules;
  for (int i = 0; i < 20; ++i) {
    absl::StrAppend(
        &rules, i ? "," : "",
        R"({"if": [{"attribute": "v", "op": "semver_gte", "value": "1.0.0-b.)",
        i, R"("}], "serve": "on"})");
  }
  auto set = internal::CompileFlagSet(
      Doc(R"("f": )" + BoolFlag(absl::StrCat(R"("rules": [)", rules, "]"))), {},
      std::make_shared<internal::StringPool>());
  ASSERT_TRUE(set.ok()) << set.status();
  std::unique_ptr<CompiledFlagSet> moved = *std::move(set);
  std::vector<CompiledFlag> flags = std::move(moved->flags);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(flags[0].rules[i].clauses[0].semvers[0].prerelease,
              absl::StrCat("b.", i));
  }
}

// ------------------------------------------------------------ segments

TEST(SegmentTest, FieldsAreChecked) {
  EXPECT_THAT(
      CompileStatus(Doc("", R"("beta": {"include": []})")),
      IsCompileError("segments.beta.include", "unknown field \"include\""));
  EXPECT_THAT(CompileStatus(Doc("", R"("beta": {"included": "u1"})")),
              IsCompileError("segments.beta.included", "expected an array"));
  EXPECT_THAT(
      CompileStatus(Doc("", R"("beta": {"included": ["u1", "u2", "u3", 4]})")),
      IsCompileError("segments.beta.included[3]", "expected a string"));
  EXPECT_THAT(
      CompileStatus(Doc("", R"("beta": {"excluded": ["u1", "u1"]})")),
      IsCompileError("segments.beta.excluded[1]", "duplicate key \"u1\""));
  EXPECT_THAT(CompileStatus(Doc("", R"("beta": [])")),
              IsCompileError("segments.beta", "expected an object"));
}

TEST(SegmentTest, RulesHaveOnlyIf) {
  EXPECT_THAT(
      CompileStatus(Doc("", R"("beta": {"rules": [{}]})")),
      IsCompileError("segments.beta.rules[0].if", "required field is missing"));
  EXPECT_THAT(CompileStatus(
                  Doc("", R"("beta": {"rules": [{"if": [], "serve": "on"}]})")),
              IsCompileError("segments.beta.rules[0].serve",
                             "unknown field \"serve\""));
  EXPECT_THAT(
      CompileStatus(Doc(
          "",
          R"("beta": {"rules": [{"if": [{"attribute": "a", "op": "gt", "value": "x"}]}]})")),
      IsCompileError("segments.beta.rules[0].if[0].value",
                     "expected a number"));
}

TEST(SegmentTest, SegmentRulesMayNotReferenceSegments) {
  EXPECT_THAT(
      CompileStatus(Doc(
          "",
          R"("a": {}, "beta": {"rules": [{"if": [{"op": "segment", "value": "a"}]}]})")),
      IsCompileError("segments.beta.rules[0].if[0].op",
                     "segment rules may not reference segments"));
}

TEST(SegmentTest, SegmentsCompileSortedWithKeySets) {
  auto s = MustCompile(
      Doc("", R"("zeta": {"included": ["u1"], "excluded": ["u2", "u3"],
      "rules": [{"if": [{"attribute": "email", "op": "ends_with", "value": "@corp"}]}, {"if": []}]},
      "alpha": {})"));
  const auto& segments = s->compiled().segments;
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[0].key, "alpha");
  EXPECT_EQ(segments[1].key, "zeta");
  EXPECT_TRUE(segments[1].included.contains("u1"));
  EXPECT_EQ(segments[1].excluded.size(), 2u);
  ASSERT_EQ(segments[1].rules.size(), 2u);
  EXPECT_EQ(segments[1].rules[0][0].op, Op::kEndsWith);
  EXPECT_TRUE(segments[1].rules[1].empty());
}

// ------------------------------------------------------------ prerequisites

std::string PrereqFlag(const std::string& key, const std::string& prereqs) {
  return absl::StrCat(
      "\"", key,
      "\": ", BoolFlag(absl::StrCat(R"("prerequisites": [)", prereqs, "]")));
}

TEST(PrerequisiteTest, FlagMustExist) {
  EXPECT_THAT(
      CompileStatus(Doc(PrereqFlag("a", R"({"flag": "zz", "variant": "on"})"))),
      IsCompileError("flags.a.prerequisites[0].flag", "unknown flag \"zz\""));
}

TEST(PrerequisiteTest, VariantMustExistInThatFlag) {
  const std::string doc = Doc(absl::StrCat(
      PrereqFlag("a", R"({"flag": "b", "variant": "on"})"), ",",
      R"("b": {"variants": {"yes": true, "no": false}, "default": "no"})"));
  EXPECT_THAT(CompileStatus(doc),
              IsCompileError("flags.a.prerequisites[0].variant",
                             "unknown variant \"on\" in flag \"b\""));
}

TEST(PrerequisiteTest, FieldsAreChecked) {
  EXPECT_THAT(CompileStatus(Doc(PrereqFlag("a", R"({"variant": "on"})"))),
              IsCompileError("flags.a.prerequisites[0].flag",
                             "required field is missing"));
  EXPECT_THAT(CompileStatus(Doc(PrereqFlag("a", R"({"flag": "a"})"))),
              IsCompileError("flags.a.prerequisites[0].variant",
                             "required field is missing"));
  EXPECT_THAT(CompileStatus(Doc(PrereqFlag(
                  "a", R"({"flag": "b", "variant": "on", "value": true})"))),
              IsCompileError("flags.a.prerequisites[0].value",
                             "unknown field \"value\""));
  EXPECT_THAT(
      CompileStatus(Doc(PrereqFlag("a", R"({"flag": 1, "variant": "on"})"))),
      IsCompileError("flags.a.prerequisites[0].flag", "expected a string"));
  EXPECT_THAT(
      CompileStatus(Doc(R"("a": )" + BoolFlag(R"("prerequisites": {})"))),
      IsCompileError("flags.a.prerequisites", "expected an array"));
}

TEST(PrerequisiteTest, AFlagCannotBeItsOwnPrerequisite) {
  EXPECT_THAT(
      CompileStatus(Doc(PrereqFlag("a", R"({"flag": "a", "variant": "on"})"))),
      IsCompileError("flags.a.prerequisites[0].flag",
                     "a flag cannot be its own prerequisite"));
}

TEST(PrerequisiteTest, AFlagIsNamedOnceAmongPrerequisites) {
  const std::string doc = Doc(absl::StrCat(
      PrereqFlag(
          "a",
          R"({"flag": "b", "variant": "on"}, {"flag": "b", "variant": "off"})"),
      ",", R"("b": )", BoolFlag()));
  EXPECT_THAT(CompileStatus(doc),
              IsCompileError("flags.a.prerequisites[1].flag",
                             "duplicate prerequisite on flag \"b\""));
}

TEST(PrerequisiteTest, CyclesAreErrorsNamingTheCycle) {
  const std::string two = Doc(
      absl::StrCat(PrereqFlag("a", R"({"flag": "b", "variant": "on"})"), ",",
                   PrereqFlag("b", R"({"flag": "a", "variant": "on"})")));
  EXPECT_THAT(CompileStatus(two),
              IsCompileError("flags.b.prerequisites[0].flag",
                             "prerequisite cycle: a -> b -> a"));
  const std::string three = Doc(absl::StrCat(
      R"("root": )", BoolFlag(), ",",
      PrereqFlag(
          "x",
          R"({"flag": "root", "variant": "on"}, {"flag": "y", "variant": "on"})"),
      ",", PrereqFlag("y", R"({"flag": "z", "variant": "off"})"), ",",
      PrereqFlag("z", R"({"flag": "x", "variant": "on"})")));
  EXPECT_THAT(CompileStatus(three),
              IsCompileError("flags.z.prerequisites[0].flag",
                             "prerequisite cycle: x -> y -> z -> x"));
}

// A chain f0 -> f1 -> ... -> f<n>: f0's chain is n prerequisites deep.
std::string Chain(int n) {
  std::string flags;
  for (int i = 0; i < n; ++i) {
    absl::StrAppend(&flags,
                    PrereqFlag(absl::StrCat("f", i),
                               absl::StrCat(R"({"flag": "f)", i + 1,
                                            R"(", "variant": "on"})")),
                    ",");
  }
  absl::StrAppend(&flags, "\"f", n, "\": ", BoolFlag());
  return Doc(flags);
}

TEST(PrerequisiteTest, ChainsDeeperThan32AreErrors) {
  EXPECT_TRUE(CompileStatus(Chain(32)).ok());
  EXPECT_THAT(
      CompileStatus(Chain(33)),
      IsCompileError("flags.f0.prerequisites",
                     "prerequisite chain 33 deep exceeds the limit of 32"));
}

TEST(PrerequisiteTest, PrerequisitesResolveToIndexes) {
  auto s = MustCompile(Doc(absl::StrCat(
      PrereqFlag(
          "a",
          R"({"flag": "c", "variant": "no"}, {"flag": "b", "variant": "on"})"),
      ",", R"("b": )", BoolFlag(), ",",
      R"("c": {"variants": {"yes": 1, "no": 0}, "default": "no"})")));
  const CompiledFlag& a = FlagOf(*s, "a");
  ASSERT_EQ(a.prerequisites.size(), 2u);
  EXPECT_EQ(a.prerequisites[0].flag, 2u);
  EXPECT_EQ(a.prerequisites[0].variant, 1);
  EXPECT_EQ(a.prerequisites[1].flag, 1u);
  EXPECT_EQ(a.prerequisites[1].variant, 0);
}

// ------------------------------------------------------------ the compiled
// model

TEST(ModelTest, FlagsAreSortedAndIndexed) {
  auto s = MustCompile(Doc(
      absl::StrCat(R"("zeta": )", BoolFlag(), R"(, "alpha": )", BoolFlag(),
                   R"(, "Mid": )", BoolFlag(), R"(, "beta": )", BoolFlag())));
  const CompiledFlagSet& set = s->compiled();
  ASSERT_EQ(set.flags.size(), 4u);
  EXPECT_EQ(set.flags[0].key, "Mid");  // byte order: uppercase first
  EXPECT_EQ(set.flags[1].key, "alpha");
  EXPECT_EQ(set.flags[2].key, "beta");
  EXPECT_EQ(set.flags[3].key, "zeta");
  ASSERT_EQ(set.index.size(), 4u);
  for (std::uint32_t i = 0; i < set.flags.size(); ++i) {
    EXPECT_EQ(set.index.at(set.flags[i].key).index, i);
  }
  EXPECT_EQ(s->size(), 4u);
  EXPECT_EQ(s->version(), 1u);
  EXPECT_TRUE(s->warnings().empty());
}

TEST(ModelTest, StaticVariantOnlyForContextIndependentFlags) {
  auto s = MustCompile(R"({"version": 1, "segments": {"seg": {}}, "flags": {
    "plain": {"variants": {"on": true, "off": false}, "default": {"variant": "on"}},
    "killed": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on", "killed": true},
    "disabled": {"variants": {"on": true, "off": false}, "default": "on", "enabled": false},
    "rules": {"variants": {"on": true, "off": false}, "default": "on", "rules": [{"if": [], "serve": "off"}]},
    "targets": {"variants": {"on": true, "off": false}, "default": "on", "targets": [{"variant": "off", "keys": ["u"]}]},
    "prereq": {"variants": {"on": true, "off": false}, "default": "on", "prerequisites": [{"flag": "plain", "variant": "on"}]},
    "rollout": {"variants": {"on": true, "off": false}, "default": {"rollout": {"split": [{"variant": "on", "weight": 100}]}}}}})");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(FlagOf(*s, "plain").static_variant, 0);
  EXPECT_EQ(FlagOf(*s, "plain").fallthrough.variant, 0);
  EXPECT_EQ(FlagOf(*s, "killed").static_variant, -1);
  EXPECT_TRUE(FlagOf(*s, "killed").killed);
  EXPECT_EQ(FlagOf(*s, "disabled").static_variant, -1);
  EXPECT_TRUE(FlagOf(*s, "disabled").killed);  // enabled: false == killed: true
  EXPECT_EQ(FlagOf(*s, "disabled").off_variant, -1);
  EXPECT_EQ(FlagOf(*s, "rules").static_variant, -1);
  EXPECT_EQ(FlagOf(*s, "targets").static_variant, -1);
  EXPECT_EQ(FlagOf(*s, "prereq").static_variant, -1);
  EXPECT_EQ(FlagOf(*s, "rollout").static_variant, -1);
}

TEST(ModelTest, VariantValuesByType) {
  auto s = MustCompile(R"({"version": 1, "flags": {
    "b": {"variants": {"on": true, "off": false}, "off_variant": "off", "default": "on"},
    "s": {"variants": {"red": "#f00", "none": ""}, "default": "red"},
    "n": {"variants": {"low": 0.25, "high": 1e3}, "default": "low"},
    "j": {"variants": {"cfg": { "a" : [1, 2.5, "x\"y"], "b": {"c": null} }, "list": []}, "default": "cfg"}}})");
  ASSERT_NE(s, nullptr);
  const CompiledFlag& b = FlagOf(*s, "b");
  EXPECT_EQ(b.type, ValueType::kBool);
  EXPECT_EQ(b.variants[0].name, "on");
  EXPECT_TRUE(b.variants[0].value.bool_value);
  EXPECT_FALSE(b.variants[1].value.bool_value);
  EXPECT_EQ(b.variants[1].value.type, ValueType::kBool);
  EXPECT_EQ(b.off_variant, 1);
  const CompiledFlag& str = FlagOf(*s, "s");
  EXPECT_EQ(str.type, ValueType::kString);
  EXPECT_EQ(str.variants[0].value.string_value, "#f00");
  EXPECT_EQ(str.variants[1].value.string_value, "");
  EXPECT_EQ(str.off_variant, -1);
  const CompiledFlag& n = FlagOf(*s, "n");
  EXPECT_EQ(n.type, ValueType::kNumber);
  EXPECT_EQ(n.variants[0].value.number_value, 0.25);
  EXPECT_EQ(n.variants[1].value.number_value, 1000.0);
  const CompiledFlag& j = FlagOf(*s, "j");
  EXPECT_EQ(j.type, ValueType::kJson);
  EXPECT_EQ(j.variants[0].value.type, ValueType::kJson);
  EXPECT_EQ(j.variants[0].value.string_value,
            R"({"a":[1,2.5,"x\"y"],"b":{"c":null}})");
  EXPECT_EQ(j.variants[1].value.string_value, "[]");
}

TEST(ModelTest, ManyVariantsResolveByName) {
  std::string variants;
  for (int i = 0; i < 40; ++i)
    absl::StrAppend(&variants, i ? "," : "", "\"v", i, "\": ", i);
  auto s =
      MustCompile(Doc(absl::StrCat(R"("f": {"variants": {)", variants,
                                   R"(}, "default": "v37", "off_variant": "v3",
      "rules": [{"if": [], "serve": {"rollout": {"split": [{"variant": "v39", "weight": 60}, {"variant": "v0", "weight": 40}]}}}]})")));
  const CompiledFlag& f = FlagOf(*s, "f");
  EXPECT_EQ(f.fallthrough.variant, 37);
  EXPECT_EQ(f.off_variant, 3);
  EXPECT_THAT(f.rules[0].serve.rollout->ranges,
              ElementsAre(Pair(60000u, 39), Pair(100000u, 0)));
  EXPECT_THAT(CompileStatus(Doc(absl::StrCat(R"("f": {"variants": {)", variants,
                                             R"(}, "default": "v40"})"))),
              IsCompileError("flags.f.default", "unknown variant \"v40\""));
}

TEST(ModelTest, MetadataIsKept) {
  auto s = MustCompile(Doc(
      R"("f": )" + BoolFlag(R"("owner": "payments-oncall", "ticket": "PAY-123",
      "description": "Guards the fix", "expires": "2026-12-31", "tags": ["payments", "hotfix"])")));
  const internal::FlagMeta& meta = FlagOf(*s, "f").meta;
  EXPECT_EQ(meta.owner, "payments-oncall");
  EXPECT_EQ(meta.ticket, "PAY-123");
  EXPECT_EQ(meta.description, "Guards the fix");
  ASSERT_TRUE(meta.expires.has_value());
  EXPECT_EQ(*meta.expires,
            absl::FromCivil(absl::CivilDay(2026, 12, 31), absl::UTCTimeZone()));
  EXPECT_THAT(meta.tags, ElementsAre("payments", "hotfix"));

  auto t = MustCompile(
      Doc(R"("f": )" + BoolFlag(R"("expires": "2026-06-01T12:30:00+02:00")")));
  EXPECT_EQ(*FlagOf(*t, "f").meta.expires,
            absl::FromCivil(absl::CivilSecond(2026, 6, 1, 10, 30, 0),
                            absl::UTCTimeZone()));
}

TEST(ModelTest, FlagsListsMetadataInKeyOrder) {
  auto s = MustCompile(Doc(absl::StrCat(
      R"("b": )", BoolFlag(R"("owner": "o", "tags": ["t"], "killed": true,
          "targets": [{"variant": "on", "keys": ["k1", "k2"]}], "rules": [{"if": [], "serve": "on"}])"),
      R"(, "a": {"variants": {"x": "X"}, "default": "x", "prerequisites": [{"flag": "b", "variant": "on"}]})")));
  const std::vector<FlagInfo> infos = s->Flags();
  ASSERT_EQ(infos.size(), 2u);
  EXPECT_EQ(infos[0].key, "a");
  EXPECT_EQ(infos[0].type, ValueType::kString);
  EXPECT_THAT(infos[0].variants, ElementsAre("x"));
  EXPECT_EQ(infos[0].prerequisite_count, 1u);
  EXPECT_FALSE(infos[0].expires.has_value());
  EXPECT_EQ(infos[1].key, "b");
  EXPECT_TRUE(infos[1].killed);
  EXPECT_EQ(infos[1].owner, "o");
  EXPECT_THAT(infos[1].tags, ElementsAre("t"));
  EXPECT_THAT(infos[1].variants, ElementsAre("on", "off"));
  EXPECT_EQ(infos[1].target_count, 2u);
  EXPECT_EQ(infos[1].rule_count, 1u);
}

TEST(ModelTest, TenThousandFlagsCompile) {
  std::string flags;
  for (int i = 0; i < 10000; ++i) {
    absl::StrAppend(&flags, i ? "," : "", "\"flag-", 9999 - i,
                    "\": ", BoolFlag());
  }
  auto s = MustCompile(Doc(flags));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->size(), 10000u);
  EXPECT_EQ(s->compiled().flags.front().key, "flag-0");
  EXPECT_EQ(s->compiled().flags.back().key, "flag-9999");
  EXPECT_EQ(FlagOf(*s, "flag-1234").static_variant, 1);
}

// ------------------------------------------------------------ fingerprints

constexpr char kFingerprintDoc[] = R"({"version": 1,
  "segments": {"beta": {"included": [%BETA%]}, "other": {"included": [%OTHER%]}},
  "flags": {
    "seg-user": {"variants": {"on": true, "off": false}, "default": "off",
                 "rules": [{"if": [{"op": "segment", "value": "beta"}], "serve": "on"}]},
    "base": {"variants": {"on": true, "off": false}, "default": %BASE%},
    "mid": {"variants": {"on": true, "off": false}, "default": "on",
            "prerequisites": [{"flag": "base", "variant": "on"}]},
    "top": {"variants": {"on": true, "off": false}, "default": "on",
            "prerequisites": [{"flag": "mid", "variant": "on"}]},
    "loner": {"variants": {"on": true, "off": false}, "default": %LONER%}}})";

struct Fingerprints {
  std::uint64_t seg_user, base, mid, top, loner;
};

Fingerprints FingerprintsOf(const std::string& beta, const std::string& other,
                            const std::string& base, const std::string& loner) {
  std::string doc = kFingerprintDoc;
  const std::vector<std::pair<std::string, std::string>> substitutions = {
      {"%BETA%", beta},
      {"%OTHER%", other},
      {"%BASE%", base},
      {"%LONER%", loner}};
  for (const auto& [from, to] : substitutions) {
    doc.replace(doc.find(from), from.size(), to);
  }
  auto s = MustCompile(doc);
  if (s == nullptr) return {};
  return {FlagOf(*s, "seg-user").fingerprint, FlagOf(*s, "base").fingerprint,
          FlagOf(*s, "mid").fingerprint, FlagOf(*s, "top").fingerprint,
          FlagOf(*s, "loner").fingerprint};
}

// The fingerprints with segment "beta" = ["u1"], "other" = ["u2"], and
// "base" and "loner" serving "on": what each test edits.
Fingerprints BaselineFingerprints() {
  return FingerprintsOf(R"("u1")", R"("u2")", R"("on")", R"("on")");
}

// The flags whose fingerprints differ between `a` and `b`, in document order.
std::vector<std::string> ChangedFlags(const Fingerprints& a,
                                      const Fingerprints& b) {
  std::vector<std::string> changed;
  if (a.seg_user != b.seg_user) changed.push_back("seg-user");
  if (a.base != b.base) changed.push_back("base");
  if (a.mid != b.mid) changed.push_back("mid");
  if (a.top != b.top) changed.push_back("top");
  if (a.loner != b.loner) changed.push_back("loner");
  return changed;
}

TEST(FingerprintTest, SameDocumentSameFingerprints) {
  const Fingerprints a = BaselineFingerprints();
  EXPECT_THAT(ChangedFlags(a, BaselineFingerprints()), IsEmpty());
  EXPECT_NE(a.base, a.loner);  // same body, different key
}

TEST(FingerprintTest, ChangesWhenAReferencedSegmentChanges) {
  EXPECT_THAT(ChangedFlags(BaselineFingerprints(),
                           FingerprintsOf(R"("u1", "u9")", R"("u2")", R"("on")",
                                          R"("on")")),
              ElementsAre("seg-user"));
}

TEST(FingerprintTest, UnrelatedSegmentDoesNotChangeIt) {
  EXPECT_THAT(ChangedFlags(BaselineFingerprints(),
                           FingerprintsOf(R"("u1")", R"("u2", "u3")", R"("on")",
                                          R"("on")")),
              IsEmpty());
}

TEST(FingerprintTest, ChangesThroughPrerequisiteChains) {
  // top -> mid -> base
  EXPECT_THAT(
      ChangedFlags(BaselineFingerprints(),
                   FingerprintsOf(R"("u1")", R"("u2")", R"("off")", R"("on")")),
      ElementsAre("base", "mid", "top"));
}

TEST(FingerprintTest, UnrelatedFlagEditDoesNotChangeIt) {
  EXPECT_THAT(
      ChangedFlags(BaselineFingerprints(),
                   FingerprintsOf(R"("u1")", R"("u2")", R"("on")", R"("off")")),
      ElementsAre("loner"));
}

// ------------------------------------------------------------ interning

TEST(InternTest, CompilesSharingAPoolShareStrings) {
  auto pool = std::make_shared<internal::StringPool>();
  const std::string doc1 =
      R"({"version": 1, "flags": {"c": {"variants": {"red": "#f00", "cfg": "x"}, "default": "red"}}})";
  const std::string doc2 =
      R"({"version": 2, "flags": {"c": {"variants": {"red": "#f00"}, "default": "red"},
      "j": {"variants": {"v": {"k": 1}}, "default": "v"}}})";
  auto first = internal::CompileFlagSet(doc1, {}, pool);
  ASSERT_TRUE(first.ok()) << first.status();
  auto second = internal::CompileFlagSet(doc2, {}, pool);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*first)->strings, pool);
  EXPECT_EQ((*second)->strings, pool);
  const internal::Variant& a = (*first)->flags[0].variants[0];
  const internal::Variant& b = (*second)->flags[0].variants[0];
  EXPECT_EQ(a.name.data(), b.name.data());
  EXPECT_EQ(a.value.string_value.data(), b.value.string_value.data());
  const std::string_view json =
      (*second)->flags[1].variants[0].value.string_value;
  // Views outlive the set that produced them while the pool lives.
  const std::string_view name = a.name;
  first->reset();
  EXPECT_EQ(name, "red");
  EXPECT_EQ(json, R"({"k":1})");
}

TEST(InternTest, RejectedCompileDoesNotReplaceAnything) {
  auto pool = std::make_shared<internal::StringPool>();
  auto bad = internal::CompileFlagSet(
      R"({"version": 1, "flags": {"f": {"variants": {"on": true}, "default": "onn"}}})",
      {}, pool);
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(bad.status(),
              IsCompileError("flags.f.default", "unknown variant \"onn\""));
}

// ------------------------------------------------ every independent error

// Matches a message "<path>: ...<problem>...".
MATCHER_P2(IsErrorAt, path, problem,
           absl::StrCat("is \"", path, ": ...", problem, "...\"")) {
  return absl::StartsWith(arg, absl::StrCat(path, ": ")) &&
         absl::StrContains(arg, problem);
}

TEST(ListCompileErrorsTest, ValidDocumentHasNone) {
  const CompileErrors errors = ListCompileErrors(Doc(R"("f": )" + BoolFlag()));
  EXPECT_TRUE(errors.messages.empty());
  EXPECT_EQ(errors.total, 0u);
}

TEST(ListCompileErrorsTest, ReportsAnErrorInEveryFlagWithItsPath) {
  const std::string doc =
      Doc(R"("a": {"variants": {"on": true}, "default": "onn"},)"
          R"("b": {"variants": {"on": true}, "default": "on", "owner": 5},)"
          R"("c": {"variants": {"on": true}, "default": "on", "rules": [)"
          R"({"if": [{"attribute": "x", "op": "betwen", "value": 1}],)"
          R"("serve": "on"}]})");
  const CompileErrors errors = ListCompileErrors(doc);
  EXPECT_THAT(errors.messages,
              ElementsAre(IsErrorAt("flags.a.default", "unknown variant"),
                          IsErrorAt("flags.b.owner", "expected a string"),
                          IsErrorAt("flags.c.rules[0].if[0].op",
                                    "unknown operator \"betwen\"")));
  EXPECT_EQ(errors.total, 3u);
}

TEST(ListCompileErrorsTest, ReportsIndependentFieldsRulesAndClausesOfOneFlag) {
  const std::string doc =
      Doc(R"("f": {"variants": {"on": true, "off": false}, "default": "nope",)"
          R"("off_variant": "gone", "killed": "yes", "rules": [)"
          R"({"if": [{"attribute": "a", "op": "lt", "value": "x"},)"
          R"(        {"attribute": "b", "op": "semver_gte", "value": "1.x"}],)"
          R"( "serve": "missing"},)"
          R"({"serve": "on"}, {"if": {}, "serve": "on"},)"
          R"({"if": [], "serve": "x"}],)"
          R"("expires": "soon"})");
  const CompileErrors errors = ListCompileErrors(doc);
  EXPECT_THAT(
      errors.messages,
      ElementsAre(
          IsErrorAt("flags.f.default", "unknown variant \"nope\""),
          IsErrorAt("flags.f.off_variant", "unknown variant \"gone\""),
          IsErrorAt("flags.f.killed", "expected"),
          IsErrorAt("flags.f.rules[0].if[0].value", "expected a number"),
          IsErrorAt("flags.f.rules[0].if[1].value", "invalid semver"),
          IsErrorAt("flags.f.rules[0].serve", "unknown variant \"missing\""),
          IsErrorAt("flags.f.rules[1].if", "required field is missing"),
          IsErrorAt("flags.f.rules[2].if", "expected an array"),
          IsErrorAt("flags.f.rules[3].serve", "unknown variant \"x\""),
          IsErrorAt("flags.f.expires", "invalid time")));
}

TEST(ListCompileErrorsTest, SegmentsAndTopLevelFieldsAreIndependent) {
  const std::string doc =
      R"({"version": -1, "environment": 3, "flags": {)"
      R"("f": {"variants": {"on": true}, "default": "onn"}},)"
      R"("segments": {"s": {"included": [1]}, "t": {"rules": [{}]}}})";
  const CompileErrors errors = ListCompileErrors(doc);
  EXPECT_THAT(errors.messages,
              ElementsAre(IsErrorAt("version", "unsigned integer"),
                          IsErrorAt("environment", "expected a string"),
                          IsErrorAt("segments.s.included[0]", "string"),
                          IsErrorAt("segments.t.rules[0].if", "missing"),
                          IsErrorAt("flags.f.default", "unknown variant")));
}

TEST(ListCompileErrorsTest, FollowOnErrorsAreNotReported) {
  // "b"'s variants fail at "off": nothing else in "b" is checked, and "a"'s
  // prerequisite on "b" being "off" is not reported as an unknown variant.
  const std::string doc =
      Doc(R"("a": {"variants": {"on": true}, "default": "on",)"
          R"(      "prerequisites": [{"flag": "b", "variant": "off"}]},)"
          R"("b": {"variants": {"on": true, "off": "no"}, "default": "zzz"})");
  const CompileErrors errors = ListCompileErrors(doc);
  EXPECT_THAT(errors.messages,
              ElementsAre(IsErrorAt("flags.b.variants.off",
                                    "all variants must have one type")));
  EXPECT_EQ(errors.total, 1u);
}

TEST(ListCompileErrorsTest, PrerequisiteErrorsFollowTheFlagsErrors) {
  const std::string doc =
      Doc(R"("a": {"variants": {"on": true}, "default": "on",)"
          R"(      "prerequisites": [{"flag": "b", "variant": "of"}]},)"
          R"("b": {"variants": {"on": true, "off": false}, "default": "zzz"})");
  const CompileErrors errors = ListCompileErrors(doc);
  EXPECT_THAT(errors.messages,
              ElementsAre(IsErrorAt("flags.b.default", "unknown variant"),
                          IsErrorAt("flags.a.prerequisites[0].variant",
                                    "unknown variant \"of\" in flag \"b\"")));
}

TEST(ListCompileErrorsTest, StopsListingAtTheLimitAndCountsTheRest) {
  std::string flags;
  for (int i = 0; i < 25; ++i) {
    absl::StrAppend(&flags, i == 0 ? "" : ",", "\"f", i,
                    R"(": {"variants": {"on": true}, "default": "x"})");
  }
  const CompileErrors errors = ListCompileErrors(Doc(flags), {}, 20);
  EXPECT_EQ(errors.messages.size(), 20u);
  EXPECT_EQ(errors.total, 25u);
  EXPECT_THAT(errors.messages[0], IsErrorAt("flags.f0.default", "unknown"));
  EXPECT_THAT(errors.messages[19], IsErrorAt("flags.f19.default", "unknown"));
  // The default limit is 20 too; at least one is always listed.
  EXPECT_EQ(ListCompileErrors(Doc(flags)).messages.size(), 20u);
  EXPECT_EQ(ListCompileErrors(Doc(flags), {}, 0).messages.size(), 1u);
}

TEST(ListCompileErrorsTest, SyntaxAndShapeErrorsAreOneError) {
  CompileErrors errors = ListCompileErrors(R"({"version": 1, "flags": {)");
  EXPECT_EQ(errors.total, 1u);
  EXPECT_THAT(errors.messages[0], HasSubstr("invalid JSON"));
  errors = ListCompileErrors(R"({"version": 1, "flags": []})");
  EXPECT_THAT(errors.messages,
              ElementsAre(IsErrorAt("flags", "expected an object")));
}

// Compile() still stops at the first error, and its message is the first of
// the list: the public API's answer does not change.
TEST(ListCompileErrorsTest, FirstErrorIsCompilesError) {
  const std::vector<std::string> docs = {
      Doc(R"("a": {"variants": {"on": true}, "default": "onn"},)"
          R"("b": {"variants": {"on": true}, "default": "on", "owner": 5})"),
      Doc(R"("f": {"variants": {"on": true, "off": false}, "default": "on",)"
          R"("rules": [{"if": [{"attribute": "a", "op": "lt", "value": "x"}]},)"
          R"({"if": [], "serve": "x"}]})"),
      Doc(R"("a": {"variants": {"on": true}, "default": "on",)"
          R"("prerequisites": [{"flag": "b", "variant": "x"}]},)"
          R"("b": {"variants": {"on": true}, "default": "on",)"
          R"("prerequisites": [{"flag": "a", "variant": "on"}]})"),
      R"({"flags": {"bad key": {"variants": {}, "default": "x"}}})",
  };
  for (const std::string& doc : docs) {
    const absl::Status status = CompileStatus(doc);
    ASSERT_FALSE(status.ok()) << doc;
    const CompileErrors errors = ListCompileErrors(doc);
    ASSERT_FALSE(errors.messages.empty()) << doc;
    EXPECT_EQ(errors.messages[0], std::string(status.message())) << doc;
    EXPECT_GT(errors.total, 1u) << doc;
  }
}

}  // namespace
}  // namespace hotfix

namespace hotfix {
namespace {

// ---------------------------------------------------------------- guard

std::string Guarded(const std::string& guard,
                    const std::string& off = R"("off_variant": "off", )") {
  return Doc(absl::StrCat(R"("f": {"variants": {"on": true, "off": false}, )",
                          off, R"("default": "on", "guard": )", guard, "}"));
}

TEST(GuardCompileTest, FullGuardCompiles) {
  auto s = MustCompile(Guarded(
      R"({"max_failure_rate": 0.05, "min_samples": 200, "window": "30s", "compare_to": "off"})"));
  ASSERT_NE(s, nullptr);
  const CompiledFlag& f = FlagOf(*s, "f");
  ASSERT_NE(f.guard, nullptr);
  EXPECT_EQ(f.guard->max_failure_rate, 0.05);
  EXPECT_EQ(f.guard->min_samples, 200u);
  EXPECT_EQ(f.guard->window, absl::Seconds(30));
  EXPECT_EQ(f.guard->compare_to, 1);
  EXPECT_EQ(f.guard->fallback, 1);
  EXPECT_FALSE(f.guard_tripped);
}

TEST(GuardCompileTest, DefaultsAndOffVariantFallback) {
  auto s = MustCompile(Guarded(R"({"max_failure_rate": 0})"));
  ASSERT_NE(s, nullptr);
  const CompiledFlag& f = FlagOf(*s, "f");
  ASSERT_NE(f.guard, nullptr);
  EXPECT_EQ(f.guard->min_samples, 100u);
  EXPECT_EQ(f.guard->window, absl::Seconds(60));
  EXPECT_EQ(f.guard->compare_to, -1);
  EXPECT_EQ(f.guard->fallback, 1);
  // A guard changes nothing about evaluation until it trips.
  EXPECT_EQ(s->Evaluate("f").reason, Reason::kStatic);
}

TEST(GuardCompileTest, ErrorsNameTheField) {
  EXPECT_THAT(CompileStatus(Guarded("true")),
              IsCompileError("flags.f.guard", "expected an object"));
  EXPECT_THAT(CompileStatus(Guarded("{}")),
              IsCompileError("flags.f.guard.max_failure_rate",
                             "required field is missing"));
  for (const char* rate : {"1", "-0.1", "\"5%\"", "1.5", "null"}) {
    EXPECT_THAT(CompileStatus(Guarded(
                    absl::StrCat(R"({"max_failure_rate": )", rate, "}"))),
                IsCompileError("flags.f.guard.max_failure_rate", "in [0, 1)"))
        << rate;
  }
  for (const char* n : {"0", "-1", "1.5", "\"200\"", "1000000001"}) {
    EXPECT_THAT(CompileStatus(Guarded(absl::StrCat(
                    R"({"max_failure_rate": 0.1, "min_samples": )", n, "}"))),
                IsCompileError("flags.f.guard.min_samples", "from 1 to"))
        << n;
  }
  for (const char* w : {"\"30\"", "\"0.5s\"", "\"25h\"", "\"soon\"", "30"}) {
    EXPECT_THAT(CompileStatus(Guarded(absl::StrCat(
                    R"({"max_failure_rate": 0.1, "window": )", w, "}"))),
                IsCompileError("flags.f.guard.window", ""))
        << w;
  }
  EXPECT_THAT(CompileStatus(Guarded(
                  R"({"max_failure_rate": 0.1, "compare_to": "control"})")),
              IsCompileError("flags.f.guard.compare_to",
                             "unknown variant \"control\""));
  EXPECT_THAT(
      CompileStatus(Guarded(R"({"max_failure_rate": 0.1, "windw": "30s"})")),
      IsCompileError("flags.f.guard.windw", "unknown field"));
  EXPECT_THAT(
      CompileStatus(Guarded(R"({"max_failure_rate": 0.1})", /*off=*/"")),
      IsCompileError("flags.f.guard", "needs off_variant or compare_to"));
}

}  // namespace
}  // namespace hotfix
