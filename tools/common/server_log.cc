// tools/common/server_log.cc

#include "common/server_log.h"

#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/json_util.h"
#include "common/text.h"
#include "util/strings.h"

namespace hotfix {
namespace tools {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kText};

std::mutex& WriteMutex() {
  static std::mutex* const mu = new std::mutex;  // never destroyed
  return *mu;
}

std::string_view SeverityName(LogSeverity s) {
  switch (s) {
    case LogSeverity::kInfo:
      return "info";
    case LogSeverity::kWarning:
      return "warning";
    case LogSeverity::kError:
      return "error";
  }
  return "info";
}

}  // namespace

void SetLogFormat(LogFormat format) { g_format.store(format); }

void ServerLog(LogSeverity severity, std::string_view message,
               std::initializer_list<LogField> fields) {
  const std::string time = FormatTime(absl::ToUnixMicros(absl::Now()));
  std::string line;
  if (g_format.load() == LogFormat::kJson) {
    JsonOut out;
    out.Begin()
        .Str("time", time)
        .Str("level", SeverityName(severity))
        .Str("msg", message);
    for (const auto& [k, v] : fields) out.Str(k, v);
    out.End();
    line = out.Take();
  } else {
    line = absl::StrCat(time, " hotfixd: ");
    if (severity != LogSeverity::kInfo) {
      absl::StrAppend(&line, internal::ToAbsl(SeverityName(severity)), ": ");
    }
    line += SanitizeForLog(message);
    for (const auto& [k, v] : fields) {
      absl::StrAppend(&line, " ", internal::ToAbsl(k), "=", SanitizeForLog(v));
    }
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(WriteMutex());
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace tools
}  // namespace hotfix
