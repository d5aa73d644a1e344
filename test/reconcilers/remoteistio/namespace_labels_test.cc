#include "reconcilers/remoteistio/namespace_labels.h"

#include <catch2/catch.hpp>

#include "reconcilers/desired/labels.h"

using namespace rio;
using namespace rio::reconcilers::remoteistio;
using nlohmann::json;

namespace {

cache::ObjectPtr ns(const std::string& name, json labels = json::object(),
                    bool terminating = false) {
  json n = {{"kind", "Namespace"}, {"metadata", {{"name", name}, {"labels", labels}}}};
  if (terminating) n["status"] = {{"phase", "Terminating"}};
  return std::make_shared<const json>(n);
}

const json kOurs = {{"istio-injection", "enabled"},
                    {"istio.alibabacloud.com/injection-managed", "true"}};

}  // namespace

TEST_CASE(
    "namespace labels: listed namespaces without the label are labelled, others are left alone",
    "[remoteistio]") {
  auto plan = planNamespaceLabels(
      {"shop", "default", "users", "later", "legacy", "gone"},
      {ns("default"), ns("shop", kOurs), ns("users", {{"istio-injection", "enabled"}}),
       ns("legacy", {{"istio-injection", "disabled"}}), ns("gone", {}, true), ns("kube-system")});
  CHECK(plan.toLabel == std::vector<std::string>{"default"});
  CHECK(plan.labeled == std::vector<std::string>{"shop"});
  CHECK(plan.labeledByOthers == std::vector<std::string>{"users"});
  CHECK(plan.missing == std::vector<std::string>{"gone", "later"});
  REQUIRE(plan.conflicts.size() == 1);
  CHECK(plan.conflicts[0] == std::pair<std::string, std::string>{"legacy", "disabled"});
  CHECK(plan.toUnlabel.empty());
}

TEST_CASE("namespace labels: only namespaces carrying the operator's marker are ever unlabelled",
          "[remoteistio]") {
  auto plan = planNamespaceLabels({"default"}, {ns("default", kOurs), ns("shop", kOurs),
                                                ns("users", {{"istio-injection", "enabled"}})});
  CHECK(plan.toUnlabel == std::vector<std::string>{"shop"});
  CHECK(plan.labeled == std::vector<std::string>{"default"});
  CHECK(plan.labeledByOthers.empty());  // users is not listed, and not ours: untouched

  auto deleting = planNamespaceLabels(
      {}, {ns("default", kOurs), ns("users", {{"istio-injection", "enabled"}})});
  CHECK(deleting.toUnlabel == std::vector<std::string>{"default"});
}

TEST_CASE("namespace labels: the marker without the label gets the label back", "[remoteistio]") {
  auto plan = planNamespaceLabels(
      {"default"}, {ns("default", {{"istio.alibabacloud.com/injection-managed", "true"}})});
  CHECK(plan.toLabel == std::vector<std::string>{"default"});
}

TEST_CASE("namespace labels: apply bodies carry exactly the two labels, or none", "[remoteistio]") {
  json label = labelApply("shop");
  CHECK(label["metadata"]["labels"] == kOurs);
  CHECK(label["kind"] == "Namespace");
  json unlabel = unlabelApply("shop");
  CHECK_FALSE(unlabel["metadata"].contains("labels"));
  CHECK(unlabel["metadata"]["name"] == "shop");
}
