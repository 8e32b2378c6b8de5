// tools/common/json_util.cc

#include "json_util.h"

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "rapidjson/error/en.h"

namespace hotfix {
namespace tools {
namespace {

absl::string_view A(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

std::string FieldPath(std::string_view path, std::string_view field) {
  if (path.empty()) return std::string(field);
  return absl::StrCat(A(path), ".", A(field));
}

const char* TypeName(const rapidjson::Value& v) {
  switch (v.GetType()) {
    case rapidjson::kNullType:
      return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType:
      return "a boolean";
    case rapidjson::kObjectType:
      return "an object";
    case rapidjson::kArrayType:
      return "an array";
    case rapidjson::kStringType:
      return "a string";
    case rapidjson::kNumberType:
      return "a number";
  }
  return "a value";
}

}  // namespace

absl::Status ParseJson(std::string_view text, std::string_view what,
                       rapidjson::Document* doc) {
  constexpr unsigned kFlags = rapidjson::kParseFullPrecisionFlag |
                              rapidjson::kParseValidateEncodingFlag;
  doc->Parse<kFlags>(text.data(), text.size());
  if (doc->HasParseError()) {
    return absl::InvalidArgumentError(absl::StrCat(
        A(what), ": invalid JSON at offset ", doc->GetErrorOffset(), ": ",
        rapidjson::GetParseError_En(doc->GetParseError())));
  }
  return absl::OkStatus();
}

std::string ToJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  value.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string JsonQuote(std::string_view s) {
  rapidjson::StringBuffer buffer;
  JsonWriter writer(buffer);
  WriteString(writer, s);
  return std::string(buffer.GetString(), buffer.GetSize());
}

const rapidjson::Value* FindMember(const rapidjson::Value& object,
                                   std::string_view key) {
  if (!object.IsObject()) return nullptr;
  const rapidjson::Value name = StringRef(key);
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

rapidjson::Value* FindMember(rapidjson::Value& object, std::string_view key) {
  if (!object.IsObject()) return nullptr;
  const rapidjson::Value name = StringRef(key);
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

absl::StatusOr<std::optional<std::string>> GetOptionalString(
    const rapidjson::Value& object, std::string_view field,
    std::string_view path) {
  const rapidjson::Value* v = FindMember(object, field);
  if (v == nullptr) return std::optional<std::string>();
  if (!v->IsString()) {
    return absl::InvalidArgumentError(absl::StrCat(
        FieldPath(path, field), ": must be a string, not ", TypeName(*v)));
  }
  return std::optional<std::string>(
      std::string(v->GetString(), v->GetStringLength()));
}

absl::StatusOr<std::string> GetRequiredString(const rapidjson::Value& object,
                                              std::string_view field,
                                              std::string_view path) {
  auto s = GetOptionalString(object, field, path);
  if (!s.ok()) return s.status();
  if (!s->has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(FieldPath(path, field), ": required"));
  }
  return std::move(**s);
}

absl::StatusOr<std::optional<std::uint64_t>> GetOptionalUint(
    const rapidjson::Value& object, std::string_view field,
    std::string_view path) {
  const rapidjson::Value* v = FindMember(object, field);
  if (v == nullptr) return std::optional<std::uint64_t>();
  if (v->IsUint64()) return std::optional<std::uint64_t>(v->GetUint64());
  if (v->IsDouble()) {
    const double d = v->GetDouble();
    if (d >= 0 && d < 1.8e19 && std::floor(d) == d) {
      return std::optional<std::uint64_t>(static_cast<std::uint64_t>(d));
    }
  }
  return absl::InvalidArgumentError(
      absl::StrCat(FieldPath(path, field), ": must be an unsigned integer"));
}

absl::StatusOr<std::optional<double>> GetOptionalNumber(
    const rapidjson::Value& object, std::string_view field,
    std::string_view path) {
  const rapidjson::Value* v = FindMember(object, field);
  if (v == nullptr) return std::optional<double>();
  if (!v->IsNumber()) {
    return absl::InvalidArgumentError(absl::StrCat(
        FieldPath(path, field), ": must be a number, not ", TypeName(*v)));
  }
  return std::optional<double>(v->GetDouble());
}

absl::Status CheckKnownFields(const rapidjson::Value& object,
                              std::string_view path,
                              const char* const* allowed) {
  if (!object.IsObject()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.empty() ? "body" : A(path),
                     ": must be an object, not ", TypeName(object)));
  }
  for (auto it = object.MemberBegin(); it != object.MemberEnd(); ++it) {
    const std::string_view name(it->name.GetString(),
                                it->name.GetStringLength());
    bool known = false;
    for (const char* const* a = allowed; *a != nullptr; ++a) {
      if (name == *a) {
        known = true;
        break;
      }
    }
    if (!known) {
      return absl::InvalidArgumentError(
          absl::StrCat(FieldPath(path, name), ": unknown field"));
    }
  }
  return absl::OkStatus();
}

}  // namespace tools
}  // namespace hotfix
