// tools/hotfixd/store/store.cc

#include "store/store.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "store/crypto.h"

namespace hotfix {
namespace hotfixd {

std::int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

absl::Status CheckDocument(const VersionRow& row, const char* document) {
  if (Sha256Hex(row.document) == row.sha256) return absl::OkStatus();
  return absl::DataLossError(
      absl::StrCat("environment \"", row.env, "\" version ", row.version, ": ",
                   document, " does not match its checksum"));
}

std::string DetailNamingRequest(std::int64_t id, const std::string& detail) {
  const bool more = detail.size() > 2;  // not "{}" or ""
  return absl::StrCat("{\"request\":", id, more ? "," : "}",
                      more ? detail.substr(1) : "");
}

}  // namespace hotfixd
}  // namespace hotfix
