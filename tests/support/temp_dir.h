// tests/support/temp_dir.h
//
// TempDir is a fresh, empty directory of a test's own under $TMPDIR (or
// /tmp), removed with everything in it by the destructor.
//
// Example:
//
//   TempDir dir;
//   const std::string path = dir.path() + "/flags.json";
//
// Thread-compatible.

#ifndef HOTFIX_TESTS_SUPPORT_TEMP_DIR_H_
#define HOTFIX_TESTS_SUPPORT_TEMP_DIR_H_

#include <stdlib.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <system_error>

#include "gtest/gtest.h"

namespace hotfix {
namespace testing_support {

class TempDir {
 public:
  TempDir() {
    const char* root = std::getenv("TMPDIR");
    path_ = root != nullptr && *root != '\0' ? root : "/tmp";
    path_ += "/hotfix-XXXXXX";
    if (mkdtemp(path_.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed: " << std::strerror(errno);
    }
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace testing_support
}  // namespace hotfix

#endif  // HOTFIX_TESTS_SUPPORT_TEMP_DIR_H_
