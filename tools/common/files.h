// tools/common/files.h
//
// Reading the small files the tools are given (flag documents, token files,
// configuration), with a size limit and errors that name the path.
//
// Thread-safe.

#ifndef HOTFIX_TOOLS_COMMON_FILES_H_
#define HOTFIX_TOOLS_COMMON_FILES_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"

namespace hotfix {
namespace tools {

// ReadFile()
//
// The whole of `path` ("-" reads standard input). NotFound / PermissionDenied
// / Unavailable naming the path and the reason; ResourceExhausted when larger
// than `max_bytes`.
absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     std::size_t max_bytes = std::size_t{64}
                                                             << 20);

}  // namespace tools
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_COMMON_FILES_H_
