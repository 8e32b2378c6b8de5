// tools/hotfixd/store/pg_conn.cc

#include "store/pg_conn.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>
#include <utility>
#include <variant>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace hotfix {
namespace hotfixd {
namespace {

// libpq's messages span lines ("...\n\tIs the server running...?\n"): one
// line, single spaces.
std::string Message(const char* text) {
  std::string out;
  bool space = false;
  for (const char* p = text != nullptr ? text : ""; *p != '\0'; ++p) {
    const bool white = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
    if (white) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(*p);
  }
  return out.empty() ? "unknown error" : out;
}

bool IsConnectionState(const char* sqlstate) {
  if (sqlstate == nullptr) return false;
  return absl::StartsWith(sqlstate, "08") ||   // connection exception
         absl::StartsWith(sqlstate, "57P") ||  // shutdown, cannot connect now
         std::strcmp(sqlstate, "53300") == 0;  // too many connections
}

void IgnoreNotice(void*, const char*) {}

}  // namespace

void PgParams::Add(const SqlArg& arg) {
  const SqlArg::Value& v = arg.value();
  if (const auto* text = std::get_if<std::string>(&v)) {
    values_.emplace_back(*text);
  } else if (const auto* i = std::get_if<std::int64_t>(&v)) {
    values_.emplace_back(std::to_string(*i));
  } else if (const auto* u = std::get_if<std::uint64_t>(&v)) {
    values_.emplace_back(std::to_string(*u));
  } else if (const auto* b = std::get_if<bool>(&v)) {
    values_.emplace_back(*b ? "true" : "false");
  } else {
    values_.emplace_back(std::nullopt);  // NULL
  }
}

PgResult::~PgResult() {
  if (result_ != nullptr) PQclear(result_);
}

PgResult& PgResult::operator=(PgResult&& other) noexcept {
  if (this != &other) {
    if (result_ != nullptr) PQclear(result_);
    result_ = other.result_;
    other.result_ = nullptr;
  }
  return *this;
}

int PgResult::rows() const { return PQntuples(result_); }

int PgResult::affected() const { return std::atoi(PQcmdTuples(result_)); }

std::string PgResult::Text(int row, int col) const {
  return std::string(PQgetvalue(result_, row, col),
                     static_cast<std::size_t>(PQgetlength(result_, row, col)));
}

bool PgResult::IsNull(int row, int col) const {
  return PQgetisnull(result_, row, col) != 0;
}

std::int64_t PgResult::Int(int row, int col) const {
  return IsNull(row, col)
             ? 0
             : std::strtoll(PQgetvalue(result_, row, col), nullptr, 10);
}

std::uint64_t PgResult::Uint(int row, int col) const {
  return static_cast<std::uint64_t>(Int(row, col));
}

bool PgResult::Bool(int row, int col) const {
  return !IsNull(row, col) && PQgetvalue(result_, row, col)[0] == 't';
}

absl::StatusOr<std::unique_ptr<PgConnection>> PgConnection::Connect(
    const std::string& url, const std::string& describe) {
  // Defaults first; `dbname` (the URL, expanded) and what it says override
  // them. Then what hotfixd always needs.
  const char* keys[] = {"connect_timeout",
                        "keepalives",
                        "keepalives_idle",
                        "keepalives_interval",
                        "keepalives_count",
                        "tcp_user_timeout",
                        "dbname",
                        "application_name",
                        nullptr};
  const char* values[] = {"5",     "1",         "5",       "2",    "3",
                          "15000", url.c_str(), "hotfixd", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, /*expand_dbname=*/1);
  if (conn == nullptr) {
    return absl::UnavailableError(absl::StrCat(
        "the database (", describe, ") is unavailable: out of memory"));
  }
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = Message(PQerrorMessage(conn));
    PQfinish(conn);
    return absl::UnavailableError(absl::StrCat("the database (", describe,
                                               ") is unavailable: ", message));
  }
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  std::unique_ptr<PgConnection> c(new PgConnection(conn, describe));
  // Acknowledged means durable: whatever the server's default is.
  auto set = c->Exec("SET synchronous_commit", "SET synchronous_commit = on");
  if (!set.ok()) return set.status();
  return c;
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::broken() const { return PQstatus(conn_) != CONNECTION_OK; }

absl::StatusOr<PgResult> PgConnection::Exec(const char* what,
                                            const std::string& sql,
                                            const PgParams& params) {
  const auto& values = params.values();
  std::vector<const char*> raw;
  raw.reserve(values.size());
  for (const auto& v : values)
    raw.push_back(v.has_value() ? v->c_str() : nullptr);
  return Check(what, PgResult(PQexecParams(
                         conn_, sql.c_str(), static_cast<int>(raw.size()),
                         nullptr, raw.data(), nullptr, nullptr, 0)));
}

absl::StatusOr<PgResult> PgConnection::ExecScript(const char* what,
                                                  const std::string& sql) {
  return Check(what, PgResult(PQexec(conn_, sql.c_str())));
}

absl::StatusOr<PgResult> PgConnection::Check(const char* what,
                                             PgResult result) {
  const PGresult* r = result.get();
  const ExecStatusType st =
      r != nullptr ? PQresultStatus(r) : PGRES_FATAL_ERROR;
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return result;
  const char* sqlstate =
      r != nullptr ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  const std::string message =
      Message(r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(conn_));
  if (r == nullptr || broken() || IsConnectionState(sqlstate)) {
    return absl::UnavailableError(absl::StrCat("the database (", describe_,
                                               ") is unavailable: ", what, ": ",
                                               message));
  }
  const std::string text = absl::StrCat("postgres: ", what, ": ", message);
  if (sqlstate != nullptr && std::strcmp(sqlstate, "23505") == 0) {
    return absl::AlreadyExistsError(text);
  }
  if (sqlstate != nullptr && (std::strcmp(sqlstate, "40001") == 0 ||
                              std::strcmp(sqlstate, "40P01") == 0)) {
    return absl::AbortedError(text);
  }
  return absl::InternalError(text);
}

std::string DescribePostgresUrl(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    if (error != nullptr) PQfreemem(error);
    return "postgres://(unparsable URL)";
  }
  std::string user, host, port, dbname;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (o->val == nullptr) continue;
    if (std::strcmp(o->keyword, "user") == 0) user = o->val;
    if (std::strcmp(o->keyword, "host") == 0) host = o->val;
    if (std::strcmp(o->keyword, "port") == 0) port = o->val;
    if (std::strcmp(o->keyword, "dbname") == 0) dbname = o->val;
  }
  PQconninfoFree(options);
  return absl::StrCat("postgres://", user, user.empty() ? "" : "@",
                      host.empty() ? "localhost" : host,
                      port.empty() ? "" : ":", port, "/", dbname);
}

}  // namespace hotfixd
}  // namespace hotfix
