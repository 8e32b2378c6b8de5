// tools/hotfixd/api/api.cc

#include "api/api.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "util/keys.h"
#include "util/strings.h"

namespace hotfix {
namespace hotfixd {

using internal::ToAbsl;

absl::StatusOr<std::shared_ptr<const EnvironmentState>> Environment(
    const Call& call) {
  return Environment(call, call.Param("env"));
}

absl::StatusOr<std::shared_ptr<const EnvironmentState>> Environment(
    const Call& call, std::string_view env) {
  if (!internal::IsValidKey(env)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "environment \"", ToAbsl(env),
        "\": not an environment name (1-64 characters of [A-Za-z0-9._-], "
        "not \".\" or \"..\")"));
  }
  if (call.who != nullptr && !call.who->CanUseEnv(env)) {
    return absl::PermissionDeniedError(absl::StrCat(
        "this token cannot use environment \"", ToAbsl(env), "\""));
  }
  auto state = call.api.flags->Get(std::string(env));
  if (state == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("environment \"", ToAbsl(env), "\" does not exist"));
  }
  return state;
}

void Announce(const ApiContext& api, const std::string& env,
              std::string_view event, std::string data) {
  if (api.webhooks != nullptr)
    api.webhooks->Publish(env, event, std::move(data));
}

absl::StatusOr<std::shared_ptr<const EnvironmentState>> SdkEnvironment(
    const Call& call) {
  const Principal& who = call.principal();
  const std::string* param = call.request.FindQuery("env");
  const std::string requested = param != nullptr ? *param : "";
  if (who.Has(kScopeSdk) && !who.Has(kScopeRead)) {
    if (who.env.empty()) {
      return absl::PermissionDeniedError(
          "this SDK key is not bound to an environment");
    }
    if (!requested.empty() && requested != who.env) {
      return absl::PermissionDeniedError(absl::StrCat(
          "this SDK key reads environment \"", who.env, "\" only"));
    }
    return Environment(call, who.env);
  }
  std::string env = requested;
  if (env.empty()) {
    env = who.env.empty() ? call.api.config->default_env : who.env;
  }
  return Environment(call, env);
}

absl::StatusOr<std::string> KeyParam(const Call& call, std::string_view name) {
  const std::string_view key = call.Param(name);
  if (!internal::IsValidKey(key)) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(name), " \"", ToAbsl(key),
        "\": not a key (1-256 characters of [A-Za-z0-9._-], not \".\" or "
        "\"..\")"));
  }
  return std::string(key);
}

absl::StatusOr<int> QueryInt(const Call& call, std::string_view name,
                             int fallback, int min, int max) {
  const std::string* v = call.request.FindQuery(name);
  if (v == nullptr) return fallback;
  int n = 0;
  if (!absl::SimpleAtoi(*v, &n) || n < min || n > max) {
    return absl::InvalidArgumentError(absl::StrCat(
        ToAbsl(name), ": expected an integer in [", min, ", ", max, "]"));
  }
  return n;
}

absl::StatusOr<std::optional<std::uint64_t>> QueryUint(const Call& call,
                                                       std::string_view name) {
  const std::string* v = call.request.FindQuery(name);
  if (v == nullptr) return std::optional<std::uint64_t>();
  std::optional<std::uint64_t> n = ParseVersion(*v);
  if (!n.has_value()) {
    return absl::InvalidArgumentError(
        absl::StrCat(ToAbsl(name), ": expected an unsigned integer"));
  }
  return n;
}

bool QueryFlag(const Call& call, std::string_view name) {
  const std::string* v = call.request.FindQuery(name);
  return v != nullptr && (*v == "true" || *v == "1");
}

std::optional<std::uint64_t> ParseVersion(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  std::uint64_t v = 0;
  if (!absl::SimpleAtoi(ToAbsl(text), &v)) return std::nullopt;
  return v;
}

}  // namespace hotfixd
}  // namespace hotfix
