// tools/hotfixd/store/columns.h
//
// The columns each store table is read through, written once for both
// backends: a table of (column name, row member) gives the SELECT list and
// decodes a result row into its struct, so the list and the decoder cannot
// drift apart and SQLite and PostgreSQL cannot read a row differently.
//
// Example:
//
//   "SELECT " + ColumnList(kWebhookColumns) + " FROM webhooks ..."
//   WebhookRow w = DecodeRow(fields, kWebhookColumns);
//
// Thread-safe: constant tables and pure functions.

#ifndef HOTFIX_TOOLS_HOTFIXD_STORE_COLUMNS_H_
#define HOTFIX_TOOLS_HOTFIXD_STORE_COLUMNS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>

#include "store/store.h"

namespace hotfix {
namespace hotfixd {

// One column of a table and the member of `R` it fills.
template <typename R, typename T>
struct Column {
  using Row = R;
  const char* name;
  T R::*member;
};

template <typename R, typename T>
constexpr Column<R, T> Col(const char* name, T R::*member) {
  return Column<R, T>{name, member};
}

// The row struct a table of columns fills.
template <typename Columns>
using RowOf = typename std::tuple_element_t<0, Columns>::Row;

inline constexpr auto kEnvironmentColumns =
    std::make_tuple(Col("name", &EnvironmentRow::name),
                    Col("version", &EnvironmentRow::version),
                    Col("created_at", &EnvironmentRow::created_at),
                    Col("updated_at", &EnvironmentRow::updated_at),
                    Col("protected", &EnvironmentRow::protected_env));

// Without the document: listings do not carry it.
inline constexpr auto kVersionColumns = std::make_tuple(
    Col("env", &VersionRow::env), Col("version", &VersionRow::version),
    Col("actor", &VersionRow::actor), Col("reason", &VersionRow::reason),
    Col("created_at", &VersionRow::created_at),
    Col("action", &VersionRow::action), Col("event", &VersionRow::event),
    Col("patch_key", &VersionRow::patch_key),
    Col("patch_flag", &VersionRow::patch_flag),
    Col("changed_keys", &VersionRow::changed_keys),
    Col("sha256", &VersionRow::sha256),
    Col("restored_version", &VersionRow::restored_version));

inline constexpr auto kVersionWithDocumentColumns = std::tuple_cat(
    kVersionColumns, std::make_tuple(Col("document", &VersionRow::document)));

inline constexpr auto kAuditColumns = std::make_tuple(
    Col("id", &AuditRow::id), Col("created_at", &AuditRow::created_at),
    Col("actor", &AuditRow::actor), Col("action", &AuditRow::action),
    Col("env", &AuditRow::env), Col("version", &AuditRow::version),
    Col("reason", &AuditRow::reason), Col("detail", &AuditRow::detail));

inline constexpr auto kTokenColumns = std::make_tuple(
    Col("id", &TokenRow::id), Col("name", &TokenRow::name),
    Col("hash", &TokenRow::hash), Col("scopes", &TokenRow::scopes),
    Col("env", &TokenRow::env), Col("created_at", &TokenRow::created_at),
    Col("created_by", &TokenRow::created_by),
    Col("revoked_at", &TokenRow::revoked_at));

inline constexpr auto kChangeRequestColumns = std::make_tuple(
    Col("id", &ChangeRequestRow::id), Col("env", &ChangeRequestRow::env),
    Col("action", &ChangeRequestRow::action),
    Col("request", &ChangeRequestRow::request),
    Col("diff", &ChangeRequestRow::diff),
    Col("base_version", &ChangeRequestRow::base_version),
    Col("proposer", &ChangeRequestRow::proposer),
    Col("proposer_token_id", &ChangeRequestRow::proposer_token_id),
    Col("reason", &ChangeRequestRow::reason),
    Col("created_at", &ChangeRequestRow::created_at),
    Col("expires_at", &ChangeRequestRow::expires_at),
    Col("state", &ChangeRequestRow::state),
    Col("decided_by", &ChangeRequestRow::decided_by),
    Col("decided_at", &ChangeRequestRow::decided_at),
    Col("comment", &ChangeRequestRow::comment),
    Col("applied_version", &ChangeRequestRow::applied_version));

inline constexpr auto kWebhookColumns = std::make_tuple(
    Col("id", &WebhookRow::id), Col("env", &WebhookRow::env),
    Col("url", &WebhookRow::url), Col("secret", &WebhookRow::secret),
    Col("created_at", &WebhookRow::created_at),
    Col("created_by", &WebhookRow::created_by));

inline constexpr auto kTelemetryColumns = std::make_tuple(
    Col("env", &TelemetryRow::env), Col("flag", &TelemetryRow::flag),
    Col("variant", &TelemetryRow::variant),
    Col("minute", &TelemetryRow::minute),
    Col("exposures", &TelemetryRow::exposures),
    Col("successes", &TelemetryRow::successes),
    Col("failures", &TelemetryRow::failures));

inline constexpr auto kUsageColumns =
    std::make_tuple(Col("flag", &UsageRow::flag),
                    Col("last_evaluated", &UsageRow::last_evaluated));

inline constexpr auto kPlanColumns = std::make_tuple(
    Col("env", &RolloutPlanRow::env), Col("flag", &RolloutPlanRow::flag),
    Col("spec", &RolloutPlanRow::spec), Col("state", &RolloutPlanRow::state),
    Col("stage", &RolloutPlanRow::stage),
    Col("started_at", &RolloutPlanRow::started_at),
    Col("stage_started_at", &RolloutPlanRow::stage_started_at),
    Col("updated_at", &RolloutPlanRow::updated_at),
    Col("created_by", &RolloutPlanRow::created_by),
    Col("judgement", &RolloutPlanRow::judgement));

// ColumnList()
//
// "name, version, ...": the names of `columns` in order, for a SELECT or
// INSERT list.
template <typename Columns>
std::string ColumnList(const Columns& columns) {
  std::string out;
  std::apply(
      [&out](const auto&... column) {
        ((out.append(out.empty() ? "" : ", ").append(column.name)), ...);
      },
      columns);
  return out;
}

namespace internal {

template <typename T, typename Fields>
T ReadField(const Fields& fields, int col) {
  if constexpr (std::is_same_v<T, std::string>) {
    return fields.Text(col);
  } else if constexpr (std::is_same_v<T, std::optional<std::string>>) {
    if (fields.IsNull(col)) return std::nullopt;
    return fields.Text(col);
  } else if constexpr (std::is_same_v<T, bool>) {
    return fields.Bool(col);
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    return fields.Uint(col);
  } else if constexpr (std::is_same_v<T, int>) {
    return static_cast<int>(fields.Int(col));
  } else {
    static_assert(std::is_same_v<T, std::int64_t>, "no reader for this type");
    return fields.Int(col);
  }
}

// Sets the member `column` names in `row` from column `col` of `fields`.
template <typename Fields, typename R, typename T>
void Fill(const Fields& fields, int col, const Column<R, T>& column, R* row) {
  row->*column.member = ReadField<T>(fields, col);
}

}  // namespace internal

// DecodeRow()
//
// The row that a result row holds when it was selected with
// ColumnList(columns). `fields` reads column `col` (from 0) of the current
// result row: Text(col), IsNull(col), Int(col), Uint(col) and Bool(col), each
// "", 0 or false for SQL NULL.
template <typename Fields, typename Columns>
RowOf<Columns> DecodeRow(const Fields& fields, const Columns& columns) {
  RowOf<Columns> row;
  std::apply(
      [&](const auto&... column) {
        int col = 0;
        (internal::Fill(fields, col++, column, &row), ...);
      },
      columns);
  return row;
}

}  // namespace hotfixd
}  // namespace hotfix

#endif  // HOTFIX_TOOLS_HOTFIXD_STORE_COLUMNS_H_
