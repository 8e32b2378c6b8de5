// tools/hotfixctl/output.cc

#include "output.h"

#include <algorithm>
#include <cstdio>

#include "args.h"
#include "common/json_util.h"
#include "rapidjson/prettywriter.h"
#include "rapidjson/stringbuffer.h"

namespace hotfix {
namespace hotfixctl {

void Table::Print() const {
  std::vector<std::size_t> widths;
  for (const auto& row : rows_) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  }
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line.append(widths[i] - row[i].size() + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    std::printf("%s\n", line.c_str());
  }
}

void PrintPrettyJson(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> writer(buffer);
  writer.SetIndent(' ', 2);
  value.Accept(writer);
  std::fwrite(buffer.GetString(), 1, buffer.GetSize(), stdout);
  std::fputc('\n', stdout);
}

void PrintJsonText(const std::string& text) {
  rapidjson::Document doc;
  if (tools::ParseJson(text, "reply", &doc).ok()) {
    PrintPrettyJson(doc);
  } else {
    std::printf("%s\n", text.c_str());
  }
}

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return kExitOk;
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
      return kExitAuth;
    case absl::StatusCode::kNotFound:
      return kExitNotFound;
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return kExitConflict;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kInternal:
      return kExitUnavailable;
    default:
      return kExitFailed;
  }
}

int ReportError(const absl::Status& status) {
  std::fprintf(stderr, "hotfixctl: %s\n",
               std::string(status.message()).c_str());
  return ExitCodeFor(status);
}

std::string Str(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* v = tools::FindMember(object, name);
  if (v == nullptr) return "";
  if (v->IsString()) return std::string(v->GetString(), v->GetStringLength());
  if (v->IsNull()) return "";
  return tools::ToJson(*v);
}

std::uint64_t Uint(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* v = tools::FindMember(object, name);
  return v != nullptr && v->IsUint64() ? v->GetUint64() : 0;
}

bool Bool(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* v = tools::FindMember(object, name);
  return v != nullptr && v->IsTrue();
}

rapidjson::Value::ConstArray Elements(const rapidjson::Value& object,
                                      const char* name) {
  static const rapidjson::Value* const kNone =
      new rapidjson::Value(rapidjson::kArrayType);  // never destroyed
  const rapidjson::Value* v = tools::FindMember(object, name);
  return (v != nullptr && v->IsArray() ? v : kNone)->GetArray();
}

std::string Join(const rapidjson::Value& object, const char* name,
                 const char* sep) {
  std::string out;
  for (const rapidjson::Value& item : Elements(object, name)) {
    if (!out.empty()) out += sep;
    out += item.IsString()
               ? std::string(item.GetString(), item.GetStringLength())
               : tools::ToJson(item);
  }
  return out;
}

}  // namespace hotfixctl
}  // namespace hotfix
