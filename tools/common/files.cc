// tools/common/files.cc

#include "common/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace hotfix {
namespace tools {

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     std::size_t max_bytes) {
  const bool stdin_path = path == "-";
  const int fd =
      stdin_path ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  const std::string name =
      stdin_path ? "standard input" : absl::StrCat("\"", path, "\"");
  if (fd < 0) {
    const int err = errno;
    const std::string message =
        absl::StrCat("cannot read ", name, ": ", std::strerror(err));
    if (err == ENOENT) return absl::NotFoundError(message);
    if (err == EACCES) return absl::PermissionDeniedError(message);
    return absl::UnavailableError(message);
  }
  std::string data;
  char buffer[64 * 1024];
  absl::Status status;
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = absl::UnavailableError(
          absl::StrCat("cannot read ", name, ": ", std::strerror(errno)));
      break;
    }
    if (n == 0) break;
    if (data.size() + static_cast<std::size_t>(n) > max_bytes) {
      status = absl::ResourceExhaustedError(absl::StrCat(
          name, " is larger than the limit of ", max_bytes, " bytes"));
      break;
    }
    data.append(buffer, static_cast<std::size_t>(n));
  }
  if (!stdin_path) ::close(fd);
  if (!status.ok()) return status;
  return data;
}

}  // namespace tools
}  // namespace hotfix
