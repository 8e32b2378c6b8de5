// tools/hotfixd/core/gzip.cc

#include "core/gzip.h"

#include <zlib.h>

#include "absl/strings/str_cat.h"

namespace hotfix {
namespace hotfixd {

std::optional<std::string> Gzip(std::string_view data) {
  z_stream zs{};
  // 15 + 16: a gzip header and trailer; level 6, zlib's default.
  if (deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
      Z_OK) {
    return std::nullopt;
  }
  std::string out;
  out.resize(deflateBound(&zs, data.size()) + 32);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  const std::size_t produced = out.size() - zs.avail_out;
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return std::nullopt;
  out.resize(produced);
  return out;
}

absl::StatusOr<std::string> Gunzip(std::string_view data,
                                   std::size_t max_bytes) {
  z_stream zs{};
  if (inflateInit2(&zs, 15 + 16) != Z_OK) {
    return absl::InternalError("gzip: cannot start zlib");
  }
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char chunk[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    zs.next_out = reinterpret_cast<Bytef*>(chunk);
    zs.avail_out = sizeof chunk;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError(
          absl::StrCat("body: not valid gzip (",
                       zs.msg != nullptr ? zs.msg : "truncated", ")"));
    }
    const std::size_t produced = sizeof chunk - zs.avail_out;
    if (out.size() + produced > max_bytes) {
      inflateEnd(&zs);
      return absl::ResourceExhaustedError(absl::StrCat(
          "body: more than ", max_bytes, " bytes once decompressed"));
    }
    out.append(chunk, produced);
    if (rc == Z_OK && produced == 0 && zs.avail_in == 0) {
      inflateEnd(&zs);
      return absl::InvalidArgumentError("body: truncated gzip");
    }
  }
  inflateEnd(&zs);
  return out;
}

}  // namespace hotfixd
}  // namespace hotfix
