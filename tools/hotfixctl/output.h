// tools/hotfixctl/output.h
//
// hotfixctl's output: aligned text tables for people, pretty-printed JSON,
// the error line on stderr, and the mapping from a status to an exit code.
//
// Thread-compatible.

#ifndef HOTFIX_TOOLS_HOTFIXCTL_OUTPUT_H_
#define HOTFIX_TOOLS_HOTFIXCTL_OUTPUT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "rapidjson/document.h"

namespace hotfix {
namespace hotfixctl {

// Collects rows and prints them with columns padded to the widest cell.
class Table {
 public:
  explicit Table(std::vector<std::string> header) {
    rows_.push_back(std::move(header));
  }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  bool empty() const { return rows_.size() <= 1; }
  void Print() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Prints `value` as indented JSON followed by a newline.
void PrintPrettyJson(const rapidjson::Value& value);
// Prints `text` (JSON) pretty when it parses, verbatim otherwise.
void PrintJsonText(const std::string& text);

// The exit code for `status` (args.h).
int ExitCodeFor(const absl::Status& status);
// Prints "hotfixctl: <message>" to stderr and returns ExitCodeFor(status).
int ReportError(const absl::Status& status);

// Member accessors tolerant of absent or mistyped members ("" / 0 / false).
std::string Str(const rapidjson::Value& object, const char* name);
std::uint64_t Uint(const rapidjson::Value& object, const char* name);
bool Bool(const rapidjson::Value& object, const char* name);
// The elements of the array member `name`; none when it is absent or not an
// array.
rapidjson::Value::ConstArray Elements(const rapidjson::Value& object,
                                      const char* name);
// A JSON array of strings joined with `sep`.
std::string Join(const rapidjson::Value& object, const char* name,
                 const char* sep = ",");

}  // namespace hotfixctl
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXCTL_OUTPUT_H_
