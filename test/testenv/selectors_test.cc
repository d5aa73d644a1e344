// Label/field selectors, the JSONPath subset, YAML decoding and small object helpers.
#include "test/testenv/selectors.h"

#include <catch2/catch.hpp>

#include "test/testenv/json_path.h"
#include "test/testenv/object_util.h"

using namespace rio;
using namespace rio::testenv;

TEST_CASE("LabelSelector: parses every operator and matches as kube does", "[testenv][selectors]") {
  std::map<std::string, std::string> labels = {{"app", "web"}, {"tier", "front"}, {"n", "5"}};
  auto m = [&](const std::string& text) {
    auto s = LabelSelector::parse(text);
    REQUIRE(s);
    return s->matches(labels);
  };
  CHECK(m(""));
  CHECK(m("app=web"));
  CHECK(m("app == web"));
  CHECK_FALSE(m("app!=web"));
  CHECK(m("missing!=x"));
  CHECK(m("app in (db, web)"));
  CHECK_FALSE(m("app notin (web)"));
  CHECK(m("tier,!missing"));
  CHECK_FALSE(m("!tier"));
  CHECK(m("n>4"));
  CHECK_FALSE(m("n<5"));
  CHECK(m("example.com/x notin (a),app=web"));
  for (const char* bad : {"app=(", "a b=c", "=x", "app in ()", "n>x", "app=bad value!"}) {
    INFO(bad);
    auto s = LabelSelector::parse(bad);
    REQUIRE_FALSE(s);
    CHECK(s.error().message().rfind("unable to parse requirement", 0) == 0);
  }
}

TEST_CASE("LabelSelector: metav1.LabelSelector JSON with matchLabels and matchExpressions",
          "[testenv][selectors]") {
  auto s = LabelSelector::fromJson(nlohmann::json::parse(
      R"({"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"In","values":["front","back"]},{"key":"old","operator":"DoesNotExist"}]})"));
  REQUIRE(s);
  CHECK(s->matches({{"app", "web"}, {"tier", "back"}}));
  CHECK_FALSE(s->matches({{"app", "web"}, {"tier", "back"}, {"old", "1"}}));
  CHECK_FALSE(LabelSelector::fromJson(
      nlohmann::json::parse(R"({"matchExpressions":[{"key":"a","operator":"Near"}]})")));
}

TEST_CASE("FieldSelector: =, == and != over a value function", "[testenv][selectors]") {
  auto s = FieldSelector::parse("metadata.name=a,status.phase!=Failed");
  REQUIRE(s);
  auto value = [](const std::map<std::string, std::string>& v) {
    return [v](const std::string& f) -> std::optional<std::string> {
      auto it = v.find(f);
      return it == v.end() ? std::optional<std::string>("") : it->second;
    };
  };
  CHECK(s->matches(value({{"metadata.name", "a"}, {"status.phase", "Running"}})));
  CHECK_FALSE(s->matches(value({{"metadata.name", "a"}, {"status.phase", "Failed"}})));
  CHECK(s->requiredValue("metadata.name") == std::optional<std::string>("a"));
  CHECK_FALSE(FieldSelector::parse("nonsense"));
}

TEST_CASE("JsonPath: fields, indexes, wildcards and filters as printer columns use them",
          "[testenv][jsonpath]") {
  auto obj = nlohmann::json::parse(R"({
    "metadata": {"name": "w1", "annotations": {"a.b/c": "dots"}},
    "spec": {"size": 4, "containers": [{"name": "a", "image": "x:1"}, {"name": "b", "image": "y:2"}]},
    "status": {"conditions": [{"type": "Synced", "status": "False"}, {"type": "Ready", "status": "True"}]}})");
  auto eval = [&](const std::string& path) {
    auto p = JsonPath::parse(path);
    REQUIRE(p);
    return nlohmann::json(p->evaluate(obj));
  };
  CHECK(eval(".spec.size") == nlohmann::json::array({4}));
  CHECK(eval("{.metadata.name}") == nlohmann::json::array({"w1"}));
  CHECK(eval(".status.conditions[?(@.type==\"Ready\")].status") == nlohmann::json::array({"True"}));
  CHECK(eval(".spec.containers[*].image") == nlohmann::json::array({"x:1", "y:2"}));
  CHECK(eval(".spec.containers[-1].name") == nlohmann::json::array({"b"}));
  CHECK(eval(".metadata.annotations['a.b/c']") == nlohmann::json::array({"dots"}));
  CHECK(eval(".metadata.annotations.a\\.b/c") == nlohmann::json::array({"dots"}));
  CHECK(eval(".spec.containers[?(@.name!='a')].name") == nlohmann::json::array({"b"}));
  CHECK(eval(".status.missing") == nlohmann::json::array());
  CHECK_FALSE(JsonPath::parse(".a..b"));
  CHECK_FALSE(JsonPath::parse(".a[?(@.x ~ 1)]"));
}

TEST_CASE("yamlToJson: typing follows sigs.k8s.io/yaml and errors are reported, not thrown",
          "[testenv][yaml]") {
  auto j = yamlToJson("a: 1\nb: \"1\"\nc: true\nd: 'yes'\ne: ~\nf: [1, 2.5]\ng: hello\nh: 0x1F\n");
  REQUIRE(j);
  CHECK((*j)["a"] == 1);
  CHECK((*j)["b"] == "1");
  CHECK((*j)["c"] == true);
  CHECK((*j)["d"] == "yes");
  CHECK((*j)["e"].is_null());
  CHECK((*j)["f"] == nlohmann::json::parse("[1, 2.5]"));
  CHECK((*j)["g"] == "hello");
  CHECK((*j)["h"] == 31);
  CHECK(yamlToJson(R"({"json": "is yaml"})")->at("json") == "is yaml");
  CHECK_FALSE(yamlToJson("a: [1, 2"));
  CHECK_FALSE(yamlToJson(std::string(1000, '[')));
}

TEST_CASE("humanDuration: kubectl's ages", "[testenv][table]") {
  using namespace std::chrono;
  CHECK(humanDuration(seconds(3)) == "3s");
  CHECK(humanDuration(seconds(119)) == "119s");
  CHECK(humanDuration(seconds(150)) == "2m30s");
  CHECK(humanDuration(minutes(45)) == "45m");
  CHECK(humanDuration(hours(5) + minutes(3)) == "5h3m");
  CHECK(humanDuration(hours(30)) == "30h");
  CHECK(humanDuration(hours(24 * 3 + 4)) == "3d4h");
  CHECK(humanDuration(hours(24 * 400)) == "400d");
  CHECK(humanDuration(seconds(-5)) == "<invalid>");
}

TEST_CASE("Timestamps round-trip in the API's RFC 3339 form", "[testenv][storage]") {
  auto t = parseTimestamp("2026-11-25T18:54:38Z");
  REQUIRE(t);
  CHECK(formatTimestamp(*t) == "2026-11-25T18:54:38Z");
  CHECK(parseTimestamp("2026-01-01T00:00:00.000000Z"));
  CHECK_FALSE(parseTimestamp("yesterday"));
}
