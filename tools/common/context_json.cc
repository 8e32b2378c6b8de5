// tools/common/context_json.cc

#include "common/context_json.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "util/strings.h"

namespace hotfix {
namespace tools {
namespace {

std::string_view View(const rapidjson::Value& v) {
  return std::string_view(v.GetString(), v.GetStringLength());
}

absl::Status AddMembers(const rapidjson::Value& object,
                        const std::string& prefix,
                        std::deque<std::string>* storage, Context* context) {
  for (auto m = object.MemberBegin(); m != object.MemberEnd(); ++m) {
    const std::string_view key = View(m->name);
    const rapidjson::Value& v = m->value;
    std::string_view name = key;
    if (!prefix.empty()) {
      name = storage->emplace_back(
          absl::StrCat(prefix, ".", internal::ToAbsl(key)));
    }
    const std::string shown = absl::StrCat("context.", internal::ToAbsl(name));
    if (prefix.empty() && key == "targetingKey") {
      if (v.IsNull()) continue;
      if (!v.IsString()) {
        return absl::InvalidArgumentError(
            absl::StrCat(shown, ": the targeting key must be a string"));
      }
      context->set_key(View(v));
      continue;
    }
    if (name == "key") {
      return absl::InvalidArgumentError(absl::StrCat(
          shown, ": hotfix reserves the name \"key\" for the targeting key"));
    }
    if (v.IsNull()) continue;
    if (v.IsString()) {
      context->Set(name, View(v));
    } else if (v.IsBool()) {
      context->Set(name, v.GetBool());
    } else if (v.IsNumber()) {
      context->SetNumber(name, v.GetDouble());
    } else if (v.IsObject()) {
      absl::Status st = AddMembers(v, std::string(name), storage, context);
      if (!st.ok()) return st;
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat(shown, ": arrays are not supported in a context"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ContextFromJson(const rapidjson::Value& object,
                             std::deque<std::string>* storage,
                             Context* context) {
  if (!object.IsObject()) {
    return absl::InvalidArgumentError("context: expected a JSON object");
  }
  return AddMembers(object, "", storage, context);
}

}  // namespace tools
}  // namespace hotfix
