// src/snapshot/fingerprint.cc

#include "snapshot/fingerprint.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace hotfix {
namespace internal {
namespace {

using Json = rapidjson::Value;

// Appends an unambiguous binary encoding of `v` (type tags, lengths, raw
// bytes) to `out`: cheaper to produce than JSON text and hashed the same way.
// Recursion is bounded by the parser's depth limit.
void AppendCanonical(const Json& v, std::string* out) {
  const auto append_string = [out](const Json& s) {
    const std::uint32_t n = s.GetStringLength();
    out->append(reinterpret_cast<const char*>(&n), sizeof n);
    out->append(s.GetString(), n);
  };
  switch (v.GetType()) {
    case rapidjson::kNullType:
      out->push_back('n');
      break;
    case rapidjson::kFalseType:
      out->push_back('f');
      break;
    case rapidjson::kTrueType:
      out->push_back('t');
      break;
    case rapidjson::kNumberType: {
      const double d = v.GetDouble();
      out->push_back('d');
      out->append(reinterpret_cast<const char*>(&d), sizeof d);
      break;
    }
    case rapidjson::kStringType:
      out->push_back('s');
      append_string(v);
      break;
    case rapidjson::kArrayType:
      out->push_back('[');
      for (const Json& item : v.GetArray()) AppendCanonical(item, out);
      out->push_back(']');
      break;
    case rapidjson::kObjectType:
      out->push_back('{');
      for (auto m = v.MemberBegin(); m != v.MemberEnd(); ++m) {
        append_string(m->name);
        AppendCanonical(m->value, out);
      }
      out->push_back('}');
      break;
  }
}

}  // namespace

std::uint64_t HashJson(std::string_view key, const rapidjson::Value& v,
                       std::string* scratch) {
  scratch->clear();
  scratch->append(key);
  scratch->push_back('\0');
  AppendCanonical(v, scratch);
  return XXH3_64bits(scratch->data(), scratch->size());
}

std::uint64_t CombineFingerprint(std::uint64_t fingerprint,
                                 std::uint64_t dependency) {
  return XXH3_64bits_withSeed(&dependency, sizeof dependency, fingerprint);
}

}  // namespace internal
}  // namespace hotfix
