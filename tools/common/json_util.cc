// tools/common/json_util.cc

#include "common/json_util.h"

#include <cmath>
#include <cstring>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "util/json_parse.h"
#include "util/strings.h"

namespace hotfix {
namespace tools {
namespace {

std::string FieldPath(std::string_view path, std::string_view field) {
  if (path.empty()) return std::string(field);
  return absl::StrCat(internal::ToAbsl(path), ".", internal::ToAbsl(field));
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
  return internal::ParseJsonStrict(text, doc, what);
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

std::string ValueJson(const Value& value) {
  switch (value.type) {
    case ValueType::kBool:
      return value.bool_value ? "true" : "false";
    case ValueType::kNumber: {
      rapidjson::StringBuffer buffer;
      JsonWriter w(buffer);
      const double d = value.number_value;
      if (d == static_cast<double>(static_cast<std::int64_t>(d)) &&
          d > -9.0e15 && d < 9.0e15) {
        w.Int64(static_cast<std::int64_t>(d));
      } else {
        w.Double(d);
      }
      return std::string(buffer.GetString(), buffer.GetSize());
    }
    case ValueType::kString:
      return JsonQuote(value.string_value);
    case ValueType::kJson:
      return std::string(value.string_value);
    case ValueType::kNone:
      break;
  }
  return "null";
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

absl::StatusOr<std::optional<bool>> GetOptionalBool(
    const rapidjson::Value& object, std::string_view field,
    std::string_view path) {
  const rapidjson::Value* v = FindMember(object, field);
  if (v == nullptr) return std::optional<bool>();
  if (!v->IsBool()) {
    return absl::InvalidArgumentError(absl::StrCat(
        FieldPath(path, field), ": must be true or false, not ", TypeName(*v)));
  }
  return std::optional<bool>(v->GetBool());
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
        absl::StrCat(path.empty() ? "body" : internal::ToAbsl(path),
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

JsonOut& JsonOut::Begin() {
  writer_.StartObject();
  return *this;
}
JsonOut& JsonOut::Begin(std::string_view key) {
  WriteKey(writer_, key);
  return Begin();
}
JsonOut& JsonOut::End() {
  writer_.EndObject();
  return *this;
}
JsonOut& JsonOut::BeginArray() {
  writer_.StartArray();
  return *this;
}
JsonOut& JsonOut::BeginArray(std::string_view key) {
  WriteKey(writer_, key);
  return BeginArray();
}
JsonOut& JsonOut::EndArray() {
  writer_.EndArray();
  return *this;
}
JsonOut& JsonOut::Str(std::string_view key, std::string_view value) {
  WriteKey(writer_, key);
  return Str(value);
}
JsonOut& JsonOut::Str(std::string_view value) {
  WriteString(writer_, value);
  return *this;
}
JsonOut& JsonOut::U64(std::string_view key, std::uint64_t value) {
  WriteKey(writer_, key);
  writer_.Uint64(value);
  return *this;
}
JsonOut& JsonOut::I64(std::string_view key, std::int64_t value) {
  WriteKey(writer_, key);
  writer_.Int64(value);
  return *this;
}
JsonOut& JsonOut::Num(std::string_view key, double value) {
  WriteKey(writer_, key);
  if (std::floor(value) == value && std::fabs(value) < 9.0e15) {
    writer_.Int64(static_cast<std::int64_t>(value));
  } else {
    writer_.Double(value);
  }
  return *this;
}
JsonOut& JsonOut::Bool(std::string_view key, bool value) {
  WriteKey(writer_, key);
  writer_.Bool(value);
  return *this;
}
JsonOut& JsonOut::Null(std::string_view key) {
  WriteKey(writer_, key);
  writer_.Null();
  return *this;
}
JsonOut& JsonOut::StrOrNull(std::string_view key, std::string_view value) {
  return value.empty() ? Null(key) : Str(key, value);
}
JsonOut& JsonOut::U64OrNull(std::string_view key, std::uint64_t value) {
  return value == 0 ? Null(key) : U64(key, value);
}
JsonOut& JsonOut::Strings(std::string_view key,
                          const std::vector<std::string>& v) {
  BeginArray(key);
  for (const std::string& s : v) WriteString(writer_, s);
  return EndArray();
}
JsonOut& JsonOut::Raw(std::string_view key, std::string_view json) {
  WriteKey(writer_, key);
  return Raw(json);
}
JsonOut& JsonOut::Raw(std::string_view json) {
  const rapidjson::Type type = json.empty()     ? rapidjson::kNullType
                               : json[0] == '{' ? rapidjson::kObjectType
                               : json[0] == '[' ? rapidjson::kArrayType
                               : json[0] == '"' ? rapidjson::kStringType
                                                : rapidjson::kNumberType;
  if (json.empty()) {
    writer_.Null();
  } else {
    writer_.RawValue(json.data(), json.size(), type);
  }
  return *this;
}
JsonOut& JsonOut::Value(std::string_view key, const rapidjson::Value& value) {
  WriteKey(writer_, key);
  value.Accept(writer_);
  return *this;
}
std::string JsonOut::Take() const {
  return std::string(buffer_.GetString(), buffer_.GetSize());
}

namespace {

// The payload's type URL (absl::Status payloads are keyed by one).
constexpr char kErrorListPayload[] = "type.hotfix.dev/hotfix.ErrorList";

}  // namespace

absl::Status WithErrorList(absl::Status status,
                           const std::vector<std::string>& messages,
                           std::size_t total) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  w.StartObject();
  w.Key("errors");
  w.StartArray();
  for (const std::string& m : messages) WriteString(w, m);
  w.EndArray();
  w.Key("error_count");
  w.Uint64(total);
  w.EndObject();
  status.SetPayload(
      kErrorListPayload,
      absl::Cord(absl::string_view(buffer.GetString(), buffer.GetSize())));
  return status;
}

std::optional<std::string> ErrorListJson(const absl::Status& status) {
  const auto payload = status.GetPayload(kErrorListPayload);  // absl::optional
  if (!payload.has_value()) return std::nullopt;
  return std::string(*payload);
}

}  // namespace tools
}  // namespace hotfix
