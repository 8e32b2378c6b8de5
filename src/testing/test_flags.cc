// TestFlags: forces flag values in application unit tests by generating a
// native document and publishing it into a real Client.

#include "hotfix/testing.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "util/json_parse.h"
#include "util/strings.h"

namespace hotfix {
namespace testing {
namespace {

std::string Quote(std::string_view s) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string StaticFlag(std::string_view value_json) {
  return absl::StrCat(R"({"variants":{"value":)", internal::ToAbsl(value_json),
                      R"(},"default":"value"})");
}

std::unique_ptr<Client> MakeClient() {
  absl::StatusOr<std::unique_ptr<Client>> client =
      Client::Create(ClientOptions());
  // Creating a client without sources or bootstrap cannot fail.
  return *std::move(client);
}

}  // namespace

TestFlags::TestFlags() : client_(MakeClient()) {
  std::lock_guard<std::mutex> lock(mu_);
  PublishLocked().IgnoreError();  // an empty set always compiles
}

TestFlags::~TestFlags() = default;

void TestFlags::Set(std::string_view key, bool value) {
  std::lock_guard<std::mutex> lock(mu_);
  definitions_[std::string(key)] = absl::StrCat(
      R"({"variants":{"on":true,"off":false},"off_variant":"off","default":)",
      value ? R"("on")" : R"("off")", "}");
  PublishLocked().IgnoreError();  // generated definitions always compile
}

void TestFlags::Set(std::string_view key, std::string_view value) {
  std::lock_guard<std::mutex> lock(mu_);
  definitions_[std::string(key)] = StaticFlag(Quote(value));
  PublishLocked().IgnoreError();  // generated definitions always compile
}

void TestFlags::Set(std::string_view key, double value) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.Double(value);
  std::lock_guard<std::mutex> lock(mu_);
  definitions_[std::string(key)] =
      StaticFlag(std::string_view(buffer.GetString(), buffer.GetSize()));
  PublishLocked().IgnoreError();  // generated definitions always compile
}

absl::Status TestFlags::SetJson(std::string_view key, std::string_view json) {
  rapidjson::Document doc;
  if (absl::Status st = internal::ParseJsonStrict(json, &doc); !st.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SetJson(\"", internal::ToAbsl(key), "\"): ", st.message()));
  }
  if (!doc.IsObject() && !doc.IsArray()) {
    return absl::InvalidArgumentError(
        absl::StrCat("SetJson(\"", internal::ToAbsl(key),
                     "\"): a JSON flag value must be an object or array"));
  }
  return SetDefinition(key, StaticFlag(json));
}

absl::Status TestFlags::SetDefinition(std::string_view key,
                                      std::string_view flag_json) {
  std::lock_guard<std::mutex> lock(mu_);
  const std::string k(key);
  std::optional<std::string> saved;
  if (auto it = definitions_.find(k); it != definitions_.end())
    saved = it->second;
  definitions_[k] = std::string(flag_json);
  absl::Status status = PublishLocked();
  if (!status.ok()) {  // undo, so nothing changes
    if (saved.has_value()) {
      definitions_[k] = *std::move(saved);
    } else {
      definitions_.erase(k);
    }
  }
  return status;
}

void TestFlags::Kill(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  killed_[std::string(key)] = true;
  PublishLocked().IgnoreError();  // generated definitions always compile
}

void TestFlags::Revive(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  killed_.erase(std::string(key));
  PublishLocked().IgnoreError();  // generated definitions always compile
}

void TestFlags::Remove(std::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  definitions_.erase(std::string(key));
  killed_.erase(std::string(key));
  PublishLocked().IgnoreError();  // generated definitions always compile
}

void TestFlags::Clear() {
  std::lock_guard<std::mutex> lock(mu_);
  definitions_.clear();
  killed_.clear();
  PublishLocked().IgnoreError();  // generated definitions always compile
}

absl::Status TestFlags::PublishLocked() {
  rapidjson::Document doc(rapidjson::kObjectType);
  auto& alloc = doc.GetAllocator();
  rapidjson::Value flags(rapidjson::kObjectType);
  for (const auto& [key, definition] : definitions_) {
    rapidjson::Document flag(&alloc);
    if (!internal::ParseJsonStrict(definition, &flag).ok() ||
        !flag.IsObject()) {
      return absl::InvalidArgumentError(
          absl::StrCat("flags.", key, ": the definition is not a JSON object"));
    }
    if (killed_.contains(key)) {
      flag.RemoveMember("enabled");
      flag.RemoveMember("killed");
      flag.AddMember("killed", true, alloc);
    }
    flags.AddMember(rapidjson::Value(key.c_str(), alloc), flag.Move(), alloc);
  }
  doc.AddMember("version", rapidjson::Value(version_ + 1), alloc);
  doc.AddMember("flags", flags, alloc);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  absl::Status status =
      client_->Publish(std::string_view(buffer.GetString(), buffer.GetSize()),
                       SnapshotOrigin::kTest);
  if (status.ok()) ++version_;
  return status;
}

}  // namespace testing
}  // namespace hotfix
