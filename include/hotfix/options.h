// include/hotfix/options.h
//
// Options for creating a Client: where flags come from and how the client
// behaves while it has none. Plain structs; every field says its default.

#ifndef HOTFIX_OPTIONS_H_
#define HOTFIX_OPTIONS_H_

#include <cstddef>
#include <string>

#include "absl/time/time.h"
#include "hotfix/snapshot.h"

namespace hotfix {

struct FileSourceOptions {
  // Path of a native flag-set document. Empty: no file source. Default: "".
  std::string path;
  // How often the file's identity (inode, size, mtime) is checked; a change
  // triggers a reload. A bad edit is reported in status() and the last good
  // snapshot stays. Default: 500 ms. Zero: load once, never watch.
  absl::Duration poll_interval = absl::Milliseconds(500);
  // Files larger than this are rejected. Default: 16 MiB.
  std::size_t max_bytes = std::size_t{16} << 20;
};

struct ClientOptions {
  // Flag set compiled into the client at creation (an embedded JSON string),
  // served until a source delivers something. Must be valid if non-empty:
  // Client::Create fails otherwise. Default: "" (no bootstrap).
  std::string bootstrap_json;
  // Load `bootstrap_json` from this file instead (read once at creation).
  // Default: "".
  std::string bootstrap_path;
  // Local file source (reloaded on change). Default: none.
  FileSourceOptions file;
  // Compiler options for every document this client compiles.
  // Default: CompileOptions{} (unknown operators rejected).
  CompileOptions compile;
};

}  // namespace hotfix

#endif  // HOTFIX_OPTIONS_H_
