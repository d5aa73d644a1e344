#include "test/testenv/rbac_rules.h"

#include <catch2/catch.hpp>

using namespace rio::testenv::rbac;
using nlohmann::json;

TEST_CASE("RBAC rules: a rule reads from and writes back to the v1 JSON shape",
          "[testenv][rbac][rules]") {
  json j = {{"apiGroups", {""}},
            {"resources", {"secrets"}},
            {"resourceNames", {"a"}},
            {"verbs", {"get"}}};
  PolicyRule r = PolicyRule::fromJson(j);
  CHECK(r == PolicyRule{{"get"}, {""}, {"secrets"}, {"a"}, {}});
  CHECK(r.toJson() == j);
  CHECK(PolicyRule::fromJson(json{{"verbs", "get"}, {"apiGroups", {1, ""}}}) ==
        PolicyRule{{}, {""}, {}, {}, {}});
  CHECK(rulesOf(json{{"rules", nullptr}}).empty());
}

TEST_CASE("RBAC rules: breakdown splits a rule into one-verb, one-resource, one-name parts",
          "[testenv][rbac][rules]") {
  PolicyRule r{{"get", "list"}, {"", "apps"}, {"deployments"}, {}, {}};
  CHECK(breakdownRule(r).size() == 4);
  PolicyRule named{{"get"}, {""}, {"secrets"}, {"a", "b"}, {}};
  CHECK(breakdownRule(named) ==
        std::vector<PolicyRule>{PolicyRule{{"get"}, {""}, {"secrets"}, {"a"}, {}},
                                PolicyRule{{"get"}, {""}, {"secrets"}, {"b"}, {}}});
  PolicyRule urls{{"get", "post"}, {}, {}, {}, {"/a"}};
  CHECK(breakdownRule(urls).size() == 2);
}

TEST_CASE("RBAC rules: missing permissions are compacted by resource and printed like Go",
          "[testenv][rbac][rules]") {
  std::vector<PolicyRule> missing = {
      PolicyRule{{"get"}, {""}, {"pods"}, {}, {}},
      PolicyRule{{"list"}, {""}, {"pods"}, {}, {}},
      PolicyRule{{"get"}, {""}, {"secrets"}, {"x"}, {}},
      PolicyRule{{"get"}, {}, {}, {}, {"/metrics"}},
  };
  auto compact = compactRules(missing);
  REQUIRE(compact.size() == 3);
  CHECK(compactString(compact[0]) == R"({NonResourceURLs:["/metrics"], Verbs:["get"]})");
  std::vector<std::string> printed;
  for (std::size_t i = 1; i < compact.size(); ++i) printed.push_back(compactString(compact[i]));
  std::sort(printed.begin(), printed.end());
  CHECK(printed ==
        std::vector<std::string>{
            R"({APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]})",
            R"({APIGroups:[""], Resources:["secrets"], ResourceNames:["x"], Verbs:["get"]})"});
}

TEST_CASE("RBAC rules: Go quoting escapes quotes, backslashes and control characters",
          "[testenv][rbac][rules]") {
  CHECK(goQuote("plain") == R"("plain")");
  CHECK(goQuote("a\"b\\c") == R"("a\"b\\c")");
  CHECK(goQuote(std::string("tab\tnl\nnul") + '\0') == R"("tab\tnl\nnul\x00")");
  CHECK(goQuoteList({"a", "b"}) == R"(["a" "b"])");
  CHECK(goQuoteList({}) == "[]");
}

TEST_CASE("RBAC rules: label selectors follow metav1.LabelSelector semantics",
          "[testenv][rbac][rules]") {
  json labels = {{"tier", "a"}, {"agg", "true"}};
  CHECK(labelSelectorMatches(json::object(), labels));  // empty selects everything
  CHECK_FALSE(labelSelectorMatches(nullptr, labels));   // null selects nothing
  CHECK(labelSelectorMatches(json{{"matchLabels", {{"agg", "true"}}}}, labels));
  CHECK_FALSE(labelSelectorMatches(json{{"matchLabels", {{"agg", "false"}}}}, labels));
  auto expr = [](const char* key, const char* op, std::vector<std::string> values) {
    json e = {{"key", key}, {"operator", op}};
    if (!values.empty()) e["values"] = values;
    return json{{"matchExpressions", json::array({e})}};
  };
  CHECK(labelSelectorMatches(expr("tier", "In", {"a", "b"}), labels));
  CHECK_FALSE(labelSelectorMatches(expr("tier", "NotIn", {"a"}), labels));
  CHECK(labelSelectorMatches(expr("missing", "NotIn", {"a"}), labels));
  CHECK(labelSelectorMatches(expr("tier", "Exists", {}), labels));
  CHECK(labelSelectorMatches(expr("missing", "DoesNotExist", {}), labels));
  CHECK_FALSE(labelSelectorMatches(expr("tier", "In", {}), labels));     // invalid
  CHECK_FALSE(labelSelectorMatches(expr("tier", "Gt", {"1"}), labels));  // unknown operator
  CHECK_FALSE(labelSelectorMatches(json{{"matchLabels", {{"agg", "true"}}}}, nullptr));
}
