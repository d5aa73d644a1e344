// metav1.Condition: the shape of every status condition this operator writes, and the rules for
// changing one (lastTransitionTime moves only when the status flips).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/meta/fields.h"
#include "api/meta/time.h"

namespace rio::meta {

enum class ConditionStatus { kTrue, kFalse, kUnknown };

template <>
struct EnumTraits<ConditionStatus> {
  static const std::vector<std::pair<ConditionStatus, std::string_view>>& values();
};

/// "True", "False" or "Unknown".
std::string_view toString(ConditionStatus status);

/// Longest message a condition may carry (the metav1.Condition schema limit).
inline constexpr std::size_t kMaxConditionMessageBytes = 32768;

/// One status condition (metav1.Condition).
struct Condition {
  std::string type;  // "Ready"
  ConditionStatus status = ConditionStatus::kUnknown;
  int64_t observedGeneration = 0;  // metadata.generation the condition was computed from
  Time lastTransitionTime{};       // when status last changed
  std::string reason;              // CamelCase: "InvalidSpec"
  std::string message;             // human readable; may be empty
  nlohmann::json unknownFields = nlohmann::json::object();

  static const FieldTable<Condition>& fields();
  bool operator==(const Condition&) const = default;

  /// A condition to pass to setCondition() (its lastTransitionTime is set there).
  static Condition make(std::string_view type, ConditionStatus status, std::string_view reason,
                        std::string message, int64_t observedGeneration) {
    Condition c;
    c.type = std::string(type);
    c.status = status;
    c.reason = std::string(reason);
    c.message = std::move(message);
    c.observedGeneration = observedGeneration;
    return c;
  }
};

/// Sets `condition` in `conditions` (keyed by type), as apimachinery's meta.SetStatusCondition:
/// a new type is appended with lastTransitionTime = now; for an existing type, status, reason,
/// message and observedGeneration are updated and lastTransitionTime moves to `now` only when
/// the status flips. The caller's condition.lastTransitionTime is ignored. Messages longer than
/// kMaxConditionMessageBytes are cut at a UTF-8 boundary. Returns true when anything changed,
/// so a reconciler can skip a status write when nothing did.
bool setCondition(std::vector<Condition>& conditions, Condition condition,
                  std::chrono::system_clock::time_point now);

/// The condition of that type, or nullptr. The pointer is valid until `conditions` changes.
const Condition* findCondition(const std::vector<Condition>& conditions, std::string_view type);
Condition* findCondition(std::vector<Condition>& conditions, std::string_view type);

/// True when a condition of that type exists with status True.
bool isConditionTrue(const std::vector<Condition>& conditions, std::string_view type);

/// Removes the condition of that type; true when one was removed.
bool removeCondition(std::vector<Condition>& conditions, std::string_view type);

}  // namespace rio::meta
