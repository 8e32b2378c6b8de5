// src/sources/remote_document.cc

#include "sources/remote_document.h"

#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "rapidjson/document.h"
#include "rapidjson/reader.h"
#include "rapidjson/stringbuffer.h"
#include "rapidjson/writer.h"
#include "util/json_parse.h"
#include "util/log.h"
#include "util/strings.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace hotfix {
namespace internal {
namespace {

// For TopLevelVersion's scan: iterative, so hostile nesting cannot exhaust
// the stack. Documents and patches are parsed with util/json_parse.h, whose
// depth limit also bounds the recursion of copying and writing them.
constexpr unsigned kScanFlags = rapidjson::kParseDefaultFlags |
                                rapidjson::kParseValidateEncodingFlag |
                                rapidjson::kParseIterativeFlag;

std::uint64_t Hash(std::string_view text) {
  return XXH3_64bits(text.data(), text.size());
}

// Finds the top-level "version" and stops.
class VersionFinder
    : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, VersionFinder> {
 public:
  bool Default() {  // any other value
    if (depth_ == 1 && at_version_) return false;
    at_version_ = false;
    return true;
  }
  bool Uint(unsigned u) { return Uint64(u); }
  bool Uint64(std::uint64_t u) {
    if (depth_ == 1 && at_version_) {
      version_ = u;
      return false;  // found: stop parsing
    }
    at_version_ = false;
    return true;
  }
  bool Key(const char* s, rapidjson::SizeType n, bool) {
    at_version_ = depth_ == 1 && n == 7 && std::memcmp(s, "version", 7) == 0;
    return true;
  }
  bool StartObject() { return Enter(); }
  bool StartArray() { return Enter(); }
  bool EndObject(rapidjson::SizeType) { return Leave(); }
  bool EndArray(rapidjson::SizeType) { return Leave(); }

  std::optional<std::uint64_t> version() const { return version_; }

 private:
  bool Enter() {
    if (depth_ == 1 && at_version_) return false;  // "version": {...}
    at_version_ = false;
    ++depth_;
    return true;
  }
  bool Leave() {
    --depth_;
    at_version_ = false;
    return true;
  }

  int depth_ = 0;
  bool at_version_ = false;
  std::optional<std::uint64_t> version_;
};

}  // namespace

std::optional<std::uint64_t> TopLevelVersion(std::string_view json) {
  VersionFinder finder;
  rapidjson::Reader reader;
  rapidjson::MemoryStream stream(json.data(), json.size());
  reader.Parse<kScanFlags>(stream, finder);
  return finder.version();
}

RemoteDocument::RemoteDocument(SourceSink* sink, std::shared_ptr<Cache> cache)
    : sink_(sink), cache_(std::move(cache)) {}

std::shared_ptr<RemoteDocument> RemoteDocument::FreshAfterFork() const {
  std::shared_ptr<Cache> cache;
  if (cache_ != nullptr) {
    cache = std::make_shared<Cache>(cache_->path(), cache_->identity());
  }
  return std::make_shared<RemoteDocument>(sink_, std::move(cache));
}

void RemoteDocument::Seed(std::string_view json) {
  const std::optional<std::uint64_t> version = TopLevelVersion(json);
  if (!version.has_value()) return;
  MutexLock lock(&mu_);
  text_ = std::string(json);
  version_ = *version;
  has_document_ = true;
  cached_hash_ = Hash(json);
}

std::uint64_t RemoteDocument::version() const {
  MutexLock lock(&mu_);
  return version_;
}

bool RemoteDocument::has_document() const {
  MutexLock lock(&mu_);
  return has_document_;
}

void RemoteDocument::Clear() {
  MutexLock lock(&mu_);
  text_.clear();
  version_ = 0;
  has_document_ = false;
}

RemoteDocument::Result RemoteDocument::OfferLocked(std::string json,
                                                   std::uint64_t version,
                                                   SnapshotOrigin origin) {
  absl::Status status = sink_->Offer(json, origin, /*require_newer=*/true);
  if (!status.ok()) {
    // Offer refuses an older version with FailedPrecondition; anything else
    // is the compiler's InvalidArgument.
    return Result{absl::IsFailedPrecondition(status) ? Outcome::kOlder
                                                     : Outcome::kRejected,
                  std::move(status)};
  }
  text_ = std::move(json);
  version_ = version;
  has_document_ = true;
  const std::uint64_t hash = Hash(text_);
  if (cache_ != nullptr && hash != cached_hash_) {
    absl::Status stored = cache_->Store(text_);
    if (stored.ok()) {
      cached_hash_ = hash;
      last_cache_error_.clear();
    } else {
      std::string text = stored.ToString();
      if (text != last_cache_error_) {
        Log(LogLevel::kWarning,
            absl::StrCat("last-known-good cache not updated: ", text));
        last_cache_error_ = std::move(text);
      }
    }
  }
  return Result{Outcome::kApplied, absl::OkStatus()};
}

RemoteDocument::Result RemoteDocument::ApplyFull(std::string_view json,
                                                 SnapshotOrigin origin) {
  const std::optional<std::uint64_t> version = TopLevelVersion(json);
  MutexLock lock(&mu_);
  Result result = OfferLocked(std::string(json), version.value_or(0), origin);
  if (result.outcome == Outcome::kApplied && !version.has_value()) {
    // Cannot happen: the compiler requires the version. Forget the document
    // rather than resume from a wrong version.
    has_document_ = false;
  }
  return result;
}

RemoteDocument::Result RemoteDocument::ApplyPatch(std::string_view json,
                                                  SnapshotOrigin origin) {
  auto reject = [](std::string_view why) {
    return Result{Outcome::kRejected, absl::InvalidArgumentError(absl::StrCat(
                                          "patch: ", ToAbsl(why)))};
  };
  rapidjson::Document patch;
  if (absl::Status st = ParseJsonStrict(json, &patch, "patch"); !st.ok()) {
    return Result{Outcome::kRejected, std::move(st)};
  }
  if (!patch.IsObject()) return reject("expected an object");
  const auto version_it = patch.FindMember("version");
  const auto base_it = patch.FindMember("base_version");
  const auto key_it = patch.FindMember("key");
  const auto flag_it = patch.FindMember("flag");
  const auto deleted_it = patch.FindMember("deleted");
  if (version_it == patch.MemberEnd() || !version_it->value.IsUint64()) {
    return reject("\"version\": expected an unsigned integer");
  }
  if (base_it == patch.MemberEnd() || !base_it->value.IsUint64()) {
    return reject("\"base_version\": expected an unsigned integer");
  }
  if (key_it == patch.MemberEnd() || !key_it->value.IsString() ||
      key_it->value.GetStringLength() == 0) {
    return reject("\"key\": expected a non-empty string");
  }
  const bool deleted = deleted_it != patch.MemberEnd() &&
                       deleted_it->value.IsBool() &&
                       deleted_it->value.GetBool();
  if (deleted_it != patch.MemberEnd() && !deleted_it->value.IsBool()) {
    return reject("\"deleted\": expected a boolean");
  }
  const bool has_flag = flag_it != patch.MemberEnd();
  if (deleted == has_flag) {
    return reject("expected exactly one of \"flag\" and \"deleted\": true");
  }
  if (has_flag && !flag_it->value.IsObject()) {
    return reject("\"flag\": expected an object");
  }
  const std::uint64_t version = version_it->value.GetUint64();
  const std::uint64_t base = base_it->value.GetUint64();
  const std::string key(key_it->value.GetString(),
                        key_it->value.GetStringLength());
  if (version <= base) {
    return reject(absl::StrCat("version ", version,
                               " does not follow base_version ", base));
  }

  MutexLock lock(&mu_);
  if (!has_document_) {
    return Result{Outcome::kGap,
                  absl::FailedPreconditionError(absl::StrCat(
                      "patch ", base, " -> ", version, " with no document"))};
  }
  if (version <= version_) {
    return Result{Outcome::kUnchanged, absl::OkStatus()};  // a duplicate
  }
  if (base != version_) {
    return Result{Outcome::kGap, absl::FailedPreconditionError(absl::StrCat(
                                     "patch ", base, " -> ", version,
                                     " does not follow version ", version_))};
  }
  rapidjson::Document doc;
  const bool parsed = ParseJsonStrict(text_, &doc).ok();
  auto flags_it =
      parsed && doc.IsObject() ? doc.FindMember("flags") : doc.MemberEnd();
  if (!parsed || flags_it == doc.MemberEnd() || !flags_it->value.IsObject()) {
    // The stored text compiled, so this cannot happen; re-sync if it does.
    has_document_ = false;
    return Result{Outcome::kGap,
                  absl::InternalError("stored document no longer parses")};
  }
  auto& allocator = doc.GetAllocator();
  rapidjson::Value& flags = flags_it->value;
  const rapidjson::Value name(key.data(),
                              static_cast<rapidjson::SizeType>(key.size()));
  auto existing = flags.FindMember(name);
  if (deleted) {
    if (existing != flags.MemberEnd()) flags.EraseMember(existing);
  } else if (existing != flags.MemberEnd()) {
    existing->value.CopyFrom(flag_it->value, allocator);
  } else {
    flags.AddMember(
        rapidjson::Value(key.data(),
                         static_cast<rapidjson::SizeType>(key.size()),
                         allocator),
        rapidjson::Value(flag_it->value, allocator), allocator);
  }
  doc["version"].SetUint64(version);
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  doc.Accept(writer);
  Result result = OfferLocked(std::string(buffer.GetString(), buffer.GetSize()),
                              version, origin);
  if (!result.error.ok()) {
    result.error =
        absl::Status(result.error.code(),
                     absl::StrCat("patch of \"", key, "\" (version ", version,
                                  "): ", result.error.message()));
  }
  return result;
}

RemoteDocument::Result RemoteDocument::CheckHeartbeat(
    std::string_view json) const {
  const std::optional<std::uint64_t> server = TopLevelVersion(json);
  if (!server.has_value()) return Result{Outcome::kUnchanged, absl::OkStatus()};
  MutexLock lock(&mu_);
  if (!has_document_) {
    return Result{Outcome::kGap, absl::FailedPreconditionError(absl::StrCat(
                                     "heartbeat at version ", *server,
                                     " but no put received"))};
  }
  if (*server > version_) {
    return Result{Outcome::kGap, absl::FailedPreconditionError(absl::StrCat(
                                     "heartbeat reports version ", *server,
                                     " but the client has ", version_))};
  }
  return Result{Outcome::kUnchanged, absl::OkStatus()};
}

}  // namespace internal
}  // namespace hotfix
