// src/util/enum_names.cc
//
// Names of the public enums, as written in docs/flag-format.md and
// hotfix/status.h.

#include "hotfix/evaluation.h"
#include "hotfix/status.h"
#include "hotfix/value.h"

namespace hotfix {

std::string_view ValueTypeName(ValueType type) noexcept {
  switch (type) {
    case ValueType::kNone:
      return "none";
    case ValueType::kBool:
      return "bool";
    case ValueType::kString:
      return "string";
    case ValueType::kNumber:
      return "number";
    case ValueType::kJson:
      return "json";
  }
  return "unknown";
}

std::string_view ReasonName(Reason reason) noexcept {
  switch (reason) {
    case Reason::kStatic:
      return "STATIC";
    case Reason::kTargetMatch:
      return "TARGET_MATCH";
    case Reason::kRuleMatch:
      return "RULE_MATCH";
    case Reason::kRollout:
      return "ROLLOUT";
    case Reason::kDefault:
      return "DEFAULT";
    case Reason::kKilled:
      return "KILLED";
    case Reason::kPrerequisiteFailed:
      return "PREREQUISITE_FAILED";
    case Reason::kError:
      return "ERROR";
    case Reason::kGuardTripped:
      return "GUARD_TRIPPED";
  }
  return "UNKNOWN";
}

std::string_view ErrorKindName(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::kNone:
      return "NONE";
    case ErrorKind::kFlagNotFound:
      return "FLAG_NOT_FOUND";
    case ErrorKind::kTypeMismatch:
      return "TYPE_MISMATCH";
    case ErrorKind::kNotReady:
      return "NOT_READY";
    case ErrorKind::kMissingBucketKey:
      return "MISSING_BUCKET_KEY";
    case ErrorKind::kGeneral:
      return "GENERAL";
  }
  return "UNKNOWN";
}

std::string_view SnapshotOriginName(SnapshotOrigin origin) noexcept {
  switch (origin) {
    case SnapshotOrigin::kNone:
      return "none";
    case SnapshotOrigin::kBootstrap:
      return "bootstrap";
    case SnapshotOrigin::kCache:
      return "cache";
    case SnapshotOrigin::kFile:
      return "file";
    case SnapshotOrigin::kPoll:
      return "poll";
    case SnapshotOrigin::kStream:
      return "stream";
    case SnapshotOrigin::kTest:
      return "test";
  }
  return "unknown";
}

std::string_view SourceStateName(SourceState state) noexcept {
  switch (state) {
    case SourceState::kInitializing:
      return "initializing";
    case SourceState::kValid:
      return "valid";
    case SourceState::kStale:
      return "stale";
    case SourceState::kError:
      return "error";
    case SourceState::kOff:
      return "off";
  }
  return "unknown";
}

std::string_view RemoteConnectionName(RemoteConnection connection) noexcept {
  switch (connection) {
    case RemoteConnection::kNone:
      return "none";
    case RemoteConnection::kConnecting:
      return "connecting";
    case RemoteConnection::kStreaming:
      return "streaming";
    case RemoteConnection::kPolling:
      return "polling";
  }
  return "unknown";
}

}  // namespace hotfix
