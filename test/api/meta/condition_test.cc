#include "api/meta/condition.h"

#include <catch2/catch.hpp>

#include "api/meta/fields.h"

using namespace std::chrono;
namespace meta = rio::meta;
using meta::Condition;
using meta::ConditionStatus;

namespace {

const sys_seconds kT0 = sys_days{year{2026} / 11 / 25} + hours{18};

Condition ready(ConditionStatus status, std::string reason, std::string message = "",
                int64_t gen = 1) {
  Condition c;
  c.type = "Ready";
  c.status = status;
  c.reason = std::move(reason);
  c.message = std::move(message);
  c.observedGeneration = gen;
  return c;
}

}  // namespace

TEST_CASE("Condition: a new condition is added with lastTransitionTime = now", "[api][condition]") {
  std::vector<Condition> conditions;
  CHECK(meta::setCondition(conditions, ready(ConditionStatus::kFalse, "Progressing"), kT0));
  REQUIRE(conditions.size() == 1);
  CHECK(conditions[0].lastTransitionTime == kT0);
  CHECK(meta::findCondition(conditions, "Ready") == &conditions[0]);
  CHECK(meta::findCondition(conditions, "Connected") == nullptr);
}

TEST_CASE("Condition: lastTransitionTime moves only when the status flips", "[api][condition]") {
  std::vector<Condition> conditions;
  meta::setCondition(conditions, ready(ConditionStatus::kFalse, "Progressing", "waiting"), kT0);

  SECTION("same status, new reason and message: changed, time kept") {
    CHECK(meta::setCondition(conditions, ready(ConditionStatus::kFalse, "ReplicasNotReady", "0/1"),
                             kT0 + minutes{5}));
    CHECK(conditions[0].lastTransitionTime == kT0);
    CHECK(conditions[0].reason == "ReplicasNotReady");
    CHECK(conditions[0].message == "0/1");
  }
  SECTION("status flips: time moves to now") {
    CHECK(meta::setCondition(conditions, ready(ConditionStatus::kTrue, "Reconciled"),
                             kT0 + minutes{7}));
    CHECK(conditions[0].lastTransitionTime == kT0 + minutes{7});
    CHECK(conditions[0].status == ConditionStatus::kTrue);
  }
  SECTION("nothing differs: reports no change, so the reconciler writes nothing") {
    CHECK_FALSE(meta::setCondition(
        conditions, ready(ConditionStatus::kFalse, "Progressing", "waiting"), kT0 + hours{1}));
    CHECK(conditions[0].lastTransitionTime == kT0);
  }
  SECTION("only observedGeneration differs: changed, time kept") {
    CHECK(meta::setCondition(
        conditions, ready(ConditionStatus::kFalse, "Progressing", "waiting", 2), kT0 + hours{1}));
    CHECK(conditions[0].observedGeneration == 2);
    CHECK(conditions[0].lastTransitionTime == kT0);
  }
  SECTION("the caller's lastTransitionTime is ignored") {
    Condition c = ready(ConditionStatus::kFalse, "Other");
    c.lastTransitionTime = kT0 + hours{100};
    meta::setCondition(conditions, c, kT0 + minutes{1});
    CHECK(conditions[0].lastTransitionTime == kT0);
  }
  SECTION("sub-second clocks are truncated to the second") {
    meta::setCondition(conditions, ready(ConditionStatus::kTrue, "Reconciled"),
                       system_clock::time_point(kT0 + seconds{3}) + milliseconds{900});
    CHECK(conditions[0].lastTransitionTime == kT0 + seconds{3});
  }
}

TEST_CASE("Condition: other types are left alone; remove and isTrue work by type",
          "[api][condition]") {
  std::vector<Condition> conditions;
  Condition connected = ready(ConditionStatus::kTrue, "Reconciled");
  connected.type = "Connected";
  meta::setCondition(conditions, connected, kT0);
  meta::setCondition(conditions, ready(ConditionStatus::kFalse, "Progressing"), kT0 + minutes{1});
  CHECK(conditions.size() == 2);
  CHECK(meta::isConditionTrue(conditions, "Connected"));
  CHECK_FALSE(meta::isConditionTrue(conditions, "Ready"));
  CHECK_FALSE(meta::isConditionTrue(conditions, "Missing"));
  CHECK(conditions[0].lastTransitionTime == kT0);
  CHECK(meta::removeCondition(conditions, "Connected"));
  CHECK_FALSE(meta::removeCondition(conditions, "Connected"));
  CHECK(conditions.size() == 1);
}

TEST_CASE("Condition: a huge message is cut to the schema limit", "[api][condition]") {
  std::vector<Condition> conditions;
  meta::setCondition(conditions,
                     ready(ConditionStatus::kFalse, "ApplyFailed", std::string(40000, 'x')), kT0);
  CHECK(conditions[0].message.size() == meta::kMaxConditionMessageBytes);
}

TEST_CASE("Condition: JSON round trip in the metav1.Condition shape", "[api][condition]") {
  // As recorded in reference/kube-apiserver-1.32/cr-status-patch.txt, plus observedGeneration.
  const auto j = nlohmann::json::parse(R"({"lastTransitionTime":"2026-01-01T00:00:00Z","message":"",
      "reason":"Ok","status":"True","type":"Ready","observedGeneration":3})");
  Condition c;
  meta::FieldErrors errors;
  REQUIRE(meta::decodeInto(j, c, meta::FieldPath("status.conditions[0]"), errors));
  CHECK(errors.empty());
  CHECK(c.status == ConditionStatus::kTrue);
  CHECK(c.observedGeneration == 3);
  CHECK(meta::formatTime(c.lastTransitionTime) == "2026-01-01T00:00:00Z");
  CHECK(meta::encode(c) == j);

  Condition fresh = ready(ConditionStatus::kUnknown, "Pending");
  fresh.observedGeneration = 0;
  const auto out = meta::encode(fresh);
  CHECK(out.contains("message"));  // required by the schema even when empty
  CHECK(out.contains("lastTransitionTime"));
  CHECK_FALSE(out.contains("observedGeneration"));
  CHECK(out["status"] == "Unknown");
}

TEST_CASE("Condition: bad input names each bad field", "[api][condition]") {
  const auto j =
      nlohmann::json::parse(R"({"type":"Ready","status":"Yes","lastTransitionTime":"yesterday",
      "message":5})");
  Condition c;
  meta::FieldErrors errors;
  CHECK_FALSE(meta::decodeInto(j, c, meta::FieldPath("status.conditions[0]"), errors));
  CHECK(errors.hasField("status.conditions[0].status"));
  CHECK(errors.hasField("status.conditions[0].lastTransitionTime"));
  CHECK(errors.hasField("status.conditions[0].message"));
  CHECK(errors.hasField("status.conditions[0].reason"));  // missing, required
}

TEST_CASE("Condition: the reasons we define are valid for the schema", "[api][condition]") {
  Condition c = ready(ConditionStatus::kFalse, "InvalidSpec", "spec.x: bad");
  c.lastTransitionTime = kT0;
  meta::FieldErrors errors;
  meta::validateFields(c, meta::FieldPath("c"), errors);
  CHECK(errors.empty());
  c.reason = "not a reason!";
  meta::validateFields(c, meta::FieldPath("c"), errors);
  CHECK(errors.hasField("c.reason"));
}
