// tests/fuzz/request_body_fuzzer.cc
//
// libFuzzer target for what hotfixd reads from a request before any handler
// logic: the write envelope (body JSON whatever its shape, the reason, the
// allowed fields), If-Match and If-None-Match values, and the query string.
// Checks: no crash, and every refusal is InvalidArgument (a 400, never a
// 500). Seed corpus: tests/fuzz/corpus/request/.
//
//   request_body_fuzzer -max_total_time=30 tests/fuzz/corpus/request

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "api/write.h"
#include "http/request.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data,
                                      std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  using hotfix::hotfixd::HttpRequest;
  // The whole input as a body.
  HttpRequest request;
  request.body = std::string(input);
  auto body = hotfix::hotfixd::ParseWriteBody(request, {"flag", "percent"});
  if (!body.ok()) {
    Check(body.status().code() == absl::StatusCode::kInvalidArgument);
  } else {
    Check(body->json.IsObject());
    Check(!body->reason.empty());
  }
  // The first line as header values, the rest as a query string.
  const std::size_t eol = input.find('\n');
  const std::string line(input.substr(0, eol));
  HttpRequest headers;
  headers.headers = {
      {"if-match", line}, {"if-none-match", line}, {"x-hotfix-reason", line}};
  auto if_match = hotfix::hotfixd::ParseIfMatch(headers, "production");
  if (!if_match.ok()) {
    Check(if_match.status().code() == absl::StatusCode::kInvalidArgument);
  }
  hotfix::hotfixd::IfNoneMatchHits(headers, "\"production-1\"");
  auto reason_only = hotfix::hotfixd::ParseWriteBody(headers, {});
  if (!reason_only.ok()) {
    Check(reason_only.status().code() == absl::StatusCode::kInvalidArgument);
  }
  std::vector<std::pair<std::string, std::string>> query;
  if (eol != std::string_view::npos) {
    hotfix::hotfixd::ParseQuery(input.substr(eol + 1), &query);
  }
  return 0;
}
