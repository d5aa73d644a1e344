#include "api/meta/condition.h"

#include <algorithm>

namespace rio::meta {

const std::vector<std::pair<ConditionStatus, std::string_view>>&
EnumTraits<ConditionStatus>::values() {
  static const std::vector<std::pair<ConditionStatus, std::string_view>> kValues = {
      {ConditionStatus::kTrue, "True"},
      {ConditionStatus::kFalse, "False"},
      {ConditionStatus::kUnknown, "Unknown"},
  };
  return kValues;
}

std::string_view toString(ConditionStatus status) { return enumName(status); }

const FieldTable<Condition>& Condition::fields() {
  static const FieldTable<Condition> kTable = {
      field("type", &Condition::type, {.required = true, .format = StringFormat::kConditionType}),
      field("status", &Condition::status, {.required = true}),
      field("observedGeneration", &Condition::observedGeneration, {.minimum = 0}),
      field("lastTransitionTime", &Condition::lastTransitionTime, {.required = true}),
      field("reason", &Condition::reason,
            {.required = true, .format = StringFormat::kConditionReason}),
      field("message", &Condition::message,
            {.required = true, .maxLength = kMaxConditionMessageBytes}),
  };
  return kTable;
}

bool setCondition(std::vector<Condition>& conditions, Condition condition,
                  std::chrono::system_clock::time_point now) {
  if (condition.message.size() > kMaxConditionMessageBytes) {
    condition.message = truncateUtf8(condition.message, kMaxConditionMessageBytes);
  }
  Condition* existing = findCondition(conditions, condition.type);
  if (existing == nullptr) {
    condition.lastTransitionTime = toTime(now);
    conditions.push_back(std::move(condition));
    return true;
  }
  bool changed = false;
  if (existing->status != condition.status) {
    existing->status = condition.status;
    existing->lastTransitionTime = toTime(now);
    changed = true;
  }
  if (existing->reason != condition.reason) {
    existing->reason = std::move(condition.reason);
    changed = true;
  }
  if (existing->message != condition.message) {
    existing->message = std::move(condition.message);
    changed = true;
  }
  if (existing->observedGeneration != condition.observedGeneration) {
    existing->observedGeneration = condition.observedGeneration;
    changed = true;
  }
  return changed;
}

const Condition* findCondition(const std::vector<Condition>& conditions, std::string_view type) {
  for (const auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

Condition* findCondition(std::vector<Condition>& conditions, std::string_view type) {
  for (auto& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool isConditionTrue(const std::vector<Condition>& conditions, std::string_view type) {
  const Condition* c = findCondition(conditions, type);
  return c != nullptr && c->status == ConditionStatus::kTrue;
}

bool removeCondition(std::vector<Condition>& conditions, std::string_view type) {
  const auto before = conditions.size();
  std::erase_if(conditions, [type](const Condition& c) { return c.type == type; });
  return conditions.size() != before;
}

}  // namespace rio::meta
