// tools/hotfixd/api/console_assets.h
//
// The operator console's files (tools/hotfixd/console/), compiled into
// hotfixd by cmake/EmbedText.cmake so that the console works air-gapped and
// always matches the server it is served by. Each file is prepared once, on
// first use: its Content-Type, a strong ETag (a hash of the bytes) and, where
// it pays, a gzip-compressed copy.
//
// Thread-safe: the table is built once (a function-local static) and only
// read afterwards.

#ifndef HOTFIX_TOOLS_HOTFIXD_API_CONSOLE_ASSETS_H_
#define HOTFIX_TOOLS_HOTFIXD_API_CONSOLE_ASSETS_H_

#include <string>
#include <string_view>
#include <vector>

#include "common/text.h"

namespace hotfix {
namespace hotfixd {

struct ConsoleAsset {
  std::string name;          // "index.html", "app.mjs", ...
  std::string content_type;  // "text/javascript; charset=utf-8", ...
  tools::SharedText body;
  tools::SharedText gzip;  // null when compression saves less than 10 %
  std::string etag;        // "\"<16 hex digits of SHA-256(body)>\""
};

// ConsoleAssets()
//
// Every file of the console, in the order CMakeLists.txt lists them.
//
// Cost: the first call hashes and compresses them all (about 2 ms); later
// calls return the same table.
const std::vector<ConsoleAsset>& ConsoleAssets();

// The file named `name`, or null.
const ConsoleAsset* FindConsoleAsset(std::string_view name);

// The Content-Type for a file name by its extension (.html, .mjs, .css,
// .svg, .json, .txt); empty for any other.
std::string_view ConsoleContentType(std::string_view name);

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_API_CONSOLE_ASSETS_H_
