// tools/hotfixd/api/console_assets.cc

#include "api/console_assets.h"

#include <optional>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/gzip.h"
#include "hotfix_embedded/console_assets.h"
#include "store/crypto.h"

namespace hotfix {
namespace hotfixd {
namespace {

struct Extension {
  std::string_view suffix;
  std::string_view content_type;
};

constexpr Extension kExtensions[] = {
    {".html", "text/html; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".json", "application/json"},
    {".txt", "text/plain; charset=utf-8"},
};

std::vector<ConsoleAsset> Prepare() {
  std::vector<ConsoleAsset> assets;
  for (const auto& [name, text] : kConsoleFiles) {
    ConsoleAsset a;
    a.name = std::string(name);
    // A kind of file without a line above would not load in a browser
    // (nosniff); tests/hotfixd/console_assets_test.cc keeps that from
    // shipping.
    a.content_type = std::string(ConsoleContentType(name));
    if (a.content_type.empty()) a.content_type = "application/octet-stream";
    a.body = tools::MakeShared(std::string(text));
    if (std::optional<std::string> gz = Gzip(text);
        gz.has_value() && gz->size() * 10 < text.size() * 9) {
      a.gzip = tools::MakeShared(*std::move(gz));
    }
    a.etag = absl::StrCat("\"", Sha256Hex(text).substr(0, 16), "\"");
    assets.push_back(std::move(a));
  }
  return assets;
}

}  // namespace

std::string_view ConsoleContentType(std::string_view name) {
  for (const Extension& e : kExtensions) {
    if (name.ends_with(e.suffix)) return e.content_type;
  }
  return {};
}

const std::vector<ConsoleAsset>& ConsoleAssets() {
  static const auto* const assets = new std::vector<ConsoleAsset>(Prepare());
  return *assets;
}

const ConsoleAsset* FindConsoleAsset(std::string_view name) {
  for (const ConsoleAsset& a : ConsoleAssets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

}  // namespace hotfixd
}  // namespace hotfix
